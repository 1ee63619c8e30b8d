//! [`LogSnapshot`]: a log's files (`PATH.N` … `PATH.1`, `PATH`) at one instant, read as one
//! byte sequence, oldest first, from handles opened at that instant.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::files::numbered;

/// Numbered files looked for at most when listing by path.
const MAX_NUMBERED: u32 = 10_000;

/// A log's content at one instant: its files, oldest first, each open and with its size at
/// that instant, then the unfinished line the writer held in memory.
///
/// Taken from a live writer ([`SharedLogFile::snapshot`](super::SharedLogFile::snapshot),
/// [`Process::log_snapshot`](crate::Process::log_snapshot)) it is taken under the writer's
/// lock, so no write or rotation is half done in it; it reads from the handles opened then,
/// so a later rotation (which renames or removes the files) does not change what it reads.
#[derive(Debug, Default)]
pub struct LogSnapshot {
    parts: Vec<(File, u64)>,
    held: Vec<u8>,
    len: u64,
}

impl LogSnapshot {
    /// Lists `path.N` … `path.1` (up to the first missing number) and `path` as they are now,
    /// with no writer's lock: exact when nothing writes to them (a log whose writer is gone).
    /// Missing files make an empty snapshot.
    pub fn list(path: &Path) -> Self {
        Self::list_with_held(path, Vec::new())
    }

    /// As [`list`](Self::list), then `held` (what the writer holds in memory).
    pub(super) fn list_with_held(path: &Path, held: Vec<u8>) -> Self {
        let mut parts = Vec::new();
        for n in 1..=MAX_NUMBERED {
            let Some(part) = open_regular(&numbered(path, n)) else { break };
            parts.push(part);
        }
        parts.reverse();
        parts.extend(open_regular(path));
        let len = parts.iter().map(|(_, size)| size).sum::<u64>() + held.len() as u64;
        Self { parts, held, len }
    }

    /// Bytes in it.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it holds no byte.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keeps only its first `len` bytes (those of a process that wrote before others).
    pub(crate) fn truncate(&mut self, len: u64) {
        self.len = self.len.min(len);
    }

    /// The bytes from position `start` to the end.
    ///
    /// # Errors
    ///
    /// A read error of one of the files.
    pub fn read_from(&self, start: u64) -> io::Result<Vec<u8>> {
        self.read_range(start, self.len)
    }

    /// The bytes from position `start` to `end` (both clamped to its length). A file cut
    /// short since (by someone else than the writer) gives what it still holds.
    ///
    /// # Errors
    ///
    /// A read error of one of the files.
    pub fn read_range(&self, start: u64, end: u64) -> io::Result<Vec<u8>> {
        let end = end.min(self.len);
        let mut bytes = Vec::with_capacity(end.saturating_sub(start) as usize);
        let mut at = 0;
        for (file, size) in &self.parts {
            let (from, to) = (start.max(at), end.min(at + size));
            if from < to {
                read_at(file, from - at, to - from, &mut bytes)?;
            }
            at += size;
        }
        let (from, to) = (start.max(at), end.min(at + self.held.len() as u64));
        if from < to {
            bytes.extend_from_slice(&self.held[(from - at) as usize..(to - at) as usize]);
        }
        Ok(bytes)
    }
}

/// `path` opened for reading with its size, if it is a regular file.
fn open_regular(path: &Path) -> Option<(File, u64)> {
    let file = File::open(path).ok()?;
    let metadata = file.metadata().ok().filter(std::fs::Metadata::is_file)?;
    Some((file, metadata.len()))
}

/// Appends up to `count` bytes of `file` from `offset` (fewer if it ends before).
fn read_at(file: &File, offset: u64, count: u64, bytes: &mut Vec<u8>) -> io::Result<()> {
    let mut buffer = vec![0; count as usize];
    let mut done = 0;
    while done < buffer.len() {
        match file.read_at(&mut buffer[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    bytes.extend_from_slice(&buffer[..done]);
    Ok(())
}

/// Where one process's output stands in a shared log, advanced under the log's lock with
/// each of its writes, so a [`LogSnapshot`] and these counts always agree.
#[derive(Debug, Default)]
pub(crate) struct LogCount {
    /// Bytes of its output handled by the writer: written, held, or lost to a write error.
    pub(crate) logged: AtomicU64,
    /// The log's [`accounted`](super::LogFile) count just after its latest write: where its
    /// bytes end in the log's stream of bytes.
    pub(crate) stream_end: AtomicU64,
}

impl LogCount {
    /// Bytes of its output handled by the writer.
    pub(crate) fn logged(&self) -> u64 {
        self.logged.load(Ordering::Relaxed)
    }
}
