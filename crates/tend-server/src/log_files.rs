//! A process's log files on disk (`PATH.N` … `PATH.1`, `PATH`), read as one byte sequence
//! ([`LogSnapshot`]) by `GET /processes/{id}/output?format=text` when the capture ring no
//! longer holds the bytes asked for (or never did: a record restored after a daemon
//! restart): looking back for line starts, and removing the files.

use std::io;
use std::path::{Path, PathBuf};

use tend::logfile::LogSnapshot;

/// Numbered files removed at most (a file set keeps `log_keep` of them).
const MAX_NUMBERED: u32 = 10_000;
/// Bytes read at a time when looking backwards for line ends.
const SCAN_CHUNK: u64 = 64 * 1024;

/// `path.N`.
fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// Where the last `lines` lines of `files` begin, counting `already` line ends found after
/// them (a trailing line end of the whole output not counted): 0 when they hold fewer.
pub(crate) fn tail_start(
    files: &LogSnapshot,
    lines: u64,
    already: u64,
    skip_last: bool,
) -> io::Result<u64> {
    let mut found = already;
    let mut end = files.len();
    let mut skip_last = skip_last;
    while end > 0 {
        let start = end.saturating_sub(SCAN_CHUNK);
        let chunk = files.read_range(start, end)?;
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
