//! Property tests: the splitter and the ring against simple models of what they must do.

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;

use super::ring::is_continuation;
use super::{LineBatch, LineSplitter, OutputRing, Stream};

/// Bytes rich in the cases that matter: newlines, `\r`, multi-byte UTF-8 and stray
/// continuation bytes.
fn stream_bytes() -> impl Strategy<Value = Vec<u8>> {
    vec(some_bytes(40), 0..12).prop_map(|parts| parts.concat())
}

/// Up to `max` interesting bytes, or valid text with multi-byte characters.
fn some_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => b'a'..=b'e',
        2 => Just(b'\n'),
        1 => Just(b'\r'),
        1 => Just(0xC3u8),
        2 => 0x80u8..=0xBF,
        1 => Just(0xE2u8),
        1 => Just(0xF0u8),
    ];
    let text = vec(prop_oneof![Just("€"), Just("é"), Just("😀"), Just("a\n")], 0..max / 3)
        .prop_map(|parts| parts.concat().into_bytes());
    prop_oneof![vec(byte, 0..max), text]
}

/// Cuts `data` into chunks at the given (sorted, deduplicated) offsets.
fn chunked(data: &[u8], cuts: &[usize]) -> Vec<Bytes> {
    let mut offsets: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    offsets.push(0);
    offsets.push(data.len());
    offsets.sort_unstable();
    offsets.dedup();
    offsets.windows(2).map(|w| Bytes::copy_from_slice(&data[w[0]..w[1]])).collect()
}

/// Splits the chunks; returns the events, each marked with whether `finish` emitted it.
fn split(max_line: usize, chunks: &[Bytes]) -> Vec<(Bytes, bool, bool)> {
    let mut splitter = LineSplitter::new(max_line);
    let mut events = Vec::new();
    for chunk in chunks {
        splitter.push(chunk, |line, partial| events.push((line, partial, false)));
    }
    splitter.finish(|line, partial| events.push((line, partial, true)));
    events
}

proptest! {
    #[test]
    fn splitter_pieces_rejoin_to_the_input(
        data in stream_bytes(),
        cuts in vec(any::<usize>(), 0..8),
        max_line in 1usize..12,
    ) {
        let events = split(max_line, &chunked(&data, &cuts));
        let mut rejoined = Vec::new();
        for (i, (line, partial, from_finish)) in events.iter().enumerate() {
            prop_assert!(line.len() <= max_line, "piece {line:?} longer than {max_line}");
            prop_assert!(!line.contains(&b'\n'));
            rejoined.extend_from_slice(line);
            if *from_finish {
                prop_assert!(!partial && i == events.len() - 1 && !line.is_empty());
            } else if !partial {
                rejoined.push(b'\n');
            }
        }
        prop_assert_eq!(rejoined, data);
    }

    #[test]
    fn splitter_events_do_not_depend_on_chunking(
        data in stream_bytes(),
        cuts in vec(any::<usize>(), 0..8),
        max_line in 1usize..12,
    ) {
        let whole = split(max_line, &[Bytes::from(data.clone())]);
        let pieces = split(max_line, &chunked(&data, &cuts));
        prop_assert_eq!(whole, pieces);
    }

    #[test]
    fn splitter_pieces_of_valid_text_decode(
        text in "[a-z\n€é😀]{0,60}",
        cuts in vec(any::<usize>(), 0..8),
        max_line in 4usize..12,
    ) {
        // With room for any character (4 bytes), every piece is whole characters.
        for (line, _, _) in split(max_line, &chunked(text.as_bytes(), &cuts)) {
            prop_assert!(std::str::from_utf8(&line).is_ok(), "{line:?}");
        }
    }

    #[test]
    fn ring_holds_a_boundary_aligned_suffix_with_its_tags(
        pushes in vec((any::<bool>(), some_bytes(24)), 0..16),
        capacity in 0usize..48,
    ) {
        let mut ring = OutputRing::new(capacity);
        let mut all = Vec::new();
        let mut tags = Vec::new();
        for (is_err, bytes) in &pushes {
            let stream = if *is_err { Stream::Stderr } else { Stream::Stdout };
            ring.push(stream, bytes);
            all.extend_from_slice(bytes);
            tags.extend(std::iter::repeat_n(stream, bytes.len()));
            prop_assert!(ring.len() <= capacity);
        }
        let out = ring.snapshot();
        let start = all.len() - out.len();
        prop_assert_eq!(out.combined(), &all[start..]);
        prop_assert_eq!(out.dropped_bytes(), start as u64);
        prop_assert_eq!(ring.dropped_bytes(), start as u64);
        // Following from any offset gives exactly the suffix held from there.
        for from in [0, start / 2, start, all.len().saturating_sub(1), all.len()] {
            let since = ring.output_since(from as u64);
            prop_assert_eq!(since.offset as usize, from.max(start));
            prop_assert_eq!(since.dropped as usize, start.saturating_sub(from));
            prop_assert_eq!(&since.bytes[..], &all[from.max(start)..]);
            prop_assert_eq!(since.cut, since.dropped > 0 && all[start - 1] != b'\n');
        }
        if capacity > 0 {
            // Only the boundary adjustment (at most 3 bytes) may drop more than overflow does.
            prop_assert!(start <= all.len().saturating_sub(capacity) + 3);
        }
        if start > 0 && !out.is_empty() {
            let skipped_all_three = start >= 3 && all[start - 3..start].iter().all(|&b| is_continuation(b));
            prop_assert!(!splits_a_character(&all, start) || skipped_all_three);
        }
        // Tags: each byte keeps its stream; runs are merged and non-empty.
        let mut at = start;
        for (i, chunk) in out.chunks().iter().enumerate() {
            prop_assert!(!chunk.bytes.is_empty());
            prop_assert!(tags[at..at + chunk.bytes.len()].iter().all(|&t| t == chunk.stream));
            if i > 0 {
                prop_assert_ne!(out.chunks()[i - 1].stream, chunk.stream);
            }
            at += chunk.bytes.len();
        }
        prop_assert!(ring.heap_bytes() <= capacity + 64 * size_of::<(Stream, usize)>() * pushes.len().max(1));
    }
}

