//! [`OutputRing`]: the bounded, lazily allocated capture buffer of one process, public so
//! programs can keep output the same way (go-process's `RingBuffer`).
//!
//! The bytes live in one circular buffer; a small deque of `(stream, length)` runs says which
//! stream each stretch came from. Pushing is at most two `memcpy`s plus O(1) bookkeeping
//! (amortised over evictions), so capture costs about as much as the read that produced the
//! bytes.

use std::collections::VecDeque;

use tokio::sync::watch;

use super::{Output, OutputChunk, OutputSince, Stream};

/// The first allocation. Small, because most processes write little; later growth doubles.
const FIRST_ALLOCATION: usize = 512;

/// A run of consecutive bytes from one stream.
#[derive(Clone, Copy, Debug)]
struct Run {
    stream: Stream,
    len: usize,
}

/// A byte ring: the last `capacity` bytes pushed into it, exact, each run tagged with the
/// [`Stream`] it came from. Every managed process captures its output in one; it is public so
/// programs can keep bounded output the same way (go-process's `RingBuffer`).
///
/// * Memory: nothing is allocated until the first byte arrives; storage then grows
///   geometrically up to `capacity`, plus a small entry per run of same-stream bytes.
/// * When full the oldest bytes are dropped (counted in [`dropped_bytes`](Self::dropped_bytes)),
///   and the head moves past at most three UTF-8 continuation bytes so a snapshot does not
///   begin with half a character.
/// * Offsets count every byte ever pushed, so a reader can follow it exactly with
///   [`output_since`](Self::output_since) and learn what it missed.
///
/// It is a plain value: share it between tasks behind a `Mutex`.
///
/// ```
/// use tend::Stream;
/// use tend::OutputRing;
///
/// let mut ring = OutputRing::new(8);
/// ring.push(Stream::Stdout, b"hello\n");
/// ring.push(Stream::Stderr, b"oops\n");
/// // 11 bytes into 8: the oldest 3 are gone.
/// let output = ring.snapshot();
/// assert_eq!(output.combined(), b"lo\noops\n");
/// assert_eq!(output.stderr(), b"oops\n");
/// assert_eq!(ring.dropped_bytes(), 3);
///
/// // A follower that had read 2 bytes learns that 1 more was dropped before it could read it.
/// let since = ring.output_since(2);
/// assert_eq!((since.offset, since.dropped), (3, 1));
/// assert_eq!(since.bytes, b"lo\noops\n");
/// assert_eq!(since.next_offset(), ring.written());
/// ```
///
/// Invariants: `len <= buf.len() <= capacity`; the runs are non-empty, adjacent runs differ in
/// stream, and their lengths add up to `len`.
#[derive(Debug)]
pub struct OutputRing {
    capacity: usize,
    /// Storage; its length is what is allocated now, which grows up to `capacity`.
    buf: Box<[u8]>,
    /// Index in `buf` of the oldest byte held.
    head: usize,
    /// Bytes held.
    len: usize,
    runs: VecDeque<Run>,
    dropped: u64,
    /// The last byte dropped, if any: whether the oldest byte held starts a line.
    last_dropped: Option<u8>,
    /// Bytes pushed since creation (`dropped + len`), for followers waiting for more.
    written: watch::Sender<u64>,
}

impl OutputRing {
    /// A ring that will hold at most `capacity` bytes. Allocates nothing until bytes arrive;
    /// capacity 0 captures nothing (every byte pushed is counted as dropped).
    pub fn new(capacity: usize) -> Self {
        OutputRing {
            capacity,
            buf: Box::default(),
            head: 0,
            len: 0,
            runs: VecDeque::new(),
            dropped: 0,
            last_dropped: None,
            written: watch::Sender::new(0),
        }
    }

