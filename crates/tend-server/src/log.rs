//! The event log: a bounded replay buffer of the service's events.
//!
//! One task reads the service's [`Subscription`](tend::Subscription) and appends here, and
//! never waits for a reader: WebSocket clients and `output?since=` requests *pull* from the
//! log by sequence number. So a slow client costs no memory of its own and never slows a
//! child; when it falls so far behind that its next events were evicted, it is told how many
//! it missed and continues from the oldest event still held.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use axum::extract::ws::Utf8Bytes;

use tend::{Event, EventKind, ProcessId, Received, Service};
use tokio::sync::watch;

/// Default bound on the events the log holds.
pub const DEFAULT_LOG_EVENTS: usize = 100_000;
/// Default bound on the output-line bytes the log holds.
pub const DEFAULT_LOG_BYTES: usize = 32 << 20;

/// Bookkeeping per event beyond its line bytes, for the byte bound.
const EVENT_OVERHEAD: usize = 96;

/// A bounded, shared replay buffer of events. Cheap to clone.
#[derive(Debug, Clone)]
pub struct EventLog {
    inner: Arc<Mutex<LogInner>>,
    /// The sequence number of the newest event appended (0 before any).
    newest: watch::Sender<u64>,
}

/// One held event, and its JSON once a stream client first needed it: serialised once
/// however many clients send it, and never when nobody streams.
#[derive(Debug)]
struct Entry {
    event: Event,
    json: OnceLock<Utf8Bytes>,
}

impl Entry {
    fn json(&self) -> Utf8Bytes {
        self.json
            .get_or_init(|| serde_json::to_string(&self.event).unwrap_or_default().into())
            .clone()
    }
}

impl std::ops::Deref for Entry {
    type Target = Event;

    fn deref(&self) -> &Event {
        &self.event
    }
}

/// A page of events as JSON text, for the WebSocket stream.
#[derive(Debug, Clone, Default)]
pub(crate) struct JsonPage {
    pub(crate) missed: u64,
    pub(crate) messages: Vec<Utf8Bytes>,
    pub(crate) next_seq: u64,
}

#[derive(Debug)]
struct LogInner {
    events: VecDeque<Arc<Entry>>,
    bytes: usize,
    max_events: usize,
    max_bytes: usize,
    /// Per process: output lines evicted, and the seq of the last one.
    evicted: HashMap<ProcessId, (u64, u64)>,
    /// Events evicted in total.
    evicted_total: u64,
    totals: Totals,
}

/// Running totals over every event appended, for `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Totals {
    /// `started` events.
    pub starts: u64,
    /// `exited` events.
    pub exits: u64,
    /// `restarted` events.
    pub restarts: u64,
    /// Bytes of output lines.
    pub output_bytes: u64,
    /// Events held now.
    pub held: u64,
    /// Events evicted so far.
    pub evicted: u64,
    /// Events the log itself missed because its feeder fell behind the service's bus.
    pub feeder_missed: u64,
}

/// A page of events read from the log.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Events before the first returned one that the reader asked for but were evicted (or
    /// never reached the log because its feeder lagged).
    pub missed: u64,
    /// The events, in sequence order.
    pub events: Vec<Event>,
    /// The sequence number to ask for next.
    pub next_seq: u64,
}

fn cost(event: &Event) -> usize {
    EVENT_OVERHEAD
        + match &event.kind {
            EventKind::Output { line, .. } => line.len(),
            _ => 0,
        }
}

impl EventLog {
    /// An empty log bounded by `max_events` events and about `max_bytes` bytes.
    pub fn new(max_events: usize, max_bytes: usize) -> Self {
        let (newest, _) = watch::channel(0);
        let inner = LogInner {
            events: VecDeque::new(),
            bytes: 0,
            max_events: max_events.max(1),
            max_bytes,
            evicted: HashMap::new(),
            evicted_total: 0,
            totals: Totals::default(),
        };
        Self { inner: Arc::new(Mutex::new(inner)), newest }
    }

    fn lock(&self) -> MutexGuard<'_, LogInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the task that feeds the log from `service`'s events. Must be called inside a
    /// Tokio runtime; the task ends when the service is gone.
    pub fn follow(&self, service: &Service) {
        let mut subscription = service.subscribe();
        let log = self.clone();
        tokio::spawn(async move {
            while let Some(received) = subscription.recv().await {
                match received {
                    Received::Event(event) => log.append(event),
                    // The gap shows as a jump in `seq`; readers report it as missed.
                    Received::Lagged { missed } => {
                        tracing::warn!(missed, "event log fell behind the service");
                        log.lock().totals.feeder_missed += missed;
                    }
                }
            }
        });
    }

