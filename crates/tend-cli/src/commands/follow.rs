//! Following one process over the daemon's events WebSocket, for `tend logs -f` (its bytes)
//! and `tend logs -f --json` (its lines): one connection, and a request for what is new only
//! when an `output` or `exited` event of the process arrives (and once at the start), so a
//! silent process costs no requests. When the socket breaks, the follower asks once and
//! reconnects from the last event it saw (`?since=SEQ`); when it lagged, it asks once.

use std::time::Duration;

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
    if source.fetch(opened).await? {
        return Ok(());
    }
    let mut events = client.events(None).await?;
    let mut last_seq = None;
    // What was written between the first answer and the subscription.
    if source.fetch(opened).await? {
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
            events = client.events(last_seq.map(|seq: u64| seq + 1)).await?;
            if last_seq.is_none() && source.fetch(opened).await? {
                return Ok(());
            }
            continue;
        };
        let mut wake = Wake::default();
        wake.add(wakes(id, &first, &mut last_seq));
        // Take what else has arrived, so one request covers a burst of lines.
        for _ in 0..EVENT_BATCH {
            let Some(Some(event)) = events.ready() else { break };
            wake.add(wakes(id, &event, &mut last_seq));
        }
        if wake.fetch && source.fetch(wake).await? {
            return Ok(());
        }
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
