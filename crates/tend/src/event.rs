//! Events: what happens to managed processes, broadcast to any number of subscribers.
//!
//! Every event carries a service-wide sequence number `seq`. For each process the order is
//! `started` < `output`… < `killed` < `exited`. Publishing never waits for subscribers: a
//! subscriber that falls behind by more than the bus capacity loses the oldest events and is
//! told how many with [`Received::Lagged`].

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use jiff::Timestamp;
use serde::{Serialize, Serializer};
use tokio::sync::broadcast;

use crate::Signal;
use crate::output::Stream;
use crate::process::{ProcessId, Reason, Status};

/// One event about one process.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Service-wide sequence number, increasing in publication order.
    pub seq: u64,
    /// When it was published.
    pub time: Timestamp,
    /// The process it is about.
    pub id: ProcessId,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened, with the details of each kind. Serialised with an `event` tag:
/// `{"event": "output", "stream": "stdout", "line": "hi"}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The process started.
    Started {
        /// Its PID.
        pid: u32,
        /// The program.
        command: String,
        /// Its arguments.
        args: Vec<String>,
    },
    /// One line of output, without its `\n` (a `\r` before it is kept).
    Output {
        /// Which pipe it came from.
        stream: Stream,
        /// The bytes; JSON shows them as text with invalid UTF-8 replaced.
        #[serde(serialize_with = "lossy")]
        line: Bytes,
        /// The line was longer than the maximum: this piece continues in the next event.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        partial: bool,
    },
    /// We ended the process with this signal (published just before `exited`).
    Killed {
        /// The last signal we sent it.
        signal: Signal,
    },
    /// The process was restarted.
    Restarted {
        /// Restart number, from 1.
        attempt: u32,
    },
    /// The process ended, or could not start.
    Exited {
        /// Final status.
        status: Status,
        /// Exit code, if it exited normally.
        exit_code: Option<i32>,
        /// Signal that ended it, if one did.
        signal: Option<Signal>,
        /// Why we ended it, if we did.
        reason: Option<Reason>,
        /// Run time in milliseconds.
        duration_ms: f64,
        /// Why it could not start, if it could not.
        error: Option<String>,
    },
}

fn lossy<S: Serializer>(bytes: &Bytes, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&String::from_utf8_lossy(bytes))
}

/// Default number of event batches the bus keeps for slow subscribers. One batch holds the
/// lines of one read from a pipe (up to 64 KiB), or a single lifecycle event.
pub const DEFAULT_EVENT_CAPACITY: usize = 4096;

/// The broadcast channel and the sequence counter behind it.
#[derive(Debug)]
pub(crate) struct EventBus {
    sender: broadcast::Sender<Arc<[Event]>>,
    next_seq: Mutex<u64>,
}

impl EventBus {
    pub(crate) fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Self { sender, next_seq: Mutex::new(1) }
    }

    /// Whether anyone listens; readers skip building line events when nobody does.
    pub(crate) fn has_subscribers(&self) -> bool {
        self.sender.receiver_count() > 0
    }

    /// Publishes events about one process as one batch, numbering them. The lock makes
    /// numbering and sending one step, so `seq` order is delivery order.
    pub(crate) fn publish(&self, id: ProcessId, kinds: impl IntoIterator<Item = EventKind>) {
        let mut next = self.next_seq.lock().unwrap_or_else(|e| e.into_inner());
        let time = Timestamp::now();
        let batch: Arc<[Event]> = kinds
            .into_iter()
            .map(|kind| {
                let seq = *next;
                *next += 1;
                Event { seq, time, id, kind }
            })
            .collect();
        if !batch.is_empty() {
            // No receivers is fine: nobody wanted these.
            let _ = self.sender.send(batch);
        }
    }

    /// The `seq` of the newest event published, 0 before the first.
    pub(crate) fn last_seq(&self) -> u64 {
        *self.next_seq.lock().unwrap_or_else(|e| e.into_inner()) - 1
    }

    pub(crate) fn subscribe(&self) -> Subscription {
        // Under the numbering lock, so `last_seq` is exactly the last event published before
        // this subscriber existed: nothing before it counts as missed.
        let next = self.next_seq.lock().unwrap_or_else(|e| e.into_inner());
        Subscription { receiver: self.sender.subscribe(), batch: None, at: 0, last_seq: *next - 1 }
    }
}

/// What [`Subscription::recv`] hands out.
#[derive(Debug, Clone)]
pub enum Received {
    /// The next event.
    Event(Event),
    /// The subscriber fell behind and `missed` events were dropped for it; the next call
    /// continues with the oldest event still available.
    Lagged {
        /// How many events this subscriber will never see.
        missed: u64,
    },
}

/// A live feed of the service's events, from the moment of subscribing.
///
/// ```no_run
/// # async fn demo() -> Result<(), tend::Error> {
/// use tend::{Received, Service, StartOptions};
///
/// let service = Service::new();
/// let mut events = service.subscribe();
/// service.start(StartOptions::new("echo").arg("hi"))?;
/// while let Some(received) = events.recv().await {
///     match received {
///         Received::Event(event) => println!("{}", serde_json::to_string(&event).unwrap()),
///         Received::Lagged { missed } => eprintln!("missed {missed} events"),
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Subscription {
    receiver: broadcast::Receiver<Arc<[Event]>>,
    batch: Option<Arc<[Event]>>,
    at: usize,
    last_seq: u64,
}

impl Subscription {
    /// Waits for the next event. `None` once the service is gone and every event was read.
    pub async fn recv(&mut self) -> Option<Received> {
        loop {
            if let Some(batch) = &self.batch {
                if let Some(event) = batch.get(self.at) {
                    self.at += 1;
                    self.last_seq = event.seq;
                    return Some(Received::Event(event.clone()));
                }
                self.batch = None;
            }
            match self.receiver.recv().await {
                Ok(batch) => {
                    self.batch = Some(batch);
                    self.at = 0;
                }
                Err(broadcast::error::RecvError::Closed) => return None,
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // The count above is in batches; report events, from the sequence gap.
                    let next = match self.receiver.recv().await {
                        Ok(batch) => batch,
                        Err(broadcast::error::RecvError::Closed) => return None,
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    };
                    let first = next.first().map_or(self.last_seq + 1, |e| e.seq);
                    let missed = first.saturating_sub(self.last_seq + 1);
                    self.batch = Some(next);
                    self.at = 0;
                    if missed > 0 {
                        if let Some(first_event) = self.batch.as_ref().and_then(|b| b.first()) {
                            self.last_seq = first_event.seq - 1;
                        }
                        return Some(Received::Lagged { missed });
                    }
                }
            }
        }
    }
}
