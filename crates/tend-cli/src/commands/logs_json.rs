//! `tend logs --json`: a managed process's output as JSON lines, one object per line of
//! output, `{"seq": N, "stream": "stdout"|"stderr", "line": "..."}` (plus `"partial": true`
//! for a piece of a line longer than the maximum, continued in the next object): the API's
//! [`OutputLine`](tend::wire::OutputLine), in the order the daemon's event log holds them.
//! `-f` prints each line as it arrives until the process ends, woken by the process's events
//! (see [`follow`](super::follow)).
//!
//! The lines come from `GET /processes/{id}/output?since=SEQ` (the event log, which knows each
//! line's stream), not from the byte-exact `format=text` the plain form prints: text that is
//! not UTF-8 is shown with U+FFFD, as JSON strings must be. When the log evicted lines before
//! the first one printed, a note on stderr says how many.

use std::io::Write;
use std::time::Duration;

use tend::ProcessInfo;
use tend::wire::LinesAnswer;

use super::follow::{Source, Wake};
use crate::client::{Client, NO_BODY, process_path};

/// How long the log may take to hold the last lines of a process already ended when the
/// follower looks (it takes events from the service in a task of its own).
const LOG_CATCH_UP: Duration = Duration::from_millis(100);

/// Prints the output of `id` as JSON lines; with `follow`, until the process has ended.
pub(crate) async fn run(client: &Client, id: &str, follow: bool) -> anyhow::Result<i32> {
    // Resolve a name or prefix once, so a later process with the same name is not followed.
    let info: ProcessInfo = client.call("GET", &process_path(id, ""), NO_BODY).await?;
    let id = info.id.to_string();
    let mut lines = Lines { client, id: id.clone(), reader: LineReader::default() };
    if follow {
        super::follow::follow(client, &id, &mut lines).await?;
    } else {
        lines.reader.print_new(client, &id).await?;
    }
    Ok(0)
}

/// `tend logs -f --json`: one process's lines, from the daemon's event log.
struct Lines<'a> {
    client: &'a Client,
    id: String,
    reader: LineReader,
}

impl Source for Lines<'_> {
    async fn fetch(&mut self, wake: Wake) -> anyhow::Result<bool> {
        self.reader.print_new(self.client, &self.id).await?;
        if wake.exited {
            // The socket reads the same log, in order: every line came before `exited`.
            return Ok(true);
        }
        if wake.fetch && !wake.wait {
            return Ok(false);
        }
        // Just connected, or events were missed: it may have ended unseen.
        let info: ProcessInfo =
            self.client.call("GET", &process_path(&self.id, ""), NO_BODY).await?;
        if !info.status.is_finished() {
            return Ok(false);
        }
        tokio::time::sleep(LOG_CATCH_UP).await;
        self.reader.print_new(self.client, &self.id).await?;
        Ok(true)
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
