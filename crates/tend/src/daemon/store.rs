//! File-level building blocks of the registry: atomic writes and the directory lock.
//!
//! Writers never let a reader see a half-written entry: they write a hidden temporary file,
//! flush it to disk and rename it over the entry. Pruning a stale entry is a read, a decision
//! and an unlink, which must not remove an entry someone re-registered in between; so renames
//! happen under a *shared* `flock` on the directory's `.lock` file and prunes under an
//! *exclusive* one. Registrations never wait for each other, only for a prune in progress.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use super::error::RegistryError;

/// The lock file's name; it does not end in `.json`, so neither tend nor go-process reads it
/// as an entry.
const LOCK_FILE: &str = ".lock";
/// How long an operation waits for the directory lock before reporting the registry busy.
const LOCK_WAIT: Duration = Duration::from_secs(5);

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A held directory lock; dropping it unlocks.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

/// Which kind of directory lock to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LockKind {
    /// Many holders at once: for atomic renames.
    Shared,
    /// A single holder: for read-decide-remove sequences.
    Exclusive,
}

/// Takes the directory lock, polling for at most [`LOCK_WAIT`] so a stopped or hung holder
/// produces an error instead of a hang.
pub(crate) fn lock_dir(dir: &Path, kind: LockKind) -> Result<DirLock, RegistryError> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io_error(&path, "open lock file"))?;
    let started = Instant::now();
    let mut pause = Duration::from_micros(200);
    loop {
        let attempt = match kind {
            LockKind::Shared => file.try_lock_shared(),
            LockKind::Exclusive => file.try_lock(),
        };
        match attempt {
            Ok(()) => return Ok(DirLock { _file: file }),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => return Err(io_error(&path, "lock")(e)),
        }
        if started.elapsed() >= LOCK_WAIT {
            return Err(RegistryError::Busy { dir: dir.to_path_buf(), waited: LOCK_WAIT });
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

/// Writes `bytes` to `dir/name` atomically: a reader sees the old content or the new, never a
/// mix, and after a crash the file is whole or absent.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, RegistryError> {
    let target = dir.join(name);
    let counter = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    // Hidden and not ending in `.json`: invisible to readers of either implementation.
    let temp = dir.join(format!(".{name}.{}.{counter}.tmp", std::process::id()));
    let written = (|| -> io::Result<()> {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&temp)?;
        file.write_all(bytes)?;
        // Flush before the rename, or a crash could leave an empty file under the final name.
        file.sync_data()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        // Name the entry, not the temporary file the user never asked for.
        return Err(io_error(&target, "write")(e));
    }
    let renamed = lock_dir(dir, LockKind::Shared)
        .and_then(|_lock| fs::rename(&temp, &target).map_err(io_error(&target, "rename")));
    if renamed.is_err() {
        let _ = fs::remove_file(&temp);
    }
    renamed.map(|()| target)
}

/// Reads a file; `None` if it does not exist (removed concurrently, or never written).
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, RegistryError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path, "read")(e)),
    }
}

/// Removes a file; an already missing file is not an error.
pub(crate) fn remove_optional(path: &Path) -> Result<bool, RegistryError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error(path, "remove")(e)),
    }
}

/// How long ago a file was last modified; `None` if unknown.
pub(crate) fn age(path: &Path) -> Option<Duration> {
    fs::metadata(path).and_then(|m| m.modified()).ok()?.elapsed().ok()
}

pub(crate) fn io_error(path: &Path, op: &'static str) -> impl FnOnce(io::Error) -> RegistryError {
    let path = path.to_path_buf();
    move |source| RegistryError::Io { path, op, source }
}
