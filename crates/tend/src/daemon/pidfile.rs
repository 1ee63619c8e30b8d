//! A PID file that guarantees a single instance: an `flock` held for the daemon's lifetime.
//!
//! The lock, not the file's content, decides who owns the file. The kernel drops the lock when
//! its holder dies in any way (SIGKILL included), so a crashed daemon never blocks its successor
//! and a reused PID never makes a stale file look held. The PID written inside is for people and
//! for [`read_pid`].
//!
//! The file is opened without following a symbolic link (a link planted at its path is
//! refused, not used to truncate the file it points to) and must be a regular file. If the
//! PID cannot be written (a full disk), the file is removed rather than left empty.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use super::error::{PidFileError, StateFileError};
use super::state_file::{check_regular, open_state_file};
use crate::os::{self, Liveness};

/// How long a loser waits for the winner to write its PID, so the error can name it.
const HOLDER_PID_WAIT: Duration = Duration::from_secs(1);
/// How often acquisition starts over when the file is replaced under us.
const REPLACED_RETRIES: usize = 100;

/// An acquired PID file. While it exists, no other process or thread can acquire the same path.
///
/// Dropping it releases it like [`release`](Self::release), ignoring errors.
///
/// The descriptor is opened close-on-exec, so children spawned by the daemon do not inherit
/// the lock and cannot keep it alive after the daemon exits.
///
/// ```no_run
/// use tend::daemon::PidFile;
///
/// let pid_file = PidFile::acquire("/run/user/1000/myapp.pid")?;
/// // ... run the daemon ...
/// pid_file.release()?;
/// # Ok::<(), tend::daemon::PidFileError>(())
/// ```
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
    file: Option<File>,
    pid: u32,
}

/// What [`read_pid`] found in a PID file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PidStatus {
    /// The PID written in the file.
    pub pid: u32,
    /// Whether a process with that PID exists. A process we may not signal (`EPERM`) counts as
    /// alive; a zombie counts as dead.
    pub alive: bool,
}

impl PidFile {
    /// Acquires the PID file at `path`: creates the parent directories, takes an exclusive
    /// `flock` without waiting, and writes `PID\n`.
    ///
    /// A file nobody holds a lock on is stale (its owner died) and is taken over.
    ///
    /// # Errors
    ///
    /// [`PidFileError::Held`] naming the path and the holder's PID when another process or
    /// another handle in this process holds it; [`PidFileError::Refused`] when the path is a
    /// symbolic link or not a regular file; [`PidFileError::Io`] when a file-system step
    /// fails (its message says when the disk is full).
    pub fn acquire(path: impl AsRef<Path>) -> Result<Self, PidFileError> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(io_error(parent, "create directory"))?;
        }
        for _ in 0..REPLACED_RETRIES {
            let mut options = OpenOptions::new();
            options.read(true).write(true).create(true).truncate(false);
            let mut file = open_state_file(&mut options, &path).map_err(refused)?;
            let metadata = file.metadata().map_err(io_error(&path, "inspect"))?;
            check_regular(&path, &metadata).map_err(refused)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    let pid = wait_for_holder_pid(&mut file);
                    return Err(PidFileError::Held { path, pid });
                }
                Err(TryLockError::Error(e)) => return Err(io_error(&path, "lock")(e)),
            }
            // The previous owner may have removed the file between our open and our lock: we
            // would then hold a lock on an unlinked file while a third process creates and
            // locks a fresh one. Only a lock on the file the path names counts.
            if !same_file(&file, &path) {
                continue;
            }
            let pid = std::process::id();
            let written = file.set_len(0).map_err(io_error(&path, "truncate")).and_then(|()| {
                file.write_all(format!("{pid}\n").as_bytes()).map_err(io_error(&path, "write"))
            });
            if let Err(error) = written {
                // Still under our lock: an empty or partial PID file would only mislead.
                let _ = fs::remove_file(&path);
                return Err(error);
            }
            return Ok(Self { path, file: Some(file), pid });
        }
        Err(io_error(&path, "lock")(std::io::Error::other(
            "the file kept being replaced while we acquired it",
        )))
    }

    /// The path of the PID file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The PID written in the file (this process).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Removes the file if it is still ours, then drops the lock.
    ///
    /// If someone replaced or removed the file meanwhile, their file is left alone.
    ///
    /// # Errors
    ///
    /// [`PidFileError::Io`] if removing our own file failed; the lock is dropped regardless.
    pub fn release(mut self) -> Result<(), PidFileError> {
        self.release_inner()
    }

    fn release_inner(&mut self) -> Result<(), PidFileError> {
        let Some(file) = self.file.take() else { return Ok(()) };
        // Remove while still holding the lock: a competitor that opened the old file blocks
        // on it, and after we let go finds the path no longer names that file and starts over.
        let result = if same_file(&file, &self.path) {
            match fs::remove_file(&self.path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(io_error(&self.path, "remove")(e)),
            }
        } else {
            Ok(())
        };
        drop(file);
        result
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = self.release_inner();
    }
}

