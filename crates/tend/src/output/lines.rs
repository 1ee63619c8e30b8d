//! [`LineBatch`]: the line events of one chunk, held compactly until someone reads them.
//!
//! A flood of short lines is the worst case for an event bus: one 64 KiB read of empty lines
//! is 65,536 events. Made into [`Event`](crate::Event)s at once, they would cost about a
//! hundred bytes each (and a reference count on the chunk each) whether or not any subscriber
//! ever reads them. A batch instead keeps the chunk and where each line ends in it — four
//! bytes a line — and builds an event only when a subscriber asks for that one.

use bytes::Bytes;

use super::Stream;
use super::splitter::Piece;

/// The lines the splitter found in one chunk, in order: first the pieces it had to copy (the
/// end of a line begun earlier), then ranges of the chunk.
#[derive(Debug)]
pub(crate) struct LineBatch {
    stream: Stream,
    /// Copied pieces and their `partial` flags; they come before every in-chunk piece.
    held: Vec<(Bytes, bool)>,
    chunk: Bytes,
    /// Where the first in-chunk piece starts.
    first_start: usize,
    /// End (exclusive) of each in-chunk piece.
    ends: Vec<u32>,
    /// Indices into `ends` of the pieces that are partial (rare: only lines over `max_line`),
    /// ascending.
    partial: Vec<u32>,
}

impl LineBatch {
    /// An empty batch for lines of `chunk`, read from `stream`. `chunk` must be shorter than
    /// 4 GiB (reads are at most 64 KiB).
    pub(crate) fn new(stream: Stream, chunk: Bytes) -> Self {
        debug_assert!(u32::try_from(chunk.len()).is_ok());
        LineBatch {
            stream,
            held: Vec::new(),
            chunk,
            first_start: 0,
            ends: Vec::new(),
            partial: Vec::new(),
        }
    }

    /// Adds the next piece the splitter emitted for this batch's chunk.
    pub(crate) fn add(&mut self, piece: Piece, partial: bool) {
        match piece {
            Piece::Held(bytes) => {
                debug_assert!(self.ends.is_empty(), "held pieces come first");
                self.held.push((bytes, partial));
            }
            Piece::InChunk(range) => {
                if self.ends.is_empty() {
                    self.first_start = range.start;
                }
                debug_assert_eq!(range.start, self.start_of(self.ends.len()));
                if partial {
                    self.partial.push(self.ends.len() as u32);
                }
                self.ends.push(range.end as u32);
            }
        }
    }

    /// The stream the lines came from.
    pub(crate) fn stream(&self) -> Stream {
        self.stream
    }

    /// Number of line events.
    pub(crate) fn len(&self) -> usize {
        self.held.len() + self.ends.len()
    }

    /// The `index`th line event: its bytes (a slice of the chunk, or a copied piece) and
    /// whether it is a partial piece of a longer line. `index < len()`.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> (Bytes, bool) {
        if let Some((bytes, partial)) = self.held.get(index) {
            return (bytes.clone(), *partial);
        }
        let at = index - self.held.len();
        let range = self.start_of(at)..self.ends[at] as usize;
        (self.chunk.slice(range), self.is_partial(at))
    }

    /// Heap memory this batch keeps alive, in bytes: the chunk, the copied pieces and the
    /// index. The chunk counts by its length, so a caller holding a small read in a large
    /// buffer should copy it out first.
    pub(crate) fn heap_bytes(&self) -> usize {
        let chunk = if self.ends.is_empty() { 0 } else { self.chunk.len() };
        chunk
            + self.held.iter().map(|(bytes, _)| bytes.len()).sum::<usize>()
            + self.held.capacity() * size_of::<(Bytes, bool)>()
            + (self.ends.capacity() + self.partial.capacity()) * size_of::<u32>()
    }

    /// Releases what the lines do not need: the chunk if no piece lies in it, spare capacity.
    pub(crate) fn shrink(&mut self) {
        if self.ends.is_empty() {
            self.chunk = Bytes::new();
        }
        self.ends.shrink_to_fit();
        self.held.shrink_to_fit();
    }

    #[inline]
    fn start_of(&self, at: usize) -> usize {
        match at.checked_sub(1) {
            None => self.first_start,
            Some(before) => {
                let end = self.ends[before] as usize;
                if self.is_partial(before) { end } else { end + 1 }
            }
        }
    }

    #[inline]
    fn is_partial(&self, at: usize) -> bool {
        !self.partial.is_empty() && self.partial.binary_search(&(at as u32)).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::LineSplitter;

    /// Every event a batch gives back equals what the splitter emitted as bytes.
    #[test]
    fn gives_back_exactly_what_the_splitter_emitted() {
        let chunks: &[&[u8]] =
            &[b"abc", b"def\nghij", b"klmnopqrstuv", b"w\nxy\n", b"z\n0123456789abc", b"\n\n"];
        for max in [1, 2, 3, 5, 8, 64] {
            let (mut by_bytes, mut by_batch) = (LineSplitter::new(max), LineSplitter::new(max));
            for chunk in chunks {
                let chunk = Bytes::copy_from_slice(chunk);
                let mut want = Vec::new();
                by_bytes.push(&chunk, |line, partial| want.push((line, partial)));
                let mut batch = LineBatch::new(Stream::Stdout, chunk.clone());
                by_batch.split(&chunk, |piece, partial| batch.add(piece, partial));
                batch.shrink();
                let got: Vec<_> = (0..batch.len()).map(|i| batch.get(i)).collect();
                assert_eq!(got, want, "max {max}, chunk {chunk:?}");
            }
        }
    }

    #[test]
    fn empty_lines_cost_four_bytes_each() {
        let chunk = Bytes::from(vec![b'\n'; 4096]);
        let mut batch = LineBatch::new(Stream::Stderr, chunk.clone());
        LineSplitter::new(100).split(&chunk, |piece, partial| batch.add(piece, partial));
        batch.shrink();
        assert_eq!(batch.len(), 4096);
        assert_eq!(batch.get(4095), (Bytes::new(), false));
        assert_eq!(batch.heap_bytes(), 4096 + 4 * 4096);
    }
}