    /// Appends bytes written to `stream`, dropping the oldest bytes if the ring would overflow.
    /// After dropping, the oldest byte kept is moved past up to three UTF-8 continuation bytes,
    /// so the head is a character boundary in valid UTF-8.
    pub fn push(&mut self, stream: Stream, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.capacity == 0 {
            self.dropped += bytes.len() as u64;
            self.last_dropped = bytes.last().copied();
            self.announce();
            return;
        }
        let mut bytes = bytes;
        let mut trimmed = false;
        if bytes.len() >= self.capacity {
            // Only the newest `capacity` bytes of this push survive, and nothing older does.
            let skip = bytes.len() - self.capacity;
            trimmed = skip > 0 || self.len > 0;
            if skip > 0 {
                self.last_dropped = Some(bytes[skip - 1]);
            } else if self.len > 0 {
                let (first, second) = self.as_slices();
                self.last_dropped = second.last().or(first.last()).copied();
            }
            self.dropped += (self.len + skip) as u64;
            self.head = 0;
            self.len = 0;
            self.runs.clear();
            bytes = &bytes[skip..];
        }
        let needed = self.len + bytes.len();
        if needed > self.buf.len() && self.buf.len() < self.capacity {
            self.grow(needed);
        }
        if needed > self.buf.len() {
            self.evict(needed - self.buf.len());
            trimmed = true;
        }
        self.write(bytes);
        match self.runs.back_mut() {
            Some(last) if last.stream == stream => last.len += bytes.len(),
            _ => self.runs.push_back(Run { stream, len: bytes.len() }),
        }
        if trimmed {
            self.align_head();
        }
        self.announce();
    }

    fn announce(&self) {
        self.written.send_replace(self.dropped + self.len as u64);
    }

    /// A receiver of the number of bytes pushed so far; it changes with every push.
    pub(crate) fn watch_written(&self) -> watch::Receiver<u64> {
        self.written.subscribe()
    }

    /// The bytes held from absolute offset `from` (counted from the first byte ever pushed),
    /// both streams in order. Bytes between `from` and the oldest byte held were dropped;
    /// the answer says how many. An offset past the end gives no bytes at the end.
    pub fn output_since(&self, from: u64) -> OutputSince {
        let start = self.dropped;
        let dropped = start.saturating_sub(from);
        let skip = (from.max(start) - start).min(self.len as u64) as usize;
        let (first, second) = self.as_slices();
        let mut bytes = Vec::with_capacity(self.len - skip);
        if skip < first.len() {
            bytes.extend_from_slice(&first[skip..]);
            bytes.extend_from_slice(second);
        } else {
            bytes.extend_from_slice(&second[skip - first.len()..]);
        }
        OutputSince {
            offset: start + skip as u64,
            dropped,
            cut: dropped > 0 && self.last_dropped.is_some_and(|byte| byte != b'\n'),
            bytes,
        }
    }

    /// A copy of everything held, oldest first.
    pub fn snapshot(&self) -> Output {
        Output::from_parts(self.chunks_after(0, self.len), self.dropped)
    }

    /// Like [`output_since`](Self::output_since), but at most `limit` bytes, as chunks tagged
    /// with their stream: `(offset of the first byte, bytes dropped before it, chunks)`.
    pub(crate) fn chunks_since(&self, from: u64, limit: usize) -> (u64, u64, Vec<OutputChunk>) {
        let start = self.dropped;
        let skip = (from.max(start) - start).min(self.len as u64) as usize;
        (start + skip as u64, start.saturating_sub(from), self.chunks_after(skip, limit))
    }

    /// At most `limit` of the held bytes after the first `skip`, as one chunk per run (or
    /// part of a run).
    fn chunks_after(&self, skip: usize, limit: usize) -> Vec<OutputChunk> {
        let stop = skip.saturating_add(limit).min(self.len);
        let (first, second) = self.as_slices();
        let mut chunks = Vec::with_capacity(self.runs.len());
        let mut at = 0;
        for run in &self.runs {
            if at >= stop {
                break;
            }
            let end = (at + run.len).min(stop);
            if end <= skip {
                at = end;
                continue;
            }
            at = at.max(skip);
            let mut bytes = Vec::with_capacity(end - at);
            if at < first.len() {
                bytes.extend_from_slice(&first[at..end.min(first.len())]);
            }
            if end > first.len() {
                bytes.extend_from_slice(
                    &second[at.max(first.len()) - first.len()..end - first.len()],
                );
            }
            chunks.push(OutputChunk { stream: run.stream, bytes });
            at = end;
        }
        chunks
    }

    /// Bytes held now.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The most bytes it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes dropped since creation: the oldest ones on overflow, plus everything pushed into
    /// a ring of capacity 0.
    pub fn dropped_bytes(&self) -> u64 {
        self.dropped
    }

    /// Bytes pushed since creation (dropped plus held): the offset the next byte will have.
    pub fn written(&self) -> u64 {
        self.dropped + self.len as u64
    }

