//! `tend logs --json`: a managed process's output as JSON lines, one object per line of
//! output, `{"seq": N, "stream": "stdout"|"stderr", "line": "..."}` (plus `"partial": true`
//! for a piece of a line longer than the maximum, continued in the next object): the API's
//! [`OutputLine`](tend::wire::OutputLine), in the order the daemon's event log holds them.
//! `-f` prints each line as it arrives until the process ends.
//!
//! The lines come from `GET /processes/{id}/output?since=SEQ` (the event log, which knows each
//! line's stream), not from the byte-exact `format=text` the plain form prints: text that is
//! not UTF-8 is shown with U+FFFD, as JSON strings must be. When the log evicted lines before
//! the first one printed, a note on stderr says how many.

use std::io::Write;
use std::time::Duration;

use tend::ProcessInfo;
use tend::wire::LinesAnswer;

use crate::client::{Client, NO_BODY, process_path};

/// How long `-f` waits before asking again when nothing new came.
const FOLLOW_POLL: Duration = Duration::from_millis(100);

/// Prints the output of `id` as JSON lines; with `follow`, until the process has ended.
pub(crate) async fn run(client: &Client, id: &str, follow: bool) -> anyhow::Result<i32> {
    // Resolve a name or prefix once, so a later process with the same name is not followed.
    let info: ProcessInfo = client.call("GET", &process_path(id, ""), NO_BODY).await?;
    let id = info.id.to_string();
    let mut reader = LineReader::default();
    if !follow {
        reader.print_new(client, &id).await?;
        return Ok(0);
    }
    // The log takes events from the service in a task of its own, so the last lines may
    // reach it a moment after the process is marked ended: one more read, a poll later.
    let mut last_read = false;
    loop {
        // Asked before reading, so every line written before the end is read after it.
        let info: ProcessInfo = client.call("GET", &process_path(&id, ""), NO_BODY).await?;
        let printed = reader.print_new(client, &id).await?;
        if printed {
            continue;
        }
        if info.status.is_finished() {
            if last_read {
                return Ok(0);
            }
            last_read = true;
        }
        tokio::time::sleep(FOLLOW_POLL).await;
    }
}

/// Where a reader of the log is: the next sequence number, and the evicted lines said so far.
#[derive(Debug, Default)]
pub(crate) struct LineReader {
    since: u64,
    dropped: u64,
}

impl LineReader {
    /// Prints every line of `id` the log holds past what was printed; whether there was any.
    pub(crate) async fn print_new(&mut self, client: &Client, id: &str) -> anyhow::Result<bool> {
        let mut printed = false;
        loop {
            let path = process_path(id, &format!("/output?since={}", self.since));
            let page: LinesAnswer = client.call("GET", &path, NO_BODY).await?;
            if page.dropped > self.dropped {
                eprintln!(
                    "tend: {} line(s) of the output of {id} were dropped before what follows \
                     (the daemon's event log keeps only the most recent events)",
                    page.dropped - self.dropped
                );
                self.dropped = page.dropped;
            }
            self.since = page.next_seq;
            if page.lines.is_empty() {
                return Ok(printed);
            }
            let mut out = std::io::stdout().lock();
            for line in &page.lines {
                crate::json_output::line(&mut out, line)?;
            }
            out.flush()?;
            printed = true;
        }
    }
}
