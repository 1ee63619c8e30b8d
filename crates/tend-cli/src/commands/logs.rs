//! `tend logs`: a managed process's captured output, exactly; `-f` follows it until the
//! process ends.
//!
//! Both print the bytes the process wrote — both streams, in the order they were captured —
//! to stdout, unaltered: `tend logs -f` prints byte for byte what `tend logs` prints once the
//! process has ended. Both read the capture ring (`output?format=text`). Following keeps one
//! connection to the daemon's events WebSocket and asks for the bytes from the next offset
//! (`&offset=N`) only when an `output` or `exited` event of the process arrives (and once at
//! the start), so a silent process costs no requests. When the socket breaks, it asks once and
//! reconnects from the last event it saw (`?since=SEQ`); when it lagged, it asks once. When the
//! ring dropped bytes before the first one shown (it keeps the most recent output of each
//! process), a note on stderr says how many, and whether the first line shown is cut.
//!
//! A line not yet ended by a newline makes no event: it is printed with the next line or when
//! the process ends.
//!
//! The daemon answers from the process's log files (`STATE_DIR/logs/ID.log` and its rotated
//! `ID.log.1` …, or a service's own file) what the ring no longer holds, so `tend logs`
//! prints everything the files hold, joined to the ring exactly (even while the files
//! rotate) for a process that writes one stream or merges stderr into stdout. With two
//! streams the files get each stream's whole lines as they complete, so where files and ring
//! meet, stdout and stderr lines may come in another order (a line may repeat or be
//! missing there). `-n N` prints the last N lines (then follows with `-f`).

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use tend::http::Answer;

use super::follow::{Source, Wake, follow};
use crate::client::{Client, ClientArgs, block_on, process_path};

/// Time bound of one request: the daemon answers a follow request within 10 s.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Arguments of `tend logs`.
#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Id, unique id prefix or name.
    id: String,
    /// Follow the output live until the process ends (its bytes exactly, as without -f),
    /// across rotations and restarts; each restart shows on stderr as
    /// `-- restarted (attempt N) after exit code C --`.
    #[arg(short, long)]
    follow: bool,
    /// Print only the last N lines (with -f: then follow).
    #[arg(short = 'n', long = "tail", value_name = "N", conflicts_with = "json")]
    tail: Option<u64>,
    /// Print JSON lines, one `{seq, stream, line}` object per line of output, instead of the
    /// raw bytes.
    #[arg(long)]
    json: bool,
}

/// Prints the output; exit 0.
pub(crate) fn run(args: LogsArgs) -> anyhow::Result<i32> {
    let client = Client::new(&args.client)?;
    block_on(async {
        if args.json {
            return super::logs_json::run(&client, &args.id, args.follow).await;
        }
        if !args.follow {
            let query = match args.tail {
                Some(lines) => format!("/output?format=text&tail={lines}"),
                None => "/output?format=text".to_owned(),
            };
            let path = process_path(&args.id, &query);
            let response = client.raw("GET", &path, None, REQUEST_TIMEOUT).await?;
            note_dropped(&response, &args.id, 0)?;
            write_out(response.body())?;
            return Ok(0);
        }
        // Resolve a name or prefix once, so a later process with the same name is not followed.
        let info: tend::ProcessInfo =
            client.call("GET", &process_path(&args.id, ""), crate::client::NO_BODY).await?;
        let id = info.id.to_string();
        let mut bytes = Bytes { client: &client, id: id.clone(), offset: 0, tail: args.tail };
        follow(&client, &id, &mut bytes).await?;
        Ok(0)
    })
}

/// `tend logs -f`: one process's bytes, from the offset of the next byte to print.
struct Bytes<'a> {
    client: &'a Client,
    id: String,
    offset: u64,
    /// `-n`: the first request asks for the last lines only.
    tail: Option<u64>,
}

impl Source for Bytes<'_> {
    /// Prints the bytes from `offset` on; `true` when the process has ended and they were the
    /// last. When it may have ended, the daemon first waits (up to 10 s) for new bytes or
    /// the end (`follow=true`): it marks the process ended a moment after the `exited` event.
    async fn fetch(&mut self, wake: Wake) -> anyhow::Result<bool> {
        let query = match self.tail.take() {
            Some(lines) => format!("/output?format=text&tail={lines}"),
            None => format!("/output?format=text&offset={}&follow={}", self.offset, wake.wait),
        };
        let path = process_path(&self.id, &query);
        let response = self.client.raw("GET", &path, None, REQUEST_TIMEOUT).await?;
        let start = note_dropped(&response, &self.id, self.offset)?;
        self.offset = match response.header("x-tend-next-offset") {
            Some(next) => next.parse().with_context(|| {
                format!("the daemon sent a bad x-tend-next-offset header: {next:?}")
            })?,
            None => start + response.body().len() as u64,
        };
        write_out(response.body())?;
        Ok(response.header("x-tend-ended") == Some("true"))
    }
}

/// Says on stderr how many bytes the daemon dropped between `asked` and the body; returns
/// the offset the body starts at.
fn note_dropped(response: &Answer, id: &str, asked: u64) -> anyhow::Result<u64> {
    let number = |name: &str| -> anyhow::Result<u64> {
        response.header(name).map_or(Ok(0), |value| {
            value.parse().with_context(|| format!("the daemon sent a bad {name} header: {value:?}"))
        })
    };
    let dropped = number("x-tend-dropped-bytes")?;
    if dropped > 0 {
        let cut = if response.header("x-tend-cut-line") == Some("true") {
            "; the first line shown is cut"
        } else {
            ""
        };
        eprintln!(
            "tend: {dropped} byte(s) of the output of {id} were dropped before what follows (the \
             daemon keeps only the most recent output of each process){cut}"
        );
    }
    Ok(number("x-tend-offset")?.max(asked))
}

fn write_out(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}