    #[cfg(test)]
    /// Heap memory this ring holds now (byte storage plus run bookkeeping).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.buf.len() + self.runs.capacity() * size_of::<Run>()
    }

    /// The held bytes as at most two slices, oldest first.
    fn as_slices(&self) -> (&[u8], &[u8]) {
        let end = self.head + self.len;
        if end <= self.buf.len() {
            (&self.buf[self.head..end], &[])
        } else {
            (&self.buf[self.head..], &self.buf[..end - self.buf.len()])
        }
    }

    /// Reallocates to hold at least `needed` bytes (capped at capacity), doubling at least,
    /// and straightens the contents so the head is at index 0.
    fn grow(&mut self, needed: usize) {
        let size = needed.max(self.buf.len() * 2).max(FIRST_ALLOCATION).min(self.capacity);
        let mut grown = vec![0u8; size].into_boxed_slice();
        let (first, second) = self.as_slices();
        grown[..first.len()].copy_from_slice(first);
        grown[first.len()..self.len].copy_from_slice(second);
        self.buf = grown;
        self.head = 0;
    }

    /// Copies `bytes` after the newest byte. The caller has made room.
    fn write(&mut self, bytes: &[u8]) {
        let size = self.buf.len();
        debug_assert!(self.len + bytes.len() <= size);
        let mut tail = self.head + self.len;
        if tail >= size {
            tail -= size;
        }
        let first = bytes.len().min(size - tail);
        self.buf[tail..tail + first].copy_from_slice(&bytes[..first]);
        self.buf[..bytes.len() - first].copy_from_slice(&bytes[first..]);
        self.len += bytes.len();
    }

    /// Drops the `count` oldest bytes.
    fn evict(&mut self, count: usize) {
        debug_assert!(count <= self.len);
        self.head += count;
        if self.head >= self.buf.len() {
            self.head -= self.buf.len();
        }
        if count > 0 {
            self.last_dropped = Some(self.buf[(self.head + self.buf.len() - 1) % self.buf.len()]);
        }
        self.len -= count;
        self.dropped += count as u64;
        let mut left = count;
        while left > 0 {
            let front = self.runs.front_mut().expect("runs cover every held byte");
            if front.len > left {
                front.len -= left;
                break;
            }
            left -= front.len;
            self.runs.pop_front();
        }
    }

    /// After a trim, skips the continuation bytes of a character whose start was dropped.
    /// At most three: no UTF-8 character has more, so longer runs are not text and are kept.
    fn align_head(&mut self) {
        for _ in 0..3 {
            if self.len == 0 || !is_continuation(self.buf[self.head]) {
                return;
            }
            self.evict(1);
        }
    }
}

/// Whether `byte` continues a multi-byte UTF-8 character (`0b10xx_xxxx`).
pub(super) fn is_continuation(byte: u8) -> bool {
    byte & 0xC0 == 0x80
}

#[cfg(test)]
mod tests {
    use super::*;
    use Stream::{Stderr, Stdout};

    fn runs(ring: &OutputRing) -> Vec<(Stream, Vec<u8>)> {
        ring.snapshot().chunks().iter().map(|c| (c.stream, c.bytes.clone())).collect()
    }

    #[test]
    fn new_allocates_nothing() {
        let ring = OutputRing::new(1 << 20);
        assert_eq!(ring.heap_bytes(), 0);
        assert!(ring.is_empty());
        assert!(ring.snapshot().is_empty());
    }

    #[test]
    fn keeps_bytes_exactly() {
        let mut ring = OutputRing::new(64);
        ring.push(Stdout, b"a\r\n");
        ring.push(Stdout, b"\xff\xfe no newline");
        assert_eq!(ring.snapshot().combined(), b"a\r\n\xff\xfe no newline");
        assert_eq!(ring.dropped_bytes(), 0);
    }

    #[test]
    fn merges_same_stream_and_keeps_tags() {
        let mut ring = OutputRing::new(64);
        ring.push(Stdout, b"one ");
        ring.push(Stdout, b"two ");
        ring.push(Stderr, b"err");
        ring.push(Stdout, b"three");
        ring.push(Stdout, b"");
        assert_eq!(
            runs(&ring),
            [
                (Stdout, b"one two ".to_vec()),
                (Stderr, b"err".to_vec()),
                (Stdout, b"three".to_vec())
            ]
        );
        assert_eq!(ring.snapshot().stderr(), b"err");
    }

