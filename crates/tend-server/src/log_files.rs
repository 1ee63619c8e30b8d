//! A process's log files on disk (`PATH.N` … `PATH.1`, `PATH`) read as one byte sequence,
//! oldest first: what `GET /processes/{id}/output?format=text` answers from when the capture
//! ring no longer holds the bytes asked for (or never did: a record restored after a daemon
//! restart).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Numbered files looked for at most (a file set keeps `log_keep` of them).
const MAX_NUMBERED: u32 = 10_000;
/// Bytes read at a time when looking backwards for line ends.
const SCAN_CHUNK: u64 = 64 * 1024;

/// `path.N`.
fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// The files of one log, oldest first, with their sizes when listed.
#[derive(Debug, Default)]
pub(crate) struct LogFiles {
    parts: Vec<(PathBuf, u64)>,
}

impl LogFiles {
    /// Lists `path.N` … `path.1` (up to the first missing number) and `path`; missing files
    /// make an empty set.
    pub(crate) fn list(path: &Path) -> Self {
        let size = |path: &Path| std::fs::symlink_metadata(path).ok().filter(|m| m.is_file());
        let mut parts = Vec::new();
        for n in 1..=MAX_NUMBERED {
            let file = numbered(path, n);
            let Some(metadata) = size(&file) else { break };
            parts.push((file, metadata.len()));
        }
        parts.reverse();
        if let Some(metadata) = size(path) {
            parts.push((path.to_path_buf(), metadata.len()));
        }
        Self { parts }
    }

    /// Bytes in all the files.
    pub(crate) fn len(&self) -> u64 {
        self.parts.iter().map(|(_, size)| size).sum()
    }

    /// The bytes from position `start` to the end (as listed; a file that grew is read to
    /// its listed size, one rotated meanwhile is read as far as it goes).
    pub(crate) fn read_from(&self, start: u64) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::with_capacity(self.len().saturating_sub(start) as usize);
        let mut at = 0;
        for (path, size) in &self.parts {
            let end = at + size;
            if end > start {
                let skip = start.saturating_sub(at);
                let mut file = match File::open(path) {
                    Ok(file) => file,
                    Err(error) if error.kind() == io::ErrorKind::NotFound => {
                        at = end;
                        continue;
                    }
                    Err(error) => return Err(error),
                };
                file.seek(SeekFrom::Start(skip))?;
                file.take(size - skip).read_to_end(&mut bytes)?;
            }
            at = end;
        }
        Ok(bytes)
    }

    /// Where the last `lines` lines begin, counting `already` line ends found after the
    /// files (a trailing line end of the whole output not counted): 0 when they hold fewer.
    pub(crate) fn tail_start(&self, lines: u64, already: u64, skip_last: bool) -> io::Result<u64> {
        let mut found = already;
        let mut end = self.len();
        let mut skip_last = skip_last;
        while end > 0 {
            let start = end.saturating_sub(SCAN_CHUNK);
            let chunk = self.read_range(start, end)?;
            let chunk = if skip_last && chunk.last() == Some(&b'\n') {
                &chunk[..chunk.len() - 1]
            } else {
                &chunk[..]
            };
            skip_last = false;
            match line_start(chunk, lines, &mut found) {
                Some(at) => return Ok(start + at as u64),
                None => end = start,
            }
        }
        Ok(0)
    }

    fn read_range(&self, start: u64, end: u64) -> io::Result<Vec<u8>> {
        let mut bytes = self.read_from(start)?;
        bytes.truncate((end - start) as usize);
        Ok(bytes)
    }
}

/// Scans `bytes` backwards for line ends, adding to `found`; where the last `lines` lines
/// begin (just after the `lines`-th line end from the back) if it is in `bytes`.
pub(crate) fn line_start(bytes: &[u8], lines: u64, found: &mut u64) -> Option<usize> {
    if lines == 0 {
        return Some(bytes.len());
    }
    for at in (0..bytes.len()).rev().filter(|&at| bytes[at] == b'\n') {
        *found += 1;
        if *found >= lines {
            return Some(at + 1);
        }
    }
    None
}

/// Removes `path` and its numbered files; best effort.
pub(crate) fn remove(path: &Path) {
    let _ = std::fs::remove_file(path);
    for n in 1..=MAX_NUMBERED {
        if std::fs::remove_file(numbered(path, n)).is_err() {
            break;
        }
    }
}
