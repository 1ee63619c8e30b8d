//! [`LineSplitter`]: turns one stream's chunks into line events, with no limit on line length.
//!
//! Lines that lie wholly inside a chunk are handed out as ranges of it (zero-copy); only a
//! line that straddles two reads is copied, once, into a small pending buffer. A line longer
//! than `max_line` is cut into pieces of at most `max_line` bytes as soon as it is known to be
//! too long, so the pending buffer never holds more than `max_line` bytes however long the
//! line.

use std::ops::Range;

use bytes::{Bytes, BytesMut};

use super::ring::is_continuation;

/// One line (or piece of a long line) the splitter hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Bytes it had to copy: the end of a line begun in an earlier chunk.
    Held(Bytes),
    /// A range of the chunk just fed.
    InChunk(Range<usize>),
}

/// Splits one stream's bytes into line events. No line-length limit on input.
///
/// A line is emitted without its `\n`; a `\r` before it is kept. Empty lines are emitted as
/// empty. Cut points depend only on the bytes, never on how they were chunked.
#[derive(Debug)]
pub(crate) struct LineSplitter {
    max_line: usize,
    /// The start of a line whose end has not been read yet; never longer than `max_line`.
    pending: BytesMut,
}

impl LineSplitter {
    /// A splitter that emits pieces of at most `max_line` bytes (at least 1). Allocates
    /// nothing.
    pub(crate) fn new(max_line: usize) -> Self {
        LineSplitter { max_line: max_line.max(1), pending: BytesMut::new() }
    }

    /// Feeds the next chunk read from the pipe. Calls `emit(piece, partial)` for every complete
    /// line (without its `\n`) and, when the pending line grows past `max_line` bytes, for each
    /// piece of at most `max_line` bytes with `partial = true` ("this line continues in the
    /// next event"). The last piece of a long line has `partial = false`. Pieces are cut at a
    /// UTF-8 character boundary when one lies within the last three bytes of the limit.
    ///
    /// Every [`Piece::Held`] comes before every [`Piece::InChunk`]; in-chunk pieces come in
    /// order, each starting where the one before ended (after its `\n` unless it was partial).
    pub(crate) fn split(&mut self, chunk: &[u8], mut emit: impl FnMut(Piece, bool)) {
        let max = self.max_line;
        let mut pos = 0;

        // The line begun in an earlier chunk: copy into `pending` only up to its end, or up to
        // the byte that proves it too long, then cut.
        while !self.pending.is_empty() {
            let room = max + 1 - self.pending.len();
            let end = chunk.len().min(pos + room);
            if let Some(i) = memchr::memchr(b'\n', &chunk[pos..end]) {
                self.pending.extend_from_slice(&chunk[pos..pos + i]);
                emit(Piece::Held(self.pending.split().freeze()), false);
                pos += i + 1;
                break;
            }
            self.pending.extend_from_slice(&chunk[pos..end]);
            pos = end;
            if self.pending.len() <= max {
                return; // chunk used up, line neither ended nor too long yet
            }
            let cut = cut_point(&self.pending, max);
            emit(Piece::Held(self.pending.split_to(cut).freeze()), true);
        }

        // Lines wholly inside the chunk: ranges, no copies.
        let mut start = pos;
        for newline in memchr::memchr_iter(b'\n', &chunk[pos..]) {
            let end = pos + newline;
            if end - start > max {
                start = emit_long_prefix(chunk, start, end, max, &mut emit);
            }
            emit(Piece::InChunk(start..end), false);
            start = end + 1;
        }

        // The unterminated tail: hand out what is already known to be too long, keep the rest.
        start = emit_long_prefix(chunk, start, chunk.len(), max, &mut emit);
        self.pending.extend_from_slice(&chunk[start..]);
    }

    /// Like [`split`](Self::split), with each piece as bytes (in-chunk ones are zero-copy
    /// slices of `chunk`).
    pub(crate) fn push(&mut self, chunk: &Bytes, mut emit: impl FnMut(Bytes, bool)) {
        self.split(chunk, |piece, partial| match piece {
            Piece::Held(bytes) => emit(bytes, partial),
            Piece::InChunk(range) => emit(chunk.slice(range), partial),
        });
    }