/// Runs arbitrary chunks through a splitter as the reader does (a [`LineBatch`] per chunk) and
/// rebuilds the input from the events: `\n` after each complete line, nothing after a partial
/// piece or the last line `finish` gave.
fn rejoin_through_batches(max_line: usize, chunks: &[Bytes]) -> Result<Vec<u8>, TestCaseError> {
    let mut splitter = LineSplitter::new(max_line);
    let mut rejoined = Vec::new();
    for chunk in chunks {
        let mut batch = LineBatch::new(Stream::Stdout, chunk.clone());
        splitter.split(chunk, |piece, partial| batch.add(piece, partial));
        batch.shrink();
        for i in 0..batch.len() {
            let (line, partial) = batch.get(i);
            prop_assert!(line.len() <= max_line.max(1));
            prop_assert!(!line.contains(&b'\n'));
            rejoined.extend_from_slice(&line);
            if !partial {
                rejoined.push(b'\n');
            }
        }
    }
    splitter.finish(|line, partial| {
        assert!(!partial && !line.is_empty());
        rejoined.extend_from_slice(&line);
    });
    Ok(rejoined)
}

proptest! {
    // The fuzz target of the line splitter (issue 10), bounded for CI: any bytes, any
    // chunking, any `max_line` (including 0, read as 1): no panic, and the events give back
    // the input exactly.
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn fuzz_splitter_any_bytes_any_chunks_rejoin_exactly(
        data in vec(any::<u8>(), 0..4096),
        newline_every in 0usize..64,
        cuts in vec(any::<usize>(), 0..64),
        max_line in prop_oneof![0usize..8, 8usize..300, Just(64 * 1024)],
    ) {
        // Arbitrary bytes rarely hold a newline: sprinkle some in, at a random density.
        let mut data = data;
        if newline_every > 0 {
            for byte in data.iter_mut().step_by(newline_every) {
                *byte = b'\n';
            }
        }
        let rejoined = rejoin_through_batches(max_line, &chunked(&data, &cuts))?;
        prop_assert_eq!(rejoined, data);
    }
}

/// Whether byte `at` of `all` continues a character whose lead byte comes before it: a head
/// there would begin with half a character. A continuation byte after a complete character
/// (invalid UTF-8) splits nothing.
fn splits_a_character(all: &[u8], at: usize) -> bool {
    if !is_continuation(all[at]) {
        return false;
    }
    let mut lead = at;
    while lead > 0 && at - lead < 3 {
        lead -= 1;
        if !is_continuation(all[lead]) {
            break;
        }
    }
    let length = match all[lead] {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => return false,
    };
    at < lead + length
}
