//! Events: what happens to managed processes, broadcast to any number of subscribers.
//!
//! Every event carries a service-wide sequence number `seq`. For each process the order is
//! `started` < `output`… < `killed` < `exited`; a service run by the stack's runner adds
//! `ready` and `not_alive` among its outputs. Publishing never waits for subscribers: a
//! subscriber that falls behind by more than the bus holds loses the oldest events and is
//! told how many with [`Received::Lagged`].
//!
//! # Memory
//!
//! The bus holds the events some subscriber has not read yet, up to
//! [`ServiceConfig::event_capacity`](crate::ServiceConfig::event_capacity) events and about
//! [`ServiceConfig::event_bytes`](crate::ServiceConfig::event_bytes) bytes (defaults
//! [`DEFAULT_EVENT_CAPACITY`] and [`DEFAULT_EVENT_BYTES`]); what every subscriber has read is
//! released at once. Output lines are held as the chunk they were read in plus four bytes a
//! line, and become [`Event`]s only when a subscriber reads them, so a flood of short lines
//! costs little more than its bytes. Each subscriber also holds the batch it is reading (at
//! most one pipe read: 64 KiB and its index).

mod bus;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use jiff::Timestamp;
use serde::{Serialize, Serializer};
use tokio::sync::watch;

pub(crate) use bus::EventBus;
use bus::{Batch, Fetched, Ring};

use crate::Signal;
use crate::output::Stream;
use crate::process::{ProcessId, Reason, Status, duration_from_millis};

/// One event about one process.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
        #[cfg_attr(feature = "schema", schemars(with = "String"))]
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
        /// The exit code of the run that ended before it, if it exited normally.
        #[serde(default)]
        exit_code: Option<i32>,
        /// The signal that ended that run, if one did.
        #[serde(default)]
        signal: Option<Signal>,
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
    /// A service's run became ready: its readiness probe succeeded (at once after the start
    /// without one). Published by the stack's runner for the run's process, between its
    /// `started` and `exited`.
    Ready {
        /// From the run's start to the probe's success, in milliseconds.
        after_ms: f64,
        /// The probe in its written form (`tcp 127.0.0.1:5432`); null when it has none.
        probe: Option<String>,
    },
    /// A service's run failed its liveness checks and is being stopped. Published by the
    /// stack's runner for the run's process, before its `killed` and `exited`.
    NotAlive {
        /// `http://127.0.0.1:8080/health: 500 (3 failures)`.
        reason: String,
    },
}

impl EventKind {
    /// The run time an `exited` event carries (`duration_ms` as a [`Duration`]); `None` for
    /// every other kind. `{:.1?}` prints it rounded.
    ///
    /// ```
    /// # fn show(event: &tend::Event) {
    /// if let Some(took) = event.kind.duration() {
    ///     println!("{} ended after {took:.1?}", event.id);
    /// }
    /// # }
    /// ```
    pub fn duration(&self) -> Option<Duration> {
        match self {
            EventKind::Exited { duration_ms, .. } => Some(duration_from_millis(*duration_ms)),
            _ => None,
        }
    }
}

fn lossy<S: Serializer>(bytes: &Bytes, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&String::from_utf8_lossy(bytes))
}

/// Default bound on the events the bus holds for subscribers that have not read them.
pub const DEFAULT_EVENT_CAPACITY: usize = 1 << 20;

/// Default bound on the bytes the bus holds for subscribers that have not read them: line
/// bytes plus bookkeeping (about a hundred bytes per lifecycle event, four per line).
pub const DEFAULT_EVENT_BYTES: usize = 16 << 20;

/// What the event bus holds now for subscribers that have not read it (see
/// [`Service::event_backlog`](crate::Service::event_backlog)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventBacklog {
    /// Events held.
    pub events: u64,
    /// Bytes they cost, as counted against the byte bound.
    pub bytes: usize,
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