    /// Feeds a chunk nobody wants line events for. Leaves the splitter exactly as
    /// `push(chunk, |_, _| {})` would, so later subscribers see correct lines, but looks only
    /// for the last newline instead of every one.
    pub(crate) fn skip(&mut self, chunk: &[u8]) {
        let Some(last) = memchr::memrchr(b'\n', chunk) else {
            return self.split(chunk, |_, _| {});
        };
        // The line under way ended in this chunk; the next one starts after the last newline.
        let start = emit_long_prefix(chunk, last + 1, chunk.len(), self.max_line, &mut |_, _| {});
        self.pending.clear();
        self.pending.extend_from_slice(&chunk[start..]);
    }

    /// End of stream: emits the pending remainder (a last line without `\n`) if non-empty.
    pub(crate) fn finish(&mut self, mut emit: impl FnMut(Bytes, bool)) {
        if !self.pending.is_empty() {
            emit(self.pending.split().freeze(), false);
        }
        // Give back the buffer: a finished stream should not keep memory alive.
        self.pending = BytesMut::new();
    }

    #[cfg(test)]
    /// Bytes of an unfinished line held back until its end (or more of it) arrives.
    pub(crate) fn pending_len(&self) -> usize {
        self.pending.len()
    }
}

/// Emits `chunk[start..end]` in partial pieces while more than `max` bytes of it remain, and
/// returns where the remainder (at most `max` bytes) starts.
///
/// Out of line and cold: the loop in `push` runs once per line, and long lines are rare.
#[cold]
#[inline(never)]
fn emit_long_prefix(
    chunk: &[u8],
    mut start: usize,
    end: usize,
    max: usize,
    emit: &mut impl FnMut(Piece, bool),
) -> usize {
    while end - start > max {
        let cut = cut_point(&chunk[start..end], max);
        emit(Piece::InChunk(start..start + cut), true);
        start += cut;
    }
    start
}

