//! The event bus: a ring of event batches bounded in events and bytes, read by any number of
//! subscribers through their own cursors.
//!
//! Why not a broadcast channel: a broadcast channel bounds the number of *values*, and keeps
//! each until its slot is overwritten, so its memory is its capacity times the biggest value
//! — with a batch per pipe read, unbounded in practice (one 64 KiB read of empty lines is
//! 65,536 events). Here every batch is costed in bytes when it is published, the oldest are
//! evicted beyond the bounds (subscribers that had not read them are told how many events
//! they missed), and a batch every subscriber has read is released at once, so an idle bus
//! holds nothing.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use jiff::Timestamp;
use tokio::sync::watch;

use super::{Event, EventBacklog, EventKind};
use crate::output::LineBatch;
use crate::process::ProcessId;

/// Bytes released by the ring after which, once it is empty (a burst is over), the allocator
/// is asked to give free memory back to the OS.
const TRIM_AFTER: usize = 64 << 20;

/// Bookkeeping per batch beyond its events, for the byte bound.
const BATCH_OVERHEAD: usize = size_of::<Batch>() + 2 * size_of::<usize>() + size_of::<usize>();

/// Events published together about one process, numbered from `first_seq`.
#[derive(Debug)]
pub(crate) struct Batch {
    first_seq: u64,
    time: Timestamp,
    id: ProcessId,
    body: Body,
}

#[derive(Debug)]
enum Body {
    /// Events made up front: lifecycle events, or the last line of a stream.
    Kinds(Box<[EventKind]>),
    /// Output lines of one read, made into events only when read.
    Lines(LineBatch),
}

impl Batch {
    fn len(&self) -> u64 {
        match &self.body {
            Body::Kinds(kinds) => kinds.len() as u64,
            Body::Lines(lines) => lines.len() as u64,
        }
    }

    /// The seq after its last event.
    pub(super) fn end(&self) -> u64 {
        self.first_seq + self.len()
    }

    /// The event numbered `seq`, which must lie in this batch.
    #[inline]
    pub(super) fn event(&self, seq: u64) -> Event {
        let index = (seq - self.first_seq) as usize;
        let kind = match &self.body {
            Body::Kinds(kinds) => kinds[index].clone(),
            Body::Lines(lines) => {
                let (line, partial) = lines.get(index);
                EventKind::Output { stream: lines.stream(), line, partial }
            }
        };
        Event { seq, time: self.time, id: self.id, kind }
    }

    /// Heap memory it keeps alive, in bytes.
    fn cost(&self) -> usize {
        BATCH_OVERHEAD
            + match &self.body {
                Body::Kinds(kinds) => kinds
                    .iter()
                    .map(|kind| {
                        size_of::<EventKind>()
                            + match kind {
                                EventKind::Output { line, .. } => line.len(),
                                _ => 0,
                            }
                    })
                    .sum(),
                Body::Lines(lines) => lines.heap_bytes(),
            }
    }
}

/// What a subscriber finds when it looks for its next event.
pub(super) enum Fetched {
    /// The batch holding it.
    Batch(Arc<Batch>),
    /// It was evicted: this many events are gone, and the cursor moved past them.
    Lagged(u64),
    /// Not published yet.
    Nothing,
}

#[derive(Debug)]
pub(super) struct Ring {
    batches: VecDeque<Arc<Batch>>,
    /// The seq the next event will get.
    next_seq: u64,
    events: u64,
    bytes: usize,
    max_events: u64,
    max_bytes: usize,
    /// Per subscriber: the first seq it has not taken from the ring yet.
    cursors: HashMap<u64, u64>,
    next_subscriber: u64,
    /// Bytes released since the allocator was last asked to trim.
    released: usize,
}

impl Ring {
    fn oldest_seq(&self) -> u64 {
        self.batches.front().map_or(self.next_seq, |b| b.first_seq)
    }

    fn push(&mut self, batch: Batch) {
        self.events += batch.len();
        self.bytes += batch.cost();
        self.batches.push_back(Arc::new(batch));
        // The newest batch always stays, so one event larger than the bounds still goes out.
        while (self.events > self.max_events || self.bytes > self.max_bytes)
            && self.batches.len() > 1
        {
            self.pop_front();
        }
        self.release_read();
    }

    fn pop_front(&mut self) {
        if let Some(old) = self.batches.pop_front() {
            self.events -= old.len();
            let cost = old.cost();
            self.bytes -= cost;
            self.released += cost;
        }
    }

    /// Whether a burst just ended: the ring is empty after releasing a lot. Asking the
    /// allocator to trim then is what brings the daemon's resident size back down.
    pub(super) fn take_trim(&mut self) -> bool {
        let due = self.batches.is_empty() && self.released >= TRIM_AFTER;
        if due {
            self.released = 0;
        }
        due
    }