/// A live feed of the service's events, from the moment of subscribing. For the output of one
/// process, replayed from its first line whenever you attach, use
/// [`Process::lines`](crate::Process::lines) instead.
///
/// A subscription never slows the processes: one that does not keep up loses the oldest
/// events it has not read and gets [`Received::Lagged`] saying how many.
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
///         Received::Event(event) => println!("{} {:?}", event.id, event.kind),
///         Received::Lagged { missed } => eprintln!("missed {missed} events"),
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Subscription {
    ring: Arc<Mutex<Ring>>,
    /// Changes when something is published; closed when the service is gone.
    newest: watch::Receiver<u64>,
    key: u64,
    /// The batch being read, and the seq of the next event to hand out.
    batch: Option<Arc<Batch>>,
    next_seq: u64,
}

impl EventBus {
    /// A subscription from the next event published on.
    pub(crate) fn subscribe(&self) -> Subscription {
        let (ring, newest, key, next_seq) = self.register();
        Subscription { ring, newest, key, batch: None, next_seq }
    }
}

impl Subscription {
    /// Waits for the next event. `None` once the service is gone and every event was read.
    pub async fn recv(&mut self) -> Option<Received> {
        loop {
            // What is ready is handed out without touching the watch, whose lock the
            // publisher takes on every publish: per event, that would bounce between cores.
            if let Some(received) = self.try_recv() {
                return Some(received);
            }
            // Mark the newest seen before looking again, so a publish after the look wakes us.
            self.newest.borrow_and_update();
            if let Some(received) = self.try_recv() {
                return Some(received);
            }
            if self.newest.changed().await.is_err() {
                // The service is gone: nothing more can come. What is left, then the end.
                return self.try_recv();
            }
        }
    }

    /// Waits for the next event like [`recv`](Self::recv), then adds it and every further one
    /// ready now to `into`, at most `limit` in all; returns how many it added. 0 once the
    /// service is gone and every event was read (or when `limit` is 0).
    ///
    /// The way to keep up with a flood: one wait, then the rest of the batch a pipe read
    /// published without going back to the scheduler for each line.
    ///
    /// ```no_run
    /// # async fn demo(service: tend::Service) {
    /// let mut events = service.subscribe();
    /// let mut ready = Vec::with_capacity(1024);
    /// while events.recv_many(&mut ready, 1024).await > 0 {
    ///     for received in ready.drain(..) {
    ///         println!("{received:?}");
    ///     }
    /// }
    /// # }
    /// ```
    pub async fn recv_many(&mut self, into: &mut Vec<Received>, limit: usize) -> usize {
        if limit == 0 {
            return 0;
        }
        let Some(first) = self.recv().await else { return 0 };
        into.push(first);
        let mut added = 1;
        while added < limit {
            let Some(received) = self.try_recv() else { break };
            into.push(received);
            added += 1;
        }
        added
    }

    /// The next event if one is ready now, without waiting; `None` if none is.
    #[inline]
    pub fn try_recv(&mut self) -> Option<Received> {
        loop {
            if let Some(batch) = &self.batch {
                if self.next_seq < batch.end() {
                    let event = batch.event(self.next_seq);
                    self.next_seq += 1;
                    return Some(Received::Event(event));
                }
                self.batch = None;
            }
            if let Some(lagged) = self.fetch() {
                return Some(lagged);
            }
            self.batch.as_ref()?;
        }
    }

    /// Takes the next batch into `self.batch`, or reports a gap.
    fn fetch(&mut self) -> Option<Received> {
        let (fetched, trim) = {
            let mut ring = bus::lock(&self.ring);
            let fetched = ring.fetch(self.key, &mut self.next_seq);
            (fetched, ring.take_trim())
        };
        if trim {
            // Outside the lock: publishers never wait for it.
            crate::os::release_free_memory();
        }
        match fetched {
            Fetched::Batch(batch) => self.batch = Some(batch),
            Fetched::Lagged(missed) => return Some(Received::Lagged { missed }),
            Fetched::Nothing => {}
        }
        None
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        bus::lock(&self.ring).unsubscribe(self.key);
    }
}