/// Where to cut `line` (longer than `max`) so the first piece holds at most `max` bytes: at
/// `max`, or up to three bytes earlier when that keeps a UTF-8 character whole. Never 0.
fn cut_point(line: &[u8], max: usize) -> usize {
    debug_assert!(line.len() > max);
    (max.saturating_sub(3).max(1)..=max).rev().find(|&at| !is_continuation(line[at])).unwrap_or(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_leaves_the_same_state_as_push() {
        let chunks: &[&[u8]] =
            &[b"abc", b"def\nghij", b"klmnopqrstuv", b"w\nxy\n", b"z\n0123456789abc", b"", b"\n\n"];
        for max in [1, 2, 3, 5, 8, 64] {
            let (mut pushed, mut skipped) = (LineSplitter::new(max), LineSplitter::new(max));
            for (i, chunk) in chunks.iter().enumerate() {
                let chunk = Bytes::copy_from_slice(chunk);
                pushed.push(&chunk, |_, _| {});
                skipped.skip(&chunk);
                assert_eq!(pushed.pending, skipped.pending, "max {max}, after chunk {i}");
            }
        }
    }

    /// Runs `chunks` through a splitter; returns `(line, partial)` events, with `finish`.
    fn split(max_line: usize, chunks: &[&[u8]]) -> Vec<(Vec<u8>, bool)> {
        let mut splitter = LineSplitter::new(max_line);
        let mut events = Vec::new();
        for chunk in chunks {
            splitter.push(&Bytes::copy_from_slice(chunk), |line, partial| {
                events.push((line.to_vec(), partial))
            });
        }
        splitter.finish(|line, partial| events.push((line.to_vec(), partial)));
        events
    }

    fn line(text: &str) -> (Vec<u8>, bool) {
        (text.as_bytes().to_vec(), false)
    }

    fn piece(text: &str) -> (Vec<u8>, bool) {
        (text.as_bytes().to_vec(), true)
    }

    #[test]
    fn splits_lines_keeping_cr_and_empty_lines() {
        let events = split(100, &[b"a\r\n\nb\n\r\n"]);
        assert_eq!(events, [line("a\r"), line(""), line("b"), line("\r")]);
    }

    #[test]
    fn last_line_without_newline_comes_on_finish() {
        assert_eq!(split(100, &[b"a\nrest"]), [line("a"), line("rest")]);
        assert_eq!(split(100, &[b"a\n"]), [line("a")]);
        assert_eq!(split(100, &[]), []);
    }

    #[test]
    fn joins_lines_that_straddle_chunks() {
        let events = split(100, &[b"he", b"", b"llo\nwor", b"ld", b"\n"]);
        assert_eq!(events, [line("hello"), line("world")]);
        assert_eq!(split(100, &[b"x", b"\n", b"\n"]), [line("x"), line("")]);
    }

    #[test]
    fn lines_inside_a_chunk_are_zero_copy() {
        let chunk = Bytes::from_static(b"first\nsecond\nthird");
        let mut splitter = LineSplitter::new(100);
        let mut seen = Vec::new();
        splitter.push(&chunk, |line, _| seen.push(line));
        assert_eq!(seen.len(), 2);
        for line in &seen {
            let offset = line.as_ptr() as usize - chunk.as_ptr() as usize;
            assert!(offset < chunk.len(), "{line:?} is a copy, not a slice of the chunk");
        }
        assert_eq!(splitter.pending_len(), 5);
    }

    #[test]
    fn a_line_of_exactly_max_line_is_one_event() {
        assert_eq!(split(4, &[b"abcd\n"]), [line("abcd")]);
        assert_eq!(split(4, &[b"ab", b"cd", b"\n"]), [line("abcd")]);
        assert_eq!(split(4, &[b"abcd"]), [line("abcd")]);
    }

    #[test]
    fn long_lines_come_in_flagged_pieces() {
        let want = [piece("abcd"), piece("efgh"), line("ij"), line("k")];
        assert_eq!(split(4, &[b"abcdefghij\nk"]), want);
        assert_eq!(split(4, &[b"a", b"bcdef", b"g", b"hij\nk"]), want);
        // A long line that ends exactly at a cut: the last piece is full and final.
        assert_eq!(split(4, &[b"abcdefgh\n"]), [piece("abcd"), line("efgh")]);
        assert_eq!(split(4, &[b"abcdefgh"]), [piece("abcd"), line("efgh")]);
    }

    #[test]
    fn a_megabyte_line_without_newline_is_bounded() {
        const MAX: usize = 16 * 1024;
        let mut splitter = LineSplitter::new(MAX);
        let mut total = 0;
        let mut events = 0;
        let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
        for _ in 0..16 {
            splitter.push(&chunk, |line, partial| {
                assert!(line.len() <= MAX && partial);
                total += line.len();
                events += 1;
            });
            assert!(splitter.pending_len() <= MAX);
        }
        splitter.finish(|line, partial| {
            assert!(!partial);
            total += line.len();
            events += 1;
        });
        assert_eq!(total, 1 << 20);
        assert_eq!(events, 64);
    }

    #[test]
    fn cuts_at_character_boundaries() {
        // "aé€" is 61 C3 A9 E2 82 AC: a cut at 5 would split the euro sign; back off to 3.
        let text = "aé€é";
        for chunks in [vec![text.as_bytes()], text.as_bytes().chunks(1).collect()] {
            let events = split(5, &chunks);
            assert_eq!(events, [piece("aé"), line("€é")]);
        }
        // Four-byte characters: every piece still decodes.
        let text = "😀".repeat(10);
        for max in 4..9 {
            let events = split(max, &[text.as_bytes()]);
            assert!(events.iter().all(|(bytes, _)| std::str::from_utf8(bytes).is_ok()));
            assert_eq!(events.iter().map(|e| e.0.len()).sum::<usize>(), 40);
        }
    }

    #[test]
    fn invalid_utf8_and_tiny_limits_still_cut_at_the_limit() {
        // Continuation bytes everywhere: no boundary to back off to, so cut at max_line.
        assert_eq!(
            split(2, &[&[0x80; 5]]),
            [(vec![0x80; 2], true), (vec![0x80; 2], true), (vec![0x80], false)]
        );
        // max_line 1: one byte per event, even inside a multi-byte character.
        let events = split(1, &["é\n".as_bytes()]);
        assert_eq!(events, [(vec![0xC3], true), (vec![0xA9], false)]);
        // max_line 0 is treated as 1 rather than looping forever.
        assert_eq!(split(0, &[b"ab"]), [piece("a"), line("b")]);
    }

    #[test]
    fn finish_releases_the_buffer() {
        let mut splitter = LineSplitter::new(100);
        splitter.push(&Bytes::from_static(b"partial"), |_, _| {});
        splitter.finish(|_, _| {});
        assert_eq!(splitter.pending_len(), 0);
        assert_eq!(splitter.pending.capacity(), 0);
    }
}
