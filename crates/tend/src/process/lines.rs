//! [`ProcessEvents`] and [`Lines`]: one process's output as lines, replayed from its capture
//! ring from the first byte it still holds, then followed live until the process is over.
//!
//! They read the ring, not the service's event bus, so they may be created at any time —
//! also after the process has ended — and never miss a line the ring still holds. When the
//! ring dropped bytes before they were read, a [`Lagged`] item says how many: nothing is
//! skipped silently.

use std::collections::VecDeque;

use bytes::Bytes;

use super::handle::Process;
use super::info::ProcessInfo;
use crate::output::{LineSplitter, Stream};

/// Most bytes taken from the ring at a time, which bounds the lines queued in a reader (64 KiB
/// of empty lines is 65,536 of them).
const READ_LIMIT: usize = 64 * 1024;

/// One line of a process's output: its bytes exactly as written, without the `\n` (a `\r`
/// before it is kept; invalid UTF-8 is kept). The last line of a stream is delivered even
/// without a newline.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Line {
    /// The stream it was written to.
    pub stream: Stream,
    /// The bytes, without the `\n`.
    pub bytes: Bytes,
    /// This is a piece of a line longer than the process's
    /// [`max_line`](crate::StartOptions::max_line), continued by the next line of
    /// the same stream — or, just before a [`Lagged`], a line whose rest was dropped.
    pub partial: bool,
}

impl Line {
    /// The bytes as text, invalid UTF-8 replaced by `U+FFFD`.
    pub fn to_string_lossy(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// Output was dropped from the process's capture ring before this reader read it (the ring
/// holds the last [`ring_size`](crate::StartOptions::ring_size) bytes). The next
/// line may be the tail of a line whose start was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{dropped_bytes} bytes of output were dropped before they were read")]
#[non_exhaustive]
pub struct Lagged {
    /// How many bytes, both streams together.
    pub dropped_bytes: u64,
}

/// One item of [`Process::events`].
#[derive(Debug, Clone)]
pub enum ProcessEvent {
    /// A line of output.
    Line(Line),
    /// Output was dropped before it was read.
    Lagged(Lagged),
    /// The process is over (after its last run, with its output drained); always the last
    /// item. Boxed: it is large and comes once.
    Exited(Box<ProcessInfo>),
}

/// The output of one process as [`ProcessEvent`]s: every line its capture ring still holds,
/// from the first, then the lines it writes, then [`ProcessEvent::Exited`]. From
/// [`Process::events`].
///
/// Lines keep their stream. Lines of the two streams come in the order the supervisor read
/// them (two pipes give no finer order). Reading needs capture (on by default); with capture
/// off only `Exited` comes. With a restart policy all runs are followed; a last line without
/// a newline is then joined to the next run's first line of the same stream.
#[derive(Debug)]
pub struct ProcessEvents {
    process: Process,
    /// The ring offset of the next byte to read.
    offset: u64,
    /// One splitter per stream, indexed by [`slot`].
    splitters: [LineSplitter; 2],
    queue: VecDeque<ProcessEvent>,
    ended: bool,
}

impl ProcessEvents {
    pub(crate) fn new(process: Process) -> Self {
        Self::from_offset(process, 0)
    }

    /// The events from output offset `offset` on (at a line boundary).
    fn from_offset(process: Process, offset: u64) -> Self {
        let max_line = process.shared().options.max_line;
        ProcessEvents {
            process,
            offset,
            splitters: [LineSplitter::new(max_line), LineSplitter::new(max_line)],
            queue: VecDeque::new(),
            ended: false,
        }
    }

    /// The next item; `None` after [`ProcessEvent::Exited`]. Cancel-safe: dropping the future
    /// loses nothing.
    pub async fn recv(&mut self) -> Option<ProcessEvent> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Some(event);
            }
            if self.ended {
                return None;
            }
            if self.process.wait_output(self.offset).await {
                self.read();
            } else {
                self.flush(false);
                self.queue.push_back(ProcessEvent::Exited(Box::new(self.process.info())));
                self.ended = true;
            }
        }
    }

    /// Takes the next bytes from the ring and queues their lines.
    fn read(&mut self) {
        let (offset, dropped, chunks) =
            self.process.shared().ring().chunks_since(self.offset, READ_LIMIT);
        if dropped > 0 {
            // The lines under way lost their rest: hand out what we have, flagged.
            self.flush(true);
            self.queue.push_back(ProcessEvent::Lagged(Lagged { dropped_bytes: dropped }));
        }
        self.offset = offset;
        for chunk in chunks {
            self.offset += chunk.bytes.len() as u64;
            let stream = chunk.stream;
            let bytes = Bytes::from(chunk.bytes);
            let queue = &mut self.queue;
            self.splitters[slot(stream)].push(&bytes, |bytes, partial| {
                queue.push_back(ProcessEvent::Line(Line { stream, bytes, partial }));
            });
        }
    }

    /// Queues the unterminated line of each stream, if any.
    fn flush(&mut self, partial: bool) {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let queue = &mut self.queue;
            self.splitters[slot(stream)].finish(|bytes, _| {
                queue.push_back(ProcessEvent::Line(Line { stream, bytes, partial }));
            });
        }
    }
}

fn slot(stream: Stream) -> usize {
    match stream {
        Stream::Stdout => 0,
        Stream::Stderr => 1,
    }
}

/// The lines of one process: [`ProcessEvents`] without the end, each item `Ok(line)` or
/// `Err(Lagged)` when output was dropped before it was read. Ends (`None`) when the process is
/// over. From [`Process::lines`].
#[derive(Debug)]
pub struct Lines {
    events: ProcessEvents,
}

impl Lines {
    pub(crate) fn new(process: Process) -> Self {
        Lines { events: ProcessEvents::new(process) }
    }

    /// The lines of the process's current run only: after a restart on the same record,
    /// what the runs before it printed is not read again.
    pub(crate) fn of_current_run(process: Process) -> Self {
        let offset = process.shared().state().run_output_start;
        Lines { events: ProcessEvents::from_offset(process, offset) }
    }

    /// The next line, `Err` when output was dropped before this, `None` once the process is
    /// over and every line has been read. Cancel-safe.
    pub async fn recv(&mut self) -> Option<Result<Line, Lagged>> {
        loop {
            match self.events.recv().await? {
                ProcessEvent::Line(line) => return Some(Ok(line)),
                ProcessEvent::Lagged(lagged) => return Some(Err(lagged)),
                ProcessEvent::Exited(_) => {}
            }
        }
    }
}
