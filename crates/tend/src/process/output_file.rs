//! Appending a process's combined output to a file, whole lines at a time.
//!
//! Each reader cuts its chunks at the last newline and sends the complete lines (with their
//! `\n`) to one writer task per process, so a stdout line and a stderr line never interleave
//! mid-line in the file. The writer does the blocking `write`s on Tokio's blocking pool: a
//! slow disk never stalls the runtime's worker threads, and readers only wait for it once
//! [`QUEUE`] units are in flight. The file is opened with `O_APPEND`, so each unit (usually one
//! `write`) lands at the end even when other processes append to the same file.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::logfile::{LogCount, SharedLogFile};

/// Units (runs of whole lines, up to one read chunk each) queued before readers wait.
const QUEUE: usize = 32;
/// After this long with no output, a rotating log file's descriptor is closed until the next
/// output (thousands of quiet processes must not hold one each).
const QUIET: Duration = Duration::from_secs(2);
/// Longest the end of a process waits for its output to reach the file.
const FLUSH_PATIENCE: Duration = Duration::from_secs(5);

/// The writer side: owns the task that writes to the file.
#[derive(Debug)]
pub(crate) struct OutputFile {
    sender: mpsc::Sender<Bytes>,
    task: JoinHandle<()>,
}

impl OutputFile {
    /// Opens `path` for appending, creating it if missing, and starts the writer task, which
    /// adds to `logged` the bytes it has handed to the file.
    pub(crate) fn open(path: &Path, logged: Arc<LogCount>) -> std::io::Result<Self> {
        let file = OpenOptions::new().append(true).create(true).open(path)?;
        Ok(Self::start(Sink::File { file: Arc::new(file), path: path.to_path_buf() }, logged))
    }

    /// Starts the writer task for a shared rotating log file; each write advances `logged`
    /// under the log's lock (see [`SharedLogFile::snapshot`]).
    pub(crate) fn log(log: SharedLogFile, logged: Arc<LogCount>) -> Self {
        Self::start(Sink::Log(log), logged)
    }

    fn start(sink: Sink, logged: Arc<LogCount>) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let task = tokio::spawn(write_all(sink, receiver, logged));
        Self { sender, task }
    }

    /// A line gate for one reader of one run, cutting lines longer than `max_line`.
    pub(crate) fn gate(&self, max_line: usize) -> LineGate {
        LineGate { pending: BytesMut::new(), max_line, sender: self.sender.clone() }
    }

    /// Waits (boundedly) until everything the readers sent is written. Call after the
    /// readers ended, so that this is the last sender.
    pub(crate) async fn close(self) {
        let Self { sender, task } = self;
        drop(sender);
        if tokio::time::timeout(FLUSH_PATIENCE, task).await.is_err() {
            tracing::warn!("output file still being written {FLUSH_PATIENCE:?} after the end");
        }
    }
}

/// Holds back a stream's unfinished line, so only whole lines go to the file.
#[derive(Debug)]
pub(crate) struct LineGate {
    pending: BytesMut,
    max_line: usize,
    sender: mpsc::Sender<Bytes>,
}

impl LineGate {
    /// Sends the complete lines of `chunk` (with what was held back before them) and holds
    /// back its unfinished tail. A line longer than `max_line` goes out in pieces, so memory
    /// stays bounded; only such pieces can have the other stream's lines between them.
    pub(crate) async fn push(&mut self, chunk: &Bytes) {
        let unit = match memchr::memrchr(b'\n', chunk) {
            Some(last) if self.pending.is_empty() => {
                self.pending.extend_from_slice(&chunk[last + 1..]);
                chunk.slice(..=last)
            }
            Some(last) => {
                self.pending.extend_from_slice(&chunk[..=last]);
                let unit = self.pending.split().freeze();
                self.pending.extend_from_slice(&chunk[last + 1..]);
                unit
            }
            None => {
                self.pending.extend_from_slice(chunk);
                if self.pending.len() <= self.max_line {
                    return;
                }
                self.pending.split().freeze()
            }
        };
        self.send(unit).await;
        if self.pending.len() > self.max_line {
            let piece = self.pending.split().freeze();
            self.send(piece).await;
        }
    }

    /// End of stream: sends the last line, even without its newline.
    pub(crate) async fn finish(mut self) {
        if !self.pending.is_empty() {
            let rest = self.pending.split().freeze();
            self.send(rest).await;
        }
    }

    async fn send(&self, unit: Bytes) {
        // The writer ends only once every gate is gone, so this cannot fail.
        let _ = self.sender.send(unit).await;
    }
}

/// Where the writer task writes.
#[derive(Clone)]
enum Sink {
    /// A plain file opened for appending.
    File { file: Arc<File>, path: PathBuf },
    /// A rotating log file, shared with other processes.
    Log(SharedLogFile),
}

impl Sink {
    /// Writes `units` in order (blocking). A log counts them in `count` as it writes them,
    /// under its lock; a plain file leaves that to the caller.
    fn write(&self, units: &[Bytes], count: &LogCount) -> Result<(), String> {
        match self {
            Sink::File { file, .. } => units
                .iter()
                .try_for_each(|unit| (&**file).write_all(unit))
                .map_err(|e| e.to_string()),
            Sink::Log(log) => {
                // Every unit is tried: a failed one is counted as lost, the next may succeed.
                let failures =
                    units.iter().filter_map(|unit| log.write_counted(unit, Some(count)).err());
                failures.last().map_or(Ok(()), |error| Err(error.to_string()))
            }
        }
    }
}

/// The writer task: takes whatever is queued, writes it on the blocking pool, repeats. After
/// a write error to a plain file it warns once and discards the rest, so readers never wait
/// on a dead file. A log file stays usable after an error (space may be freed), so every
/// batch is tried; the log file keeps, logs and counts its errors itself (a failed write
/// returns at once, so a failing disk never holds the readers up).
async fn write_all(sink: Sink, mut receiver: mpsc::Receiver<Bytes>, logged: Arc<LogCount>) {
    // Empty while waiting: `recv_many` reserves room once units arrive.
    let mut batch = Vec::new();
    let mut failed = false;
    let count_plain = |bytes: usize| logged.logged.fetch_add(bytes as u64, Ordering::Relaxed);
    loop {
        let received =
            match tokio::time::timeout(QUIET, receiver.recv_many(&mut batch, QUEUE)).await {
                Ok(received) => received,
                Err(_) => {
                    if let Sink::Log(log) = &sink {
                        log.release_file();
                    }
                    receiver.recv_many(&mut batch, QUEUE).await
                }
            };
        if received == 0 {
            break;
        }
        let units = std::mem::take(&mut batch);
        let bytes: usize = units.iter().map(Bytes::len).sum();
        if failed {
            count_plain(bytes);
            continue;
        }
        let writer = sink.clone();
        let count = logged.clone();
        let written = tokio::task::spawn_blocking(move || writer.write(&units, &count)).await;
        if let Sink::File { .. } = sink {
            count_plain(bytes);
        }
        let error = match written {
            Ok(Ok(())) => continue,
            Ok(Err(error)) => error,
            Err(join) => join.to_string(),
        };
        match &sink {
            Sink::File { path, .. } => {
                tracing::warn!(path = %path.display(), %error, "cannot write the output file; dropping further output to it");
                failed = true;
            }
            Sink::Log(_) => {}
        }
    }
}
