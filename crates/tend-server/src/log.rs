//! The event log: a bounded replay buffer of the service's events.
//!
//! One task reads the service's [`Subscription`](tend::Subscription) and appends here, and
//! never waits for a reader: WebSocket clients and `output?since=` requests *pull* from the
//! log by sequence number. So a slow client costs no memory of its own and never slows a
//! child; when it falls so far behind that its next events were evicted, it is told how many
//! it missed and continues from the oldest event still held.
//!
//! The log numbers what it holds: process events (rewritten as they arrive) and the
//! pipeline events the server's runs append share one increasing `seq`. Events the feeder
//! missed (it fell behind the service's bus) leave a gap of their number, so readers still
//! see that something was missed.
//!
//! # Memory
//!
//! At most `max_events` events and about `max_bytes` bytes, counting each event's line bytes
//! plus its bookkeeping (the entry, its reference counts, its slot and the allocator's
//! header), so the bound is the memory really held. Per process, the number of its lines evicted is kept
//! after its own events are gone (for `dropped`), for up to 10,000 processes. Removing a
//! process's record drops its events at once ([`EventLog::forget`]).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use axum::extract::ws::Utf8Bytes;
use bytes::BytesMut;

use serde_json::{Map, Value};
use tend::{Event, EventKind, ProcessId, Received, Service};
use tokio::sync::watch;

/// Default bound on the events the log holds.
pub const DEFAULT_LOG_EVENTS: usize = 100_000;
/// Default bound on the bytes the log holds: line bytes plus bookkeeping per event.
pub const DEFAULT_LOG_BYTES: usize = 32 << 20;

/// Memory per event beyond its line bytes, for the byte bound: the entry, its `Arc` counts
/// and its slot in the deque, plus what the allocator adds to each block.
const EVENT_OVERHEAD: usize = size_of::<Entry>() + 2 * size_of::<usize>() + size_of::<usize>() + 16;

/// Processes whose evicted-line counts are kept (about 40 bytes each).
const MAX_EVICTION_COUNTS: usize = 10_000;

/// Bytes a [`forget`](EventLog::forget) must free before the allocator is asked to give free
/// memory back to the OS.
const FREED_BEFORE_TRIM: usize = 1 << 20;

/// Events the feeder takes from the service per lock of the log.
const FEED_BATCH: usize = 1024;

/// A bounded, shared replay buffer of events. Cheap to clone.
#[derive(Debug, Clone)]
pub struct EventLog {
    inner: Arc<Mutex<LogInner>>,
    /// The sequence number of the newest event appended (0 before any).
    newest: watch::Sender<u64>,
}

/// One held event, and its JSON once a stream client first needed it: serialised once
/// however many clients send it, and never when nobody streams. A pipeline event is held as
/// its JSON only.
#[derive(Debug)]
struct Entry {
    seq: u64,
    body: Body,
    json: OnceLock<Utf8Bytes>,
}

#[derive(Debug)]
enum Body {
    /// A process event from the service (its `seq` rewritten to the log's).
    Process(Event),
    /// A pipeline event: its JSON is set when it is appended.
    Pipeline,
}

impl Entry {
    fn json(&self) -> Utf8Bytes {
        self.json
            .get_or_init(|| match &self.body {
                Body::Process(event) => serde_json::to_string(event).unwrap_or_default().into(),
                Body::Pipeline => Utf8Bytes::from_static("{}"),
            })
            .clone()
    }

    fn process(&self) -> Option<&Event> {
        match &self.body {
            Body::Process(event) => Some(event),
            Body::Pipeline => None,
        }
    }

    fn cost(&self) -> usize {
        EVENT_OVERHEAD
            + match &self.body {
                Body::Process(event) => match &event.kind {
                    EventKind::Output { line, .. } => line.len(),
                    _ => 0,
                },
                Body::Pipeline => self.json.get().map_or(0, |j| j.len()),
            }
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
    /// The sequence number given to the newest event (0 before any).
    last_seq: u64,
    /// Processes removed while the feeder was behind: their events still arriving from the
    /// service, up to the service's `seq` given here, are dropped. One entry per removed
    /// process whose events are in transit, gone once the feeder passes that `seq`.
    forgotten: HashMap<ProcessId, u64>,
}

impl LogInner {
    /// Holds `entry`, evicts the oldest beyond the bounds, and returns its seq.
    fn push(&mut self, entry: Entry) -> u64 {
        let seq = entry.seq;
        self.bytes += entry.cost();
        self.events.push_back(Arc::new(entry));
        // Output lines evicted, counted per run of one process's lines.
        let mut run: Option<(ProcessId, u64, u64)> = None;
        while self.events.len() > self.max_events
            || (self.bytes > self.max_bytes && self.events.len() > 1)
        {
            let Some(old) = self.events.pop_front() else { break };
            self.bytes -= old.cost();
            self.evicted_total += 1;
            let Some(event) = old.process() else { continue };
            if let EventKind::Output { .. } = &event.kind {
                match &mut run {
                    Some((id, count, last)) if *id == event.id => {
                        *count += 1;
                        *last = old.seq;
                    }
                    _ => {
                        self.count_evicted(run.take());
                        run = Some((event.id, 1, old.seq));
                    }
                }
            }
        }
        self.count_evicted(run);
        seq
    }