/// Reads the PID in a PID file and checks whether that process exists.
///
/// This is an observer's view: it does not look at the lock, so after a crash a reused PID can
/// read as alive. Use [`PidFile::acquire`] to decide who may run.
///
/// # Errors
///
/// [`PidFileError::Refused`] if the path is a symbolic link (it is not followed),
/// [`PidFileError::Io`] if the file cannot be read, [`PidFileError::Invalid`] if it does not
/// hold a PID.
///
/// ```no_run
/// let status = tend::daemon::read_pid("/run/user/1000/myapp.pid")?;
/// if status.alive {
///     println!("running as PID {}", status.pid);
/// }
/// # Ok::<(), tend::daemon::PidFileError>(())
/// ```
pub fn read_pid(path: impl AsRef<Path>) -> Result<PidStatus, PidFileError> {
    let path = path.as_ref();
    let mut content = String::new();
    open_state_file(OpenOptions::new().read(true), path)
        .map_err(refused)?
        .take(64 * 1024)
        .read_to_string(&mut content)
        .map_err(io_error(path, "read"))?;
    let pid = parse_pid(&content).ok_or_else(|| PidFileError::Invalid {
        path: path.to_path_buf(),
        content: content.chars().take(64).collect(),
    })?;
    Ok(PidStatus { pid, alive: os::liveness(pid) == Liveness::Alive })
}

fn parse_pid(content: &str) -> Option<u32> {
    content.trim().parse::<u32>().ok().filter(|&pid| pid > 0)
}

/// Reads the holder's PID through our own descriptor. The holder truncates and writes right
/// after locking, so an empty file is retried briefly rather than reported as "unknown".
fn wait_for_holder_pid(file: &mut File) -> Option<u32> {
    let deadline = Instant::now() + HOLDER_PID_WAIT;
    loop {
        let mut content = String::new();
        let read = file.seek(SeekFrom::Start(0)).and_then(|_| file.read_to_string(&mut content));
        // The newline is written last: without it the holder may be mid-write.
        let complete = read.is_ok() && content.ends_with('\n');
        if let Some(pid) = parse_pid(&content).filter(|_| complete) {
            return Some(pid);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Whether `path` currently names the same file as the open descriptor.
fn same_file(file: &File, path: &Path) -> bool {
    match (file.metadata(), fs::metadata(path)) {
        (Ok(ours), Ok(named)) => ours.dev() == named.dev() && ours.ino() == named.ino(),
        _ => false,
    }
}

/// A state-file check's error as ours: an I/O failure stays one, the rest are refusals.
fn refused(error: StateFileError) -> PidFileError {
    match error {
        StateFileError::Io { path, op, source } => PidFileError::Io { path, op, source },
        other => PidFileError::Refused(other),
    }
}

fn io_error(path: &Path, op: &'static str) -> impl FnOnce(std::io::Error) -> PidFileError {
    let path = path.to_path_buf();
    move |source| PidFileError::Io { path, op, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pid_with_or_without_newline() {
        assert_eq!(parse_pid("123\n"), Some(123));
        assert_eq!(parse_pid(" 42 "), Some(42));
        assert_eq!(parse_pid(""), None);
        assert_eq!(parse_pid("0\n"), None);
        assert_eq!(parse_pid("-5"), None);
        assert_eq!(parse_pid("abc"), None);
    }

    #[test]
    fn second_handle_in_same_process_is_refused_and_release_frees() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/app.pid");
        let first = PidFile::acquire(&path).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), format!("{}\n", std::process::id()));
        match PidFile::acquire(&path) {
            Err(PidFileError::Held { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected Held, got {other:?}"),
        }
        first.release().unwrap();
        assert!(!path.exists());
        let again = PidFile::acquire(&path).unwrap();
        drop(again);
        assert!(!path.exists(), "drop releases too");
    }
}