    /// Drops the batches every subscriber has taken (all of them when nobody subscribes).
    fn release_read(&mut self) {
        let slowest = self.cursors.values().copied().min().unwrap_or(self.next_seq);
        while self.batches.front().is_some_and(|b| b.end() <= slowest) {
            self.pop_front();
        }
    }

    /// Finds the batch holding `*next` for subscriber `key`, moving `*next` past a gap.
    pub(super) fn fetch(&mut self, key: u64, next: &mut u64) -> Fetched {
        let oldest = self.oldest_seq();
        if *next < oldest {
            let missed = oldest - *next;
            *next = oldest;
            self.cursors.insert(key, oldest);
            return Fetched::Lagged(missed);
        }
        let at = self.batches.partition_point(|b| b.end() <= *next);
        match self.batches.get(at).cloned() {
            Some(batch) => {
                self.cursors.insert(key, batch.end());
                self.release_read();
                Fetched::Batch(batch)
            }
            None => {
                self.cursors.insert(key, *next);
                self.release_read();
                Fetched::Nothing
            }
        }
    }

    pub(super) fn unsubscribe(&mut self, key: u64) {
        self.cursors.remove(&key);
        self.release_read();
    }
}

/// The bus: the ring, and a watch that wakes subscribers when something is published.
/// Dropping the bus ends every subscription once it has read what is left.
#[derive(Debug)]
pub(crate) struct EventBus {
    ring: Arc<Mutex<Ring>>,
    newest: watch::Sender<u64>,
}

pub(super) fn lock(ring: &Mutex<Ring>) -> MutexGuard<'_, Ring> {
    ring.lock().unwrap_or_else(|e| e.into_inner())
}

impl EventBus {
    /// A bus holding at most `max_events` events and about `max_bytes` bytes of them for
    /// subscribers that have not read them yet.
    pub(crate) fn new(max_events: usize, max_bytes: usize) -> Self {
        let ring = Ring {
            batches: VecDeque::new(),
            next_seq: 1,
            events: 0,
            bytes: 0,
            max_events: max_events.max(1) as u64,
            max_bytes,
            cursors: HashMap::new(),
            next_subscriber: 0,
            released: 0,
        };
        Self { ring: Arc::new(Mutex::new(ring)), newest: watch::Sender::new(0) }
    }

    /// Whether anyone listens; readers skip building line events when nobody does.
    pub(crate) fn has_subscribers(&self) -> bool {
        self.newest.receiver_count() > 0
    }

    /// Publishes events about one process as one batch, numbering them. Numbering and
    /// appending happen under one lock, so `seq` order is delivery order. Never waits for
    /// subscribers.
    pub(crate) fn publish(&self, id: ProcessId, kinds: impl IntoIterator<Item = EventKind>) {
        let kinds: Box<[EventKind]> = kinds.into_iter().collect();
        if !kinds.is_empty() {
            self.append(id, Body::Kinds(kinds));
        }
    }

    /// Publishes the output lines of one read as one batch.
    pub(crate) fn publish_lines(&self, id: ProcessId, mut lines: LineBatch) {
        if lines.len() > 0 {
            lines.shrink();
            self.append(id, Body::Lines(lines));
        }
    }

    fn append(&self, id: ProcessId, body: Body) {
        let time = Timestamp::now();
        let last = {
            let mut ring = lock(&self.ring);
            let batch = Batch { first_seq: ring.next_seq, time, id, body };
            ring.next_seq = batch.end();
            ring.push(batch);
            ring.next_seq - 1
        };
        // Publishers race to here after the lock; the newest seq only ever grows.
        self.newest.send_if_modified(|newest| {
            let newer = last > *newest;
            *newest = last.max(*newest);
            newer
        });
    }

    /// The `seq` of the newest event published, 0 before the first.
    pub(crate) fn last_seq(&self) -> u64 {
        lock(&self.ring).next_seq - 1
    }

    /// What it holds now.
    pub(crate) fn backlog(&self) -> EventBacklog {
        let ring = lock(&self.ring);
        EventBacklog { events: ring.events, bytes: ring.bytes }
    }