    /// Adds a run of evicted lines to its process's count. The counts outlive the process's
    /// own events (a quiet process's `exited` goes with its lines), up to
    /// [`MAX_EVICTION_COUNTS`] processes: beyond that, the half whose lines were evicted
    /// longest ago are forgotten.
    fn count_evicted(&mut self, run: Option<(ProcessId, u64, u64)>) {
        let Some((id, count, last)) = run else { return };
        let entry = self.evicted.entry(id).or_default();
        entry.0 += count;
        entry.1 = last;
        if self.evicted.len() > MAX_EVICTION_COUNTS {
            let mut lasts: Vec<u64> = self.evicted.values().map(|&(_, last)| last).collect();
            let (_, &mut median, _) = lasts.select_nth_unstable(MAX_EVICTION_COUNTS / 2);
            self.evicted.retain(|_, &mut (_, last)| last >= median);
        }
    }

    /// Appends one process event, renumbered in the log's sequence.
    fn append(&mut self, mut event: Event) {
        if let Some(&until) = self.forgotten.get(&event.id) {
            self.totals.followed_seq = event.seq;
            if event.seq >= until {
                self.forgotten.remove(&event.id);
            }
            return;
        }
        // A line shares the buffer of the read it came from (up to 64 KiB): held for long,
        // one short line would pin the whole buffer. A copy makes the byte bound real.
        if let EventKind::Output { line, .. } = &mut event.kind {
            *line = bytes::Bytes::copy_from_slice(line);
        }
        match &event.kind {
            EventKind::Started { .. } => self.totals.starts += 1,
            EventKind::Exited { .. } => self.totals.exits += 1,
            EventKind::Restarted { .. } => self.totals.restarts += 1,
            EventKind::Output { line, .. } => self.totals.output_bytes += line.len() as u64,
            _ => {}
        }
        self.totals.followed_seq = event.seq;
        self.last_seq += 1;
        event.seq = self.last_seq;
        let entry = Entry { seq: event.seq, body: Body::Process(event), json: OnceLock::new() };
        self.push(entry);
    }
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
    /// Bytes they cost now, as counted against the byte bound.
    pub held_bytes: u64,
    /// Events evicted so far.
    pub evicted: u64,
    /// Events the log itself missed because its feeder fell behind the service's bus.
    pub feeder_missed: u64,
    /// The service's `seq` of the newest process event appended; the service's
    /// [`last_seq`](tend::Service::last_seq) minus this is how far the log is behind.
    pub followed_seq: u64,
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
            last_seq: 0,
            forgotten: HashMap::new(),
        };
        Self { inner: Arc::new(Mutex::new(inner)), newest }
    }

    fn lock(&self) -> MutexGuard<'_, LogInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the task that feeds the log from `service`'s events. Must be called inside a
    /// Tokio runtime; the task ends when the service is gone.
    ///
    /// The task takes whatever events are ready at once (up to `FEED_BATCH`, 1024) and appends
    /// them under one lock, so a flood costs one lock and one wake-up of the readers per
    /// batch rather than per line.
    pub fn follow(&self, service: &Service) {
        let mut subscription = service.subscribe();
        let log = self.clone();
        tokio::spawn(async move {
            let mut ready = Vec::with_capacity(FEED_BATCH);
            while subscription.recv_many(&mut ready, FEED_BATCH).await > 0 {
                log.take_in(ready.drain(..));
            }
        });
    }

    /// Appends events and gaps from the service in order, under one lock.
    fn take_in(&self, received: impl Iterator<Item = Received>) {
        let seq = {
            let mut inner = self.lock();
            for received in received {
                match received {
                    Received::Event(event) => inner.append(event),
                    // The gap shows as a jump in `seq`; readers report it as missed.
                    Received::Lagged { missed } => {
                        tracing::debug!(missed, "event log fell behind the service");
                        inner.totals.feeder_missed += missed;
                        inner.last_seq += missed;
                    }
                }
            }
            let followed = inner.totals.followed_seq;
            inner.forgotten.retain(|_, &mut until| until > followed);
            inner.last_seq
        };
        self.announce(seq);
    }

    /// Appends one process event, evicting the oldest beyond the bounds. The log numbers
    /// what it holds itself (process and pipeline events in one sequence), so `event.seq` is
    /// replaced by the log's next sequence number.
    pub fn append(&self, event: Event) {
        let seq = {
            let mut inner = self.lock();
            inner.append(event);
            inner.last_seq
        };
        self.announce(seq);
    }

    /// Appends a pipeline event `{"seq", "time", "event": kind, ...fields}`; returns its seq.
    pub(crate) fn append_pipeline(&self, kind: &str, mut fields: Map<String, Value>) -> u64 {
        fields.insert("event".into(), Value::String(kind.to_owned()));
        fields.insert("time".into(), Value::String(jiff::Timestamp::now().to_string()));
        // Serialised outside the lock; only the seq is spliced in under it.
        let rest = Value::Object(fields).to_string();
        let seq = {
            let mut inner = self.lock();
            inner.last_seq += 1;
            let seq = inner.last_seq;
            let json = format!("{{\"seq\":{seq},{}", &rest[1..]);
            let entry =
                Entry { seq, body: Body::Pipeline, json: OnceLock::from(Utf8Bytes::from(json)) };
            inner.push(entry)
        };
        self.announce(seq);
        seq
    }

    /// Tells waiting readers about `seq`. Appenders race to here after the lock, so the
    /// newest seq only ever grows.
    fn announce(&self, seq: u64) {
        self.newest.send_if_modified(|newest| {
            let newer = seq > *newest;
            if newer {
                *newest = seq;
            }
            newer
        });
    }

    /// Drops every event of process `id` and its evicted-line count: called when its record
    /// is removed, so a removed flood gives its memory back at once instead of when newer
    /// events push it out. A reader that asks for those events afterwards is told they were
    /// missed, as if evicted.
    ///
    /// `published` is the service's [`last_seq`](Service::last_seq) once the process was
    /// over: when the log is behind the service, the events of `id` it has yet to take in
    /// (up to that `seq`) are dropped as they arrive rather than refilling the log with a
    /// removed process's output.
    pub fn forget(&self, id: ProcessId, published: u64) {
        {
            let mut inner = self.lock();
            if published > inner.totals.followed_seq {
                inner.forgotten.insert(id, published);
            }
        }
        let freed = self.drop_events_of(id);
        if freed >= FREED_BEFORE_TRIM {
            tend::release_free_memory();
        }
    }

    /// Drops every event of `id`; returns the bytes that frees.
    fn drop_events_of(&self, id: ProcessId) -> usize {
        let mut inner = self.lock();
        let before = inner.events.len();
        let mut freed = 0;
        inner.events.retain(|entry| {
            let keep = entry.process().is_none_or(|event| event.id != id);
            if !keep {
                freed += entry.cost();
            }
            keep
        });
        inner.bytes -= freed;
        inner.evicted_total += (before - inner.events.len()) as u64;
        inner.evicted.remove(&id);
        if inner.events.capacity() > 2 * inner.events.len().max(1024) {
            inner.events.shrink_to_fit();
        }
        freed
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
        Totals {
            held: inner.events.len() as u64,
            held_bytes: inner.bytes as u64,
            evicted: inner.evicted_total,
            ..inner.totals
        }
    }

    /// Up to `limit` process events with `seq >= since` (pipeline events are skipped: they
    /// are only sent as JSON, on the WebSocket stream).
    pub fn read(&self, since: u64, limit: usize) -> Page {
        let inner = self.lock();
        let start = inner.events.partition_point(|e| e.seq < since);
        let entries: Vec<&Arc<Entry>> = inner.events.range(start..).take(limit).collect();
        // Every held event below `since` was skipped on purpose; a gap between `since` and the
        // first held one was evicted (or never reached the log).
        let missed = entries.first().map_or(0, |first| first.seq.saturating_sub(since.max(1)));
        let next_seq = entries.last().map_or(since.max(1), |e| e.seq + 1);
        let events = entries.iter().filter_map(|e| e.process().cloned()).collect();
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
        page.messages = contiguous(entries.iter().map(|entry| entry.json()));
        page
    }

    /// Output events of process `id` with `seq >= since` (at most `limit`), the seq to ask
    /// for next, and how many of its lines after `since` were evicted (at most).
    pub fn lines(&self, id: ProcessId, since: u64, limit: usize) -> (Vec<Event>, u64, u64) {
        let inner = self.lock();
        let start = inner.events.partition_point(|e| e.seq < since);
        let mut lines = Vec::new();
        let mut next_seq = since.max(1);
        for entry in inner.events.range(start..) {
            next_seq = entry.seq + 1;
            let Some(event) = entry.process() else { continue };
            if event.id == id && matches!(event.kind, EventKind::Output { .. }) {
                lines.push(event.clone());
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

/// The messages copied into one allocation, each a slice of it. A client that stops reading
/// holds its page until it reads again; one block per client, rather than hundreds of small
/// strings shared with the log, lets the allocator give back the pages the log frees when a
/// process is removed.
fn contiguous(messages: impl Iterator<Item = Utf8Bytes>) -> Vec<Utf8Bytes> {
    let messages: Vec<Utf8Bytes> = messages.collect();
    let mut joined = BytesMut::with_capacity(messages.iter().map(|m| m.len()).sum());
    let mut ends = Vec::with_capacity(messages.len());
    for message in &messages {
        joined.extend_from_slice(message.as_bytes());
        ends.push(joined.len());
    }
    let joined = joined.freeze();
    let mut start = 0;
    ends.into_iter()
        .map(|end| {
            let slice = joined.slice(start..end);
            start = end;
            // Each slice is one whole message that was UTF-8 already.
            Utf8Bytes::try_from(slice).unwrap_or_default()
        })
        .collect()
}
