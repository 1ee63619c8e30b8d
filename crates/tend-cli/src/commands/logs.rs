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

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use tend::http::Answer;

use crate::client::events::EventHead;
use crate::client::{Client, ClientArgs, block_on, process_path};

/// Time bound of one request: the daemon answers a follow request within 10 s.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Events taken from the socket before asking for the bytes they announce, so a flood of
/// lines costs one request per batch, not per line.
const EVENT_BATCH: usize = 4096;
/// Pause before reconnecting a broken events stream.
const RECONNECT_PAUSE: Duration = Duration::from_millis(100);

/// Arguments of `tend logs`.
#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Id, unique id prefix or name.
    id: String,
    /// Follow the output live until the process ends (its bytes exactly, as without -f).
    #[arg(short, long)]
    follow: bool,
    /// Print JSON lines, one `{seq, stream, line}` object per line of output, instead of the
    /// raw bytes.
    #[arg(long)]
    json: bool,
}

/// What a batch of events asks the follower to do.
#[derive(Debug, Default, Clone, Copy)]
struct Wake {
    /// Ask for the new bytes: the process wrote some, ended, or events were missed.
    fetch: bool,
    /// Let the daemon wait for the end (or new bytes) before answering.
    wait: bool,
}

impl Wake {
    fn add(&mut self, other: Wake) {
        self.fetch |= other.fetch;
        self.wait |= other.wait;
    }
}

/// Prints the output; exit 0.
pub(crate) fn run(args: LogsArgs) -> anyhow::Result<i32> {
    let client = Client::new(&args.client)?;
    block_on(async {
        if args.json {
            return super::logs_json::run(&client, &args.id, args.follow).await;
        }
        if !args.follow {
            let path = process_path(&args.id, "/output?format=text");
            let response = client.raw("GET", &path, None, REQUEST_TIMEOUT).await?;
            note_dropped(&response, &args.id, 0)?;
            write_out(response.body())?;
            return Ok(0);
        }
        // Resolve a name or prefix once, so a later process with the same name is not followed.
        let info: tend::ProcessInfo =
            client.call("GET", &process_path(&args.id, ""), crate::client::NO_BODY).await?;
        let id = info.id.to_string();
        Follower { client: &client, id, offset: 0, last_seq: None }.follow().await?;
        Ok(0)
    })
}

/// `tend logs -f`: one process's bytes, asked for when its events say there are new ones.
struct Follower<'a> {
    client: &'a Client,
    id: String,
    /// The offset of the next byte to print.
    offset: u64,
    /// The sequence number of the last event read, to reconnect from.
    last_seq: Option<u64>,
}

impl Follower<'_> {
    /// Prints the output until the process has ended and all of it is printed.
    async fn follow(&mut self) -> anyhow::Result<()> {
        if self.fetch(false).await? {
            return Ok(());
        }
        let mut events = self.client.events(None).await?;
        // What was written between the first answer and the subscription.
        if self.fetch(false).await? {
            return Ok(());
        }
        loop {
            let Some(first) = events.next().await else {
                // The socket broke: ask once, then resume from the last event seen. The pause
                // keeps a daemon that closes every stream at once from being asked in a loop.
                if self.fetch(false).await? {
                    return Ok(());
                }
                tokio::time::sleep(RECONNECT_PAUSE).await;
                events = self.client.events(self.last_seq.map(|seq| seq + 1)).await?;
                if self.last_seq.is_none() && self.fetch(false).await? {
                    return Ok(());
                }
                continue;
            };
            let mut wake = Wake::default();
            wake.add(self.wakes(&first));
            // Take what else has arrived, so one request covers a burst of lines.
            for _ in 0..EVENT_BATCH {
                let Some(Some(event)) = events.ready() else { break };
                wake.add(self.wakes(&event));
            }
            // After `exited` (or a gap that may have held it), the daemon may mark the
            // process ended a moment later: wait for that (`follow=true` answers as soon as it
            // has, or as soon as there are new bytes) rather than for an event that will not
            // come.
            if wake.fetch && self.fetch(wake.wait).await? {
                return Ok(());
            }
        }
    }

    /// What `event` asks for; remembers its `seq`.
    fn wakes(&mut self, event: &EventHead) -> Wake {
        if let Some(seq) = event.seq {
            self.last_seq = Some(seq);
        }
        let ours = event.id.as_deref() == Some(self.id.as_str());
        match event.event.as_str() {
            "lagged" => Wake { fetch: true, wait: true },
            "exited" if ours => Wake { fetch: true, wait: true },
            "output" if ours => Wake { fetch: true, wait: false },
            _ => Wake::default(),
        }
    }

    /// Prints the bytes from `offset` on; `true` when the process has ended and they were
    /// the last. With `wait`, the daemon first waits (up to 10 s) for new bytes or the end.
    async fn fetch(&mut self, wait: bool) -> anyhow::Result<bool> {
        let query = format!("/output?format=text&offset={}&follow={wait}", self.offset);
        let path = process_path(&self.id, &query);
        let response = self.client.raw("GET", &path, None, REQUEST_TIMEOUT).await?;
        self.offset =
            note_dropped(&response, &self.id, self.offset)? + response.body().len() as u64;
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
