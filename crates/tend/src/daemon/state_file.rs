//! State files: the small files a daemon keeps in its state directory (token, address, PID
//! file), read and written so that another local user cannot redirect or read them.
//!
//! * Nothing is opened through a symbolic link: a link planted at a state file's path is
//!   refused (CWE-59), never followed to truncate or overwrite its target.
//! * Writes go to a fresh temporary file, created exclusively (`O_EXCL`, so a planted file or
//!   link at the temporary name makes the write fail instead of going through it), flushed and
//!   renamed over the target: a reader sees the old content or the new, never a mix, and a
//!   full disk leaves the old file (or none), never an empty one.
//! * A private file is read only if it is a regular file with one link, owned by this user,
//!   and closed to group and others (mode `0600` or narrower).
//! * The state directory must be a real directory (not a link) owned by this user; one open
//!   to group or others is narrowed to `0700` by [`secure_state_dir`], which says so.

use std::fs::{self, DirBuilder, File, Metadata, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::StateFileError;
use crate::os;

/// The most [`read_private_file`] reads: state files are a few bytes.
pub const MAX_STATE_FILE_BYTES: u64 = 64 * 1024;

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Makes sure `dir` is a state directory only this user can enter, and returns the mode it
/// had when that mode was narrowed to `0700`.
///
/// With `create`, a missing directory is created (missing parents too) with mode `0700`.
///
/// # Errors
///
/// [`StateFileError::Symlink`] if `dir` is a symbolic link, [`StateFileError::WrongType`] if
/// it is not a directory, [`StateFileError::Owner`] if another user owns it,
/// [`StateFileError::Io`] if it is missing (without `create`) or a file-system step fails.
///
/// ```no_run
/// use tend::daemon::{read_private_file, secure_state_dir, write_state_file};
///
/// let dir = std::path::Path::new("/home/me/.local/state/myapp");
/// if let Some(old) = secure_state_dir(dir, true)? {
///     eprintln!("{} had mode {old:04o}; narrowed to 0700", dir.display());
/// }
/// write_state_file(dir, "address", b"127.0.0.1:7420\n", 0o600)?;
/// let address = read_private_file(&dir.join("address"))?;
/// # Ok::<(), tend::daemon::StateFileError>(())
/// ```
pub fn secure_state_dir(dir: &Path, create: bool) -> Result<Option<u32>, StateFileError> {
    if create {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io_error(dir, "create directory"))?;
    }
    let metadata = fs::symlink_metadata(dir).map_err(io_error(dir, "inspect directory"))?;
    if metadata.file_type().is_symlink() {
        return Err(StateFileError::Symlink { path: dir.to_path_buf() });
    }
    if !metadata.is_dir() {
        let found = kind(&metadata);
        return Err(StateFileError::WrongType {
            path: dir.to_path_buf(),
            found,
            expected: "a directory",
        });
    }
    check_owner(dir, &metadata)?;
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o077 == 0 {
        return Ok(None);
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(io_error(dir, "narrow the permissions of"))?;
    Ok(Some(mode))
}

/// Reads a private state file: without following a symbolic link, and only if it is a
/// regular file with a single link, owned by this user, with no permission for group or
/// others. At most [`MAX_STATE_FILE_BYTES`] are read.
///
/// # Errors
///
/// [`StateFileError::Symlink`], [`StateFileError::WrongType`], [`StateFileError::HardLinked`],
/// [`StateFileError::Owner`] or [`StateFileError::Permissions`] for a file that fails a check;
/// [`StateFileError::Io`] if it cannot be opened or read (see
/// [`StateFileError::is_not_found`]).
pub fn read_private_file(path: &Path) -> Result<Vec<u8>, StateFileError> {
    read_private_file_up_to(path, MAX_STATE_FILE_BYTES)
}

/// [`read_private_file`] for larger state files (a saved project, say): at most `limit`
/// bytes are read. To tell a file that is too long from one of exactly `limit` bytes, ask for
/// one byte more than you accept.
///
/// # Errors
///
/// As [`read_private_file`].
pub fn read_private_file_up_to(path: &Path, limit: u64) -> Result<Vec<u8>, StateFileError> {
    let file = open_state_file(OpenOptions::new().read(true), path)?;
    let metadata = file.metadata().map_err(io_error(path, "inspect"))?;
    check_regular(path, &metadata)?;
    if metadata.nlink() != 1 {
        return Err(StateFileError::HardLinked {
            path: path.to_path_buf(),
            links: metadata.nlink(),
        });
    }
    check_owner(path, &metadata)?;
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(StateFileError::Permissions { path: path.to_path_buf(), mode });
    }
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes).map_err(io_error(path, "read"))?;
    Ok(bytes)
}