    #[test]
    fn drops_oldest_across_runs_and_wraps() {
        let mut ring = OutputRing::new(8);
        ring.push(Stdout, b"abcd");
        ring.push(Stderr, b"efg");
        ring.push(Stdout, b"hij");
        // 10 bytes into 8: "ab" goes, and the stdout run that began the ring shrinks.
        assert_eq!(ring.len(), 8);
        assert_eq!(ring.dropped_bytes(), 2);
        assert_eq!(
            runs(&ring),
            [(Stdout, b"cd".to_vec()), (Stderr, b"efg".to_vec()), (Stdout, b"hij".to_vec())]
        );
        // This push wraps around the end of the storage and evicts one run and a half.
        ring.push(Stderr, b"klmno");
        assert_eq!(runs(&ring), [(Stdout, b"hij".to_vec()), (Stderr, b"klmno".to_vec())]);
        assert_eq!(ring.dropped_bytes(), 7);
        ring.push(Stderr, b"pq");
        assert_eq!(ring.snapshot().combined(), b"jklmnopq");
        assert_eq!(runs(&ring)[0], (Stdout, b"j".to_vec()));
    }

    #[test]
    fn trimmed_head_starts_on_a_character_boundary() {
        let mut ring = OutputRing::new(5);
        // "€€" is E2 82 AC E2 82 AC; the last five bytes begin inside the first euro sign.
        ring.push(Stdout, "€€".as_bytes());
        assert_eq!(ring.snapshot().combined(), "€".as_bytes());
        assert_eq!(ring.dropped_bytes(), 3);
        // The same when the cut comes from an eviction rather than one oversized push.
        let mut ring = OutputRing::new(4);
        ring.push(Stdout, "é".as_bytes()); // C3 A9
        ring.push(Stderr, "€".as_bytes()); // E2 82 AC: evicts C3, leaving A9 at the head
        assert_eq!(runs(&ring), [(Stderr, "€".as_bytes().to_vec())]);
        assert_eq!(ring.dropped_bytes(), 2);
    }

    #[test]
    fn reads_from_an_offset_and_says_what_was_dropped_before_it() {
        let mut ring = OutputRing::new(8);
        ring.push(Stdout, b"ab\ncd");
        let since = ring.output_since(0);
        assert_eq!((since.offset, since.dropped, since.cut), (0, 0, false));
        assert_eq!(since.bytes, b"ab\ncd");
        assert_eq!(ring.output_since(3).bytes, b"cd");
        // Ten bytes into eight: "ab" goes, and the oldest byte held is in the middle of a line.
        ring.push(Stderr, b"ef\ngh");
        let since = ring.output_since(0);
        assert_eq!((since.offset, since.dropped, since.cut), (2, 2, true));
        assert_eq!(since.bytes, b"\ncdef\ngh");
        // One more: the newline goes too, and now the head starts a line.
        ring.push(Stdout, b"\n");
        let since = ring.output_since(1);
        assert_eq!((since.offset, since.dropped, since.cut), (3, 2, false));
        assert_eq!(since.next_offset(), 11);
        assert_eq!(ring.output_since(11), OutputSince { offset: 11, ..OutputSince::default() });
        assert_eq!(ring.output_since(99).offset, 11, "never past the end");
        // A follower that is up to date is woken by the next push.
        let mut written = ring.watch_written();
        assert_eq!(*written.borrow_and_update(), 11);
        ring.push(Stdout, b"x");
        assert!(written.has_changed().unwrap());
    }

    #[test]
    fn skips_at_most_three_continuation_bytes() {
        let mut ring = OutputRing::new(6);
        ring.push(Stdout, &[0x80; 10]);
        assert_eq!(ring.snapshot().combined(), [0x80; 3]);
        assert_eq!(ring.dropped_bytes(), 7);
    }

    #[test]
    fn untrimmed_head_is_kept_even_if_not_a_boundary() {
        // Nothing was dropped, so nothing may be altered: the child really wrote this.
        let mut ring = OutputRing::new(8);
        ring.push(Stdout, &[0xa9, b'o', b'k']);
        ring.push(Stderr, &[0x80]);
        assert_eq!(ring.snapshot().combined(), [0xa9, b'o', b'k', 0x80]);
        assert_eq!(ring.dropped_bytes(), 0);
    }

