//! Following one process over the daemon's events WebSocket, for `tend logs -f` (its bytes)
//! and `tend logs -f --json` (its lines): one connection, and a request for what is new only
//! when an `output` or `exited` event of the process arrives (and once at the start), so a
//! silent process costs no requests. When the socket breaks, the follower asks once and
//! reconnects from the last event it saw (`?since=SEQ`); when it lagged, it asks once.
//!
//! Each restart of the process shows on stderr, after the output printed before it, as
//! `-- restarted (attempt 3) after exit code 1 --` (or `after signal SIGKILL`).

use std::time::Duration;

use super::restart_markers::RestartMarkers;
use crate::client::Client;
use crate::client::events::EventHead;

/// Events taken from the socket before asking for what they announce, so a flood of lines
/// costs one request per batch, not per line.
const EVENT_BATCH: usize = 4096;
/// Pause before reconnecting a broken events stream.
const RECONNECT_PAUSE: Duration = Duration::from_millis(100);

/// Why the follower asks its [`Source`] for what is new.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Wake {
    /// The process wrote something, ended, or events were missed. `false`: the stream was
    /// just opened (or reopened), so anything may have happened.
    pub(crate) fetch: bool,
    /// The process may have ended: its `exited` event came, or events were missed.
    pub(crate) wait: bool,
    /// Its `exited` event came.
    pub(crate) exited: bool,
}

impl Wake {
    fn add(&mut self, other: Wake) {
        self.fetch |= other.fetch;
        self.wait |= other.wait;
        self.exited |= other.exited;
    }
}

/// What a follower prints: the bytes or the lines of the process.
pub(crate) trait Source {
    /// Prints what is new; `true` when the process has ended and all of it is printed.
    async fn fetch(&mut self, wake: Wake) -> anyhow::Result<bool>;
}

/// Prints the output of process `id` (a full id) through `source` until it has ended and
/// all of it is printed.
pub(crate) async fn follow(
    client: &Client,
    id: &str,
    source: &mut impl Source,
) -> anyhow::Result<()> {
    let opened = Wake::default();
    let mut markers = RestartMarkers::new(client, id).await?;
    if source.fetch(opened).await? {
        return Ok(());
    }
    let mut events = client.events(None).await?;
    let mut last_seq = None;
    // What was written between the first answer and the subscription.
    let ended = source.fetch(opened).await?;
    print_lines(markers.missed(client).await?);
    if ended {
        return Ok(());
    }
    loop {
        let Some(first) = events.next().await else {
            // The socket broke: ask once, then resume from the last event seen. The pause
            // keeps a daemon that closes every stream at once from being asked in a loop.
            if source.fetch(opened).await? {
                return Ok(());
            }
            tokio::time::sleep(RECONNECT_PAUSE).await;
            print_lines(markers.missed(client).await?);
            events = client.events(last_seq.map(|seq: u64| seq + 1)).await?;
            if last_seq.is_none() && source.fetch(opened).await? {
                return Ok(());
            }
            continue;
        };
        let mut wake = Wake::default();
        let mut restarts = Vec::new();
        let mut lagged = false;
        // Take what else has arrived, so one request covers a burst of lines.
        let mut next = Some(first);
        for _ in 0..=EVENT_BATCH {
            let Some(event) = next.take().or_else(|| events.ready().flatten()) else { break };
            wake.add(wakes(id, &event, &mut last_seq));
            restarts.extend(markers.of(&event));
            lagged |= event.event == "lagged";
        }
        // What the run before printed comes first.
        let ended = (wake.fetch || !restarts.is_empty()) && source.fetch(wake).await?;
        if lagged {
            restarts.extend(markers.missed(client).await?);
        }
        print_lines(restarts);
        if ended {
            return Ok(());
        }
    }
}

fn print_lines(lines: Vec<String>) {
    for line in lines {
        eprintln!("{line}");
    }
}

/// What `event` asks of the follower of `id`; remembers its `seq`.
fn wakes(id: &str, event: &EventHead, last_seq: &mut Option<u64>) -> Wake {
    if let Some(seq) = event.seq {
        *last_seq = Some(seq);
    }
    let ours = event.id.as_deref() == Some(id);
    match event.event.as_str() {
        "lagged" => Wake { fetch: true, wait: true, exited: false },
        "exited" if ours => Wake { fetch: true, wait: true, exited: true },
        "output" if ours => Wake { fetch: true, wait: false, exited: false },
        _ => Wake::default(),
    }
}