    /// Appends one event, evicting the oldest beyond the bounds.
    pub fn append(&self, mut event: Event) {
        let seq = event.seq;
        // A line shares the buffer of the read it came from (up to 64 KiB): held for long,
        // one short line would pin the whole buffer. A copy makes the byte bound real.
        if let EventKind::Output { line, .. } = &mut event.kind {
            *line = bytes::Bytes::copy_from_slice(line);
        }
        {
            let mut inner = self.lock();
            inner.bytes += cost(&event);
            match &event.kind {
                EventKind::Started { .. } => inner.totals.starts += 1,
                EventKind::Exited { .. } => inner.totals.exits += 1,
                EventKind::Restarted { .. } => inner.totals.restarts += 1,
                EventKind::Output { line, .. } => inner.totals.output_bytes += line.len() as u64,
                _ => {}
            }
            inner.events.push_back(Arc::new(Entry { event, json: OnceLock::new() }));
            while inner.events.len() > inner.max_events
                || (inner.bytes > inner.max_bytes && inner.events.len() > 1)
            {
                let Some(old) = inner.events.pop_front() else { break };
                inner.bytes -= cost(&old);
                inner.evicted_total += 1;
                match &old.kind {
                    EventKind::Output { .. } => {
                        let entry = inner.evicted.entry(old.id).or_default();
                        entry.0 += 1;
                        entry.1 = old.seq;
                    }
                    // Nothing of a process older than its exit is still wanted per process.
                    EventKind::Exited { .. } => {
                        inner.evicted.remove(&old.id);
                    }
                    _ => {}
                }
            }
        }
        self.newest.send_replace(seq);
    }

    /// A receiver that changes whenever an event is appended.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.newest.subscribe()
    }

    /// The newest sequence number appended (0 before any).
    pub fn newest_seq(&self) -> u64 {
        *self.newest.borrow()
    }

    /// Totals over every event appended.
    pub fn totals(&self) -> Totals {
        let inner = self.lock();
        Totals { held: inner.events.len() as u64, evicted: inner.evicted_total, ..inner.totals }
    }

    /// Up to `limit` events with `seq >= since`.
    pub fn read(&self, since: u64, limit: usize) -> Page {
        let inner = self.lock();
        let start = inner.events.partition_point(|e| e.seq < since);
        let events: Vec<Event> =
            inner.events.range(start..).take(limit).map(|e| e.event.clone()).collect();
        // Every held event below `since` was skipped on purpose; a gap between `since` and the
        // first held one was evicted (or never reached the log).
        let missed = events.first().map_or(0, |first| first.seq.saturating_sub(since.max(1)));
        let next_seq = events.last().map_or(since.max(1), |e| e.seq + 1);
        Page { missed, events, next_seq: next_seq.max(since) }
    }

    /// Like [`read`](Self::read), as JSON text: each event is serialised once, by the first
    /// reader that needs it.
    pub(crate) fn read_json(&self, since: u64, limit: usize) -> JsonPage {
        // Under the lock only take references: the stream threads run at low priority, and
        // one preempted while holding the lock would stall the feeder behind it.
        let entries: Vec<Arc<Entry>> = {
            let inner = self.lock();
            let start = inner.events.partition_point(|e| e.seq < since);
            inner.events.range(start..).take(limit).cloned().collect()
        };
        let mut page = JsonPage { next_seq: since.max(1), ..JsonPage::default() };
        if let (Some(first), Some(last)) = (entries.first(), entries.last()) {
            page.missed = first.seq.saturating_sub(since.max(1));
            page.next_seq = last.seq + 1;
        }
        page.messages = entries.iter().map(|entry| entry.json()).collect();
        page
    }

    /// Output events of process `id` with `seq >= since` (at most `limit`), the seq to ask
    /// for next, and how many of its lines after `since` were evicted (at most).
    pub fn lines(&self, id: ProcessId, since: u64, limit: usize) -> (Vec<Event>, u64, u64) {
        let inner = self.lock();
        let start = inner.events.partition_point(|e| e.seq < since);
        let mut lines = Vec::new();
        let mut next_seq = since.max(1);
        for event in inner.events.range(start..) {
            next_seq = event.seq + 1;
            if event.id == id && matches!(event.kind, EventKind::Output { .. }) {
                lines.push(event.event.clone());
                if lines.len() >= limit {
                    break;
                }
            }
        }
        let dropped = match inner.evicted.get(&id) {
            Some(&(count, last)) if last >= since => count,
            _ => 0,
        };
        (lines, next_seq, dropped)
    }
}