    #[test]
    fn chunks_since_keeps_streams_from_any_offset() {
        let mut ring = OutputRing::new(8);
        ring.push(Stdout, b"ab");
        ring.push(Stderr, b"cd");
        ring.push(Stdout, b"ef");
        let chunk = |stream, bytes: &[u8]| OutputChunk { stream, bytes: bytes.to_vec() };
        assert_eq!(
            ring.chunks_since(3, 99),
            (3, 0, vec![chunk(Stderr, b"d"), chunk(Stdout, b"ef")])
        );
        assert_eq!(ring.chunks_since(4, 99), (4, 0, vec![chunk(Stdout, b"ef")]));
        assert_eq!(ring.chunks_since(6, 99), (6, 0, vec![]));
        // Wrapped storage, and bytes dropped before the offset asked for.
        ring.push(Stderr, b"ghij");
        assert_eq!(ring.written(), 10);
        assert_eq!(
            ring.chunks_since(1, 99),
            (2, 1, vec![chunk(Stderr, b"cd"), chunk(Stdout, b"ef"), chunk(Stderr, b"ghij")])
        );
        assert_eq!(ring.chunks_since(7, 2), (7, 0, vec![chunk(Stderr, b"hi")]));
        assert_eq!(ring.chunks_since(3, 2), (3, 0, vec![chunk(Stderr, b"d"), chunk(Stdout, b"e")]));
    }

    #[test]
    fn oversized_push_keeps_its_last_capacity_bytes() {
        let mut ring = OutputRing::new(4);
        ring.push(Stderr, b"old");
        ring.push(Stdout, b"0123456789");
        assert_eq!(runs(&ring), [(Stdout, b"6789".to_vec())]);
        assert_eq!(ring.dropped_bytes(), 3 + 6);
        // Exactly the capacity, into an empty ring: nothing dropped.
        let mut ring = OutputRing::new(4);
        ring.push(Stdout, b"abcd");
        assert_eq!(ring.snapshot().combined(), b"abcd");
        assert_eq!(ring.dropped_bytes(), 0);
    }

    #[test]
    fn capacity_zero_captures_nothing() {
        let mut ring = OutputRing::new(0);
        ring.push(Stdout, b"hello");
        ring.push(Stderr, b"world");
        assert!(ring.snapshot().is_empty());
        assert_eq!(ring.snapshot().dropped_bytes(), 10);
        assert_eq!(ring.heap_bytes(), 0);
    }

    #[test]
    fn grows_lazily_and_geometrically_up_to_capacity() {
        let mut ring = OutputRing::new(1 << 20);
        ring.push(Stdout, b"hello\n");
        assert!(ring.heap_bytes() <= 1024, "one line costs {} bytes", ring.heap_bytes());
        let mut sizes = vec![ring.buf.len()];
        for _ in 0..20_000 {
            ring.push(Stdout, &[b'x'; 99]);
            if *sizes.last().unwrap() != ring.buf.len() {
                sizes.push(ring.buf.len());
            }
        }
        // Doubling: a handful of reallocations, not one per push; never past the capacity.
        assert!(sizes.len() <= 13, "{sizes:?}");
        assert!(sizes.windows(2).all(|w| w[1] >= 2 * w[0] || w[1] == 1 << 20), "{sizes:?}");
        assert_eq!(ring.buf.len(), 1 << 20);
        assert_eq!(ring.len(), 1 << 20);
        assert!(ring.heap_bytes() < (1 << 20) + 4096);
    }

    #[test]
    fn ten_mib_through_one_mib_holds_exactly_the_last_mib() {
        const CAP: usize = 1 << 20;
        let mut all = Vec::with_capacity(10 << 20);
        let mut ring = OutputRing::new(CAP);
        let mut n = 0u64;
        while all.len() < 10 << 20 {
            let line = format!("line {n} of a long stream\n");
            ring.push(Stdout, line.as_bytes());
            all.extend_from_slice(line.as_bytes());
            n += 1;
        }
        let out = ring.snapshot();
        assert_eq!(out.len(), CAP);
        assert_eq!(out.combined(), &all[all.len() - CAP..]);
        assert_eq!(out.dropped_bytes(), (all.len() - CAP) as u64);
        assert_eq!(out.chunks().len(), 1);
    }
}