/// Writes `bytes` to `dir/name` with permissions `mode`, atomically: through a temporary
/// file created exclusively and without following links, flushed, then renamed over the
/// target. On failure (a full disk included) the temporary file is removed and the target is
/// untouched. Returns the target's path.
///
/// # Errors
///
/// [`StateFileError::Io`] naming the target and the step that failed.
pub fn write_state_file(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    mode: u32,
) -> Result<PathBuf, StateFileError> {
    let (target, temp) = write_temp(dir, name, bytes, mode)?;
    if let Err(e) = fs::rename(&temp, &target) {
        let _ = fs::remove_file(&temp);
        return Err(io_error(&target, "rename")(e));
    }
    Ok(target)
}

/// The first half of an atomic write: `bytes` in a fresh hidden temporary file beside
/// `dir/name`, created exclusively without following links, with permissions `mode`, flushed
/// to disk. Returns the target's path and the temporary file's; the caller renames one over
/// the other. On failure nothing is left behind.
pub(crate) fn write_temp(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    mode: u32,
) -> Result<(PathBuf, PathBuf), StateFileError> {
    let target = dir.join(name);
    let counter = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    // Hidden, and not ending in `.json`: readers of a registry directory skip it.
    let temp = dir.join(format!(".{name}.{}.{counter}.tmp", std::process::id()));
    let written = (|| -> io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(os::state_file_flags())
            .open(&temp)?;
        file.write_all(bytes)?;
        // Flush before the rename, or a crash could leave an empty file under the final name.
        file.sync_data()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        // Name the target, not the temporary file the user never asked for.
        return Err(io_error(&target, "write")(e));
    }
    Ok((target, temp))
}

/// Opens `path` with `options` plus the state-file flags (no symbolic link followed, no
/// blocking on a FIFO, close-on-exec), turning the link refusal into
/// [`StateFileError::Symlink`].
pub(crate) fn open_state_file(
    options: &mut OpenOptions,
    path: &Path,
) -> Result<File, StateFileError> {
    options.custom_flags(os::state_file_flags()).open(path).map_err(|e| {
        if os::is_symlink_refusal(&e) {
            StateFileError::Symlink { path: path.to_path_buf() }
        } else {
            io_error(path, "open")(e)
        }
    })
}

/// Refuses anything but a regular file (a directory, FIFO, socket or device planted at the
/// path).
pub(crate) fn check_regular(path: &Path, metadata: &Metadata) -> Result<(), StateFileError> {
    if metadata.is_file() {
        return Ok(());
    }
    Err(StateFileError::WrongType {
        path: path.to_path_buf(),
        found: kind(metadata),
        expected: "a regular file",
    })
}

fn check_owner(path: &Path, metadata: &Metadata) -> Result<(), StateFileError> {
    let uid = os::effective_uid();
    if metadata.uid() == uid {
        return Ok(());
    }
    Err(StateFileError::Owner { path: path.to_path_buf(), owner: metadata.uid(), uid })
}

fn kind(metadata: &Metadata) -> &'static str {
    let file_type = metadata.file_type();
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_file() {
        "a regular file"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "a device"
    }
}

fn io_error(path: &Path, op: &'static str) -> impl FnOnce(io::Error) -> StateFileError {
    let path = path.to_path_buf();
    move |source| StateFileError::Io { path, op, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_files_read_back_and_links_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        assert_eq!(secure_state_dir(&state, true).unwrap(), None);
        let path = write_state_file(&state, "token", b"secret\n", 0o600).unwrap();
        assert_eq!(read_private_file(&path).unwrap(), b"secret\n");
        let leftovers = fs::read_dir(&state).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file left");

        std::os::unix::fs::symlink(&path, state.join("link")).unwrap();
        let error = read_private_file(&state.join("link")).unwrap_err();
        assert!(matches!(error, StateFileError::Symlink { .. }), "{error}");

        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let error = read_private_file(&path).unwrap_err();
        assert!(error.to_string().contains("0644"), "{error}");

        fs::set_permissions(&state, fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(secure_state_dir(&state, false).unwrap(), Some(0o755));
        let mode = fs::metadata(&state).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
}
