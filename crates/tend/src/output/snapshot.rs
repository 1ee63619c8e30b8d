//! [`Output`] and [`OutputChunk`]: an owned copy of captured output.

use super::Stream;

/// A run of bytes written to one stream, exactly as the child wrote them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputChunk {
    /// The stream the bytes were written to.
    pub stream: Stream,
    /// The bytes, unaltered: no newline added or removed, invalid UTF-8 kept.
    pub bytes: Vec<u8>,
}

impl OutputChunk {
    /// The bytes as text, invalid UTF-8 replaced by `U+FFFD`.
    pub fn to_string_lossy(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// Captured bytes from a given offset on: what [`Process::output_since`] returns, for
/// following the output exactly, byte for byte.
///
/// Offsets count every byte the process ever wrote (both streams, in capture order), so a
/// follower asks for `offset + bytes.len()` next. When the ring dropped bytes the follower had
/// not read yet, `dropped` says how many, and `cut` whether the first byte shown is in the
/// middle of a line.
///
/// [`Process::output_since`]: crate::Process::output_since
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputSince {
    /// Offset of the first byte of `bytes`.
    pub offset: u64,
    /// Bytes between the offset asked for and `offset` that were dropped before anyone read
    /// them.
    pub dropped: u64,
    /// Bytes were dropped and the first byte shown does not start a line.
    pub cut: bool,
    /// The bytes held from `offset` on, both streams in the order they were read, exactly as
    /// written.
    pub bytes: Vec<u8>,
}

impl OutputSince {
    /// The offset to ask for next.
    pub fn next_offset(&self) -> u64 {
        self.offset + self.bytes.len() as u64
    }
}

/// A copy of captured output, in the order it was written, each chunk tagged with its stream.
///
/// Consecutive chunks always belong to different streams (runs of the same stream are merged),
/// and no chunk is empty. When the capture buffer overflowed, the oldest bytes are missing:
/// [`Output::dropped_bytes`] says how many.
///
/// ```
/// # fn show(output: &tend::Output) {
/// // Print what the process wrote to stderr, as text.
/// eprintln!("{}", String::from_utf8_lossy(&output.stderr()));
/// for chunk in output.chunks() {
///     println!("{}: {} bytes", chunk.stream, chunk.bytes.len());
/// }
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    chunks: Vec<OutputChunk>,
    dropped_bytes: u64,
}

impl Output {
    /// Builds an output from chunks the caller guarantees to be non-empty and merged.
    pub(crate) fn from_parts(chunks: Vec<OutputChunk>, dropped_bytes: u64) -> Self {
        debug_assert!(chunks.iter().all(|c| !c.bytes.is_empty()));
        debug_assert!(chunks.windows(2).all(|w| w[0].stream != w[1].stream));
        Output { chunks, dropped_bytes }
    }

    /// The chunks, oldest first.
    pub fn chunks(&self) -> &[OutputChunk] {
        &self.chunks
    }

    /// All bytes of both streams, in the order they were captured: each stream in its write
    /// order; across the two, the order in which their pipes were read, unless
    /// [`StartOptions::merge_stderr`](crate::StartOptions::merge_stderr) put both on one pipe,
    /// which keeps the exact order of writes.
    pub fn combined(&self) -> Vec<u8> {
        self.collect(|_| true)
    }

    /// Only the bytes written to stdout.
    pub fn stdout(&self) -> Vec<u8> {
        self.collect(|s| s == Stream::Stdout)
    }

    /// Only the bytes written to stderr.
    pub fn stderr(&self) -> Vec<u8> {
        self.collect(|s| s == Stream::Stderr)
    }

    /// [`Output::combined`] as text, invalid UTF-8 replaced by `U+FFFD`.
    pub fn to_string_lossy(&self) -> String {
        String::from_utf8_lossy(&self.combined()).into_owned()
    }

    /// How many bytes the capture buffer had dropped (oldest first) before this copy was taken.
    pub fn dropped_bytes(&self) -> u64 {
        self.dropped_bytes
    }

    /// Whether no bytes were captured (or all were dropped).
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// The number of bytes held, both streams together.
    pub fn len(&self) -> usize {
        self.chunks.iter().map(|c| c.bytes.len()).sum()
    }

    fn collect(&self, want: impl Fn(Stream) -> bool) -> Vec<u8> {
        let wanted = || self.chunks.iter().filter(|c| want(c.stream));
        // One exact allocation: these copies can be as large as the ring.
        let mut out = Vec::with_capacity(wanted().map(|c| c.bytes.len()).sum());
        for chunk in wanted() {
            out.extend_from_slice(&chunk.bytes);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(stream: Stream, bytes: &[u8]) -> OutputChunk {
        OutputChunk { stream, bytes: bytes.to_vec() }
    }

    #[test]
    fn accessors_split_and_join_streams() {
        let output = Output::from_parts(
            vec![
                chunk(Stream::Stdout, b"a\r\n"),
                chunk(Stream::Stderr, b"oops\n"),
                chunk(Stream::Stdout, b"b\xff"),
            ],
            7,
        );
        assert_eq!(output.combined(), b"a\r\noops\nb\xff");
        assert_eq!(output.stdout(), b"a\r\nb\xff");
        assert_eq!(output.stderr(), b"oops\n");
        assert_eq!(output.to_string_lossy(), "a\r\noops\nb\u{fffd}");
        assert_eq!(output.chunks()[2].to_string_lossy(), "b\u{fffd}");
        assert_eq!(output.len(), 10);
        assert!(!output.is_empty());
        assert_eq!(output.dropped_bytes(), 7);
    }

    #[test]
    fn default_is_empty() {
        let output = Output::default();
        assert!(output.is_empty());
        assert_eq!(output.len(), 0);
        assert!(output.combined().is_empty() && output.stdout().is_empty());
        assert_eq!(output.dropped_bytes(), 0);
    }
}