    /// A new subscriber's ring, wake-up receiver, key and first seq: the next one published.
    pub(super) fn register(&self) -> (Arc<Mutex<Ring>>, watch::Receiver<u64>, u64, u64) {
        let mut ring = lock(&self.ring);
        let key = ring.next_subscriber;
        ring.next_subscriber += 1;
        let next = ring.next_seq;
        ring.cursors.insert(key, next);
        (self.ring.clone(), self.newest.subscribe(), key, next)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::Received;
    use crate::output::{LineSplitter, Stream};

    /// A batch of `count` empty lines, as the reader publishes it.
    fn empty_lines(count: usize) -> LineBatch {
        let chunk = Bytes::from(vec![b'\n'; count]);
        let mut batch = LineBatch::new(Stream::Stdout, chunk.clone());
        LineSplitter::new(100).split(&chunk, |piece, partial| batch.add(piece, partial));
        batch
    }

    fn held(bus: &EventBus) -> (usize, u64, usize) {
        let batches = lock(&bus.ring).batches.len();
        let backlog = bus.backlog();
        (batches, backlog.events, backlog.bytes)
    }

    #[test]
    fn nothing_is_held_without_subscribers_or_once_all_have_read() {
        let bus = EventBus::new(1 << 20, 16 << 20);
        let id = ProcessId::new();
        bus.publish_lines(id, empty_lines(1000));
        assert_eq!(held(&bus), (0, 0, 0), "nobody subscribes: nothing kept");

        let (mut first, mut second) = (bus.subscribe(), bus.subscribe());
        bus.publish_lines(id, empty_lines(1000));
        bus.publish(id, [EventKind::Restarted { attempt: 1, exit_code: Some(1), signal: None }]);
        for _ in 0..1001 {
            assert!(matches!(first.try_recv(), Some(Received::Event(_))));
        }
        assert!(first.try_recv().is_none());
        assert_eq!(held(&bus).0, 2, "the second subscriber has read nothing yet");
        for seq in 1001..=2001 {
            let Some(Received::Event(event)) = second.try_recv() else { panic!("event {seq}") };
            assert_eq!(event.seq, seq);
        }
        assert_eq!(held(&bus), (0, 0, 0), "read by everyone: released");
        assert_eq!(bus.last_seq(), 2001);
        drop(first);
        drop(second);
        assert!(!bus.has_subscribers());
    }

    #[test]
    fn a_slow_subscriber_loses_the_oldest_beyond_the_byte_bound_and_is_told_exactly() {
        // 64 KiB of empty lines per batch costs 64 KiB of chunk and 256 KiB of line ends.
        let bus = EventBus::new(usize::MAX, 1 << 20);
        let id = ProcessId::new();
        let mut slow = bus.subscribe();
        for _ in 0..100 {
            bus.publish_lines(id, empty_lines(64 * 1024));
            let (_, _, bytes) = held(&bus);
            assert!(bytes <= (1 << 20) + 400 * 1024, "{bytes} bytes held");
        }
        let Some(Received::Lagged { missed }) = slow.try_recv() else { panic!("no lag") };
        let (_, events, _) = held(&bus);
        assert_eq!(missed + events, 100 * 64 * 1024, "every event read or counted");
        let Some(Received::Event(event)) = slow.try_recv() else { panic!("no event") };
        assert_eq!(event.seq, missed + 1, "continues right after the gap");
    }

    #[tokio::test]
    async fn recv_many_takes_what_is_ready_in_order_up_to_its_limit_and_reports_gaps() {
        let bus = EventBus::new(usize::MAX, 1 << 20);
        let id = ProcessId::new();
        let mut events = bus.subscribe();
        bus.publish_lines(id, empty_lines(1000));
        bus.publish_lines(id, empty_lines(1000));
        let mut ready = Vec::new();
        assert_eq!(events.recv_many(&mut ready, 1500).await, 1500, "across two batches");
        assert_eq!(events.recv_many(&mut ready, 1500).await, 500, "only what is ready");
        let seqs: Vec<u64> = ready
            .iter()
            .map(|received| match received {
                Received::Event(event) => event.seq,
                Received::Lagged { .. } => panic!("nothing was evicted"),
            })
            .collect();
        assert_eq!(seqs, (1..=2000).collect::<Vec<_>>());
        assert_eq!(events.recv_many(&mut ready, 0).await, 0);

        // Past the byte bound: the gap first, exactly, then the events still held.
        for _ in 0..40 {
            bus.publish_lines(id, empty_lines(64 * 1024));
        }
        ready.clear();
        assert!(events.recv_many(&mut ready, usize::MAX).await > 1);
        let Received::Lagged { missed } = ready[0] else { panic!("no gap reported first") };
        assert_eq!(missed + ready.len() as u64 - 1, 40 * 64 * 1024, "every event read or counted");
        drop(bus);
        ready.clear();
        assert_eq!(events.recv_many(&mut ready, 10).await, 0, "the bus is gone");
    }

    #[test]
    fn the_event_bound_keeps_at_least_the_newest_batch() {
        let bus = EventBus::new(1, 16 << 20);
        let id = ProcessId::new();
        let mut slow = bus.subscribe();
        bus.publish_lines(id, empty_lines(10));
        bus.publish_lines(id, empty_lines(10));
        assert_eq!(held(&bus).0, 1);
        assert!(matches!(slow.try_recv(), Some(Received::Lagged { missed: 10 })));
        let Some(Received::Event(event)) = slow.try_recv() else { panic!("no event") };
        assert_eq!(event.seq, 11);
    }
}
