//! [`LogFileError`]: what can go wrong opening, writing or rotating a log file.

use std::io;
use std::path::PathBuf;

/// An error of a [`LogFile`](super::LogFile). Each names the file (or directory) at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogFileError {
    /// A file-system step failed: opening, creating the parent directory, or writing (a full
    /// disk is `Io` with `action` "write" and the OS error `ENOSPC`).
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// The log file, or the directory being created.
        path: PathBuf,
        /// The step that failed: "open", "create the directory", "write", "inspect".
        action: &'static str,
        /// The error of the OS.
        #[source]
        source: io::Error,
    },
    /// Renaming or removing a file while rotating failed. The bytes that were to go after the
    /// rotation were appended to the live file instead, which grows past the size limit until
    /// a rotation succeeds.
    #[error("cannot rotate log file {}: {source}", path.display())]
    Rotate {
        /// The file being renamed or removed.
        path: PathBuf,
        /// The error of the OS.
        #[source]
        source: io::Error,
    },
    /// The log path is a symbolic link: it is refused, never followed (a link planted there
    /// could redirect the log to overwrite another file).
    #[error("log file {} is a symbolic link; refusing to follow it", path.display())]
    Symlink {
        /// The log file's path.
        path: PathBuf,
    },
    /// Something other than a regular file or a character device (`/dev/null`) is at the
    /// path: a directory, a FIFO or a socket.
    #[error("log file {} is {found}, not a regular file", path.display())]
    WrongType {
        /// The log file's path.
        path: PathBuf,
        /// What was found.
        found: &'static str,
    },
    /// The size limit is zero: every file must be able to hold something.
    #[error("log file {}: the size limit must be more than 0", path.display())]
    ZeroMaxSize {
        /// The log file's path.
        path: PathBuf,
    },
}

impl LogFileError {
    /// The OS error behind it, if any (for example `ENOSPC` on a full disk).
    pub fn os_error(&self) -> Option<&io::Error> {
        match self {
            Self::Io { source, .. } | Self::Rotate { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<LogFileError> for io::Error {
    /// Keeps the OS error's kind, with the message naming the file.
    fn from(error: LogFileError) -> Self {
        let kind = error.os_error().map_or(io::ErrorKind::Other, io::Error::kind);
        io::Error::new(kind, error)
    }
}
