//! File-level building blocks of the registry: atomic writes and the directory lock.
//!
//! Writers never let a reader see a half-written entry: they write a hidden temporary file,
//! flush it to disk and rename it over the entry. Pruning a stale entry is a read, a decision
//! and an unlink, which must not remove an entry someone re-registered in between; so renames
//! happen under a *shared* `flock` on the directory's `.lock` file and prunes under an
//! *exclusive* one. Registrations never wait for each other, only for a prune in progress.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use super::error::{RegistryError, StateFileError};
use super::state_file::{MAX_STATE_FILE_BYTES, open_state_file, write_temp};

/// The lock file's name; it does not end in `.json`, so neither tend nor go-process reads it
/// as an entry.
const LOCK_FILE: &str = ".lock";
/// How long an operation waits for the directory lock before reporting the registry busy.
const LOCK_WAIT: Duration = Duration::from_secs(5);

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
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    let file = open_state_file(&mut options, &path).map_err(from_state_file)?;
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
///
/// Entries get mode 0644 like go-process's: they name a PID and an address, nothing secret.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, RegistryError> {
    let (target, temp) = write_temp(dir, name, bytes, 0o644).map_err(from_state_file)?;
    let renamed = lock_dir(dir, LockKind::Shared)
        .and_then(|_lock| fs::rename(&temp, &target).map_err(io_error(&target, "rename")));
    if renamed.is_err() {
        let _ = fs::remove_file(&temp);
    }
    renamed.map(|()| target)
}

/// [`write_atomic`] for a caller that already holds the exclusive directory lock (a shared
/// lock taken on another descriptor would wait for it).
pub(crate) fn write_atomic_locked(
    _held: &DirLock,
    dir: &Path,
    name: &str,
    bytes: &[u8],
) -> Result<PathBuf, RegistryError> {
    let (target, temp) = write_temp(dir, name, bytes, 0o644).map_err(from_state_file)?;
    fs::rename(&temp, &target).map_err(|e| {
        let _ = fs::remove_file(&temp);
        io_error(&target, "rename")(e)
    })?;
    Ok(target)
}

/// Reads a file without following a symbolic link; `None` if it does not exist (removed
/// concurrently, or never written).
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, RegistryError> {
    let file = match open_state_file(OpenOptions::new().read(true), path) {
        Ok(file) => file,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(from_state_file(e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_STATE_FILE_BYTES).read_to_end(&mut bytes).map_err(io_error(path, "read"))?;
    Ok(Some(bytes))
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

/// A state-file error as a registry error: an I/O failure stays one, the rest are refusals.
fn from_state_file(error: StateFileError) -> RegistryError {
    match error {
        StateFileError::Io { path, op, source } => RegistryError::Io { path, op, source },
        other => RegistryError::Refused(other),
    }
}

pub(crate) fn io_error(path: &Path, op: &'static str) -> impl FnOnce(io::Error) -> RegistryError {
    let path = path.to_path_buf();
    move |source| RegistryError::Io { path, op, source }
}
