//! The file-system side of a log file: opening the live file safely, and shifting the
//! numbered files when it rotates.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::LogFileError;
use crate::os;

/// The live file, open for appending.
pub(super) struct Opened {
    pub(super) file: File,
    /// Its size when opened: what an earlier run left counts against the limit.
    pub(super) size: u64,
    /// A regular file rotates; a character device (`/dev/null`) is only appended to.
    pub(super) rotates: bool,
}

/// Opens `path` for appending, creating it with permissions `mode` (less the umask) and its
/// missing parent directories with `0700`. The last component must not be a symbolic link,
/// and a FIFO there does not block the open (both by the crate's state-file flags).
pub(super) fn open_live(path: &Path, mode: u32) -> Result<Opened, LogFileError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        DirBuilder::new().recursive(true).mode(0o700).create(parent).map_err(|source| {
            LogFileError::Io { path: parent.to_path_buf(), action: "create the directory", source }
        })?;
    }
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(mode)
        .custom_flags(os::state_file_flags())
        .open(path)
        .map_err(|source| {
            if os::is_symlink_refusal(&source) {
                LogFileError::Symlink { path: path.to_path_buf() }
            } else if source.kind() == io::ErrorKind::IsADirectory {
                LogFileError::WrongType { path: path.to_path_buf(), found: "a directory" }
            } else {
                LogFileError::Io { path: path.to_path_buf(), action: "open", source }
            }
        })?;
    let metadata = file.metadata().map_err(|source| LogFileError::Io {
        path: path.to_path_buf(),
        action: "inspect",
        source,
    })?;
    let file_type = metadata.file_type();
    if file_type.is_file() {
        Ok(Opened { file, size: metadata.len(), rotates: true })
    } else if file_type.is_char_device() {
        Ok(Opened { file, size: 0, rotates: false })
    } else {
        let found = if file_type.is_dir() {
            "a directory"
        } else if file_type.is_fifo() {
            "a FIFO"
        } else {
            "a socket"
        };
        Err(LogFileError::WrongType { path: path.to_path_buf(), found })
    }
}

/// `path.N`: the Nth newest rotated file.
pub(super) fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// Shifts the rotated files by one (`path.N-1` → `path.N`, …, `path` → `path.1`), each by an
/// atomic `rename` that replaces the older file, so the oldest beyond `keep` is gone; with
/// `keep` 0 the live file is removed. Numbered files left beyond `keep` (by an earlier run
/// that kept more) are removed too. The caller opens a new live file after it.
pub(super) fn shift(path: &Path, keep: u32) -> Result<(), LogFileError> {
    let rotate_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LogFileError::Rotate { path, source }
    };
    for n in (1..keep).rev() {
        let from = numbered(path, n);
        match fs::rename(&from, numbered(path, n + 1)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(rotate_error(&from)(e)),
            _ => {}
        }
    }
    if keep == 0 {
        fs::remove_file(path).map_err(rotate_error(path))?;
    } else {
        fs::rename(path, numbered(path, 1)).map_err(rotate_error(path))?;
    }
    remove_beyond(path, keep);
    Ok(())
}

/// Removes `path.keep+1`, `path.keep+2`, … up to the first that does not exist. Best effort:
/// a file that cannot be removed is left, and the log goes on.
fn remove_beyond(path: &Path, keep: u32) {
    let mut n = keep.saturating_add(1);
    while fs::remove_file(numbered(path, n)).is_ok() && n < u32::MAX {
        n += 1;
    }
}
