//! The errors of the daemon toolkit. Each carries the path or address it concerns and the
//! operation that failed, so a message alone tells the user what to look at.

use std::io;
#[cfg(feature = "http")]
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Why a [`PidFile`](super::PidFile) could not be acquired, read or released.
#[derive(Debug, thiserror::Error)]
pub enum PidFileError {
    /// Another process (or another handle in this process) holds the lock.
    #[error("PID file {} is held by {}: another instance is running", path.display(), holder(*pid))]
    Held {
        /// The PID file.
        path: PathBuf,
        /// The holder's PID as written in the file; `None` if the holder had not written it
        /// yet when we looked.
        pid: Option<u32>,
    },
    /// The file exists but does not contain a PID.
    #[error("PID file {} does not contain a PID (found {content:?})", path.display())]
    Invalid {
        /// The PID file.
        path: PathBuf,
        /// What it contained (truncated to 64 bytes).
        content: String,
    },
    /// The path is not a file we may use: a symbolic link (never followed), or not a
    /// regular file.
    #[error("PID file: {0}")]
    Refused(StateFileError),
    /// A file-system operation failed. A full disk says so; no empty PID file is left.
    #[error("PID file {}: cannot {op}: {source}{}", path.display(), disk_full_hint(source))]
    Io {
        /// The path the operation was applied to.
        path: PathBuf,
        /// What we tried to do, such as `open` or `write`.
        op: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// Why a state file (see [`read_private_file`](super::read_private_file) and
/// [`write_state_file`](super::write_state_file)) or the state directory was refused or could
/// not be read or written. Each names the path.
#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    /// The path is a symbolic link; it is never followed.
    #[error("{} is a symbolic link; refusing to follow it (remove it if you did not make it)", path.display())]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// The path is not the kind of file expected (a FIFO where a file should be, say).
    #[error("{} is {found}, not {expected}; refusing to use it", path.display())]
    WrongType {
        /// The path.
        path: PathBuf,
        /// What it is, such as `a FIFO`.
        found: &'static str,
        /// What it should be.
        expected: &'static str,
    },
    /// The file or directory belongs to another user.
    #[error("{} belongs to user {owner}, not to this user ({uid}); refusing to use it", path.display())]
    Owner {
        /// The path.
        path: PathBuf,
        /// Its owner's user ID.
        owner: u32,
        /// This process's effective user ID.
        uid: u32,
    },
    /// A private file is open to group or others.
    #[error("{} has mode {mode:04o}, open to other users; it must be 0600 (`chmod 600 {}`, or remove it if others may have read it)", path.display(), path.display())]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A private file has more than one name, so someone else may hold another.
    #[error("{} has {links} hard links; refusing a file that may be shared", path.display())]
    HardLinked {
        /// The file.
        path: PathBuf,
        /// Its link count.
        links: u64,
    },
    /// A file-system operation failed. A full disk says so.
    #[error("{}: cannot {op}: {source}{}", path.display(), disk_full_hint(source))]
    Io {
        /// The path the operation was applied to.
        path: PathBuf,
        /// What we tried to do, such as `open` or `write`.
        op: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl StateFileError {
    /// Whether the file (or directory) does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}

/// Says "the disk is full" in so many words: "No space left on device" after a failed PID
/// file write would otherwise be read as "another daemon is running".
fn disk_full_hint(error: &io::Error) -> &'static str {
    if error.kind() == io::ErrorKind::StorageFull || error.kind() == io::ErrorKind::QuotaExceeded {
        " (the disk is full: free some space and start again)"
    } else {
        ""
    }
}

fn holder(pid: Option<u32>) -> String {
    match pid {
        Some(pid) => format!("PID {pid}"),
        None => "another process (its PID is not written yet)".to_owned(),
    }
}

/// Why a [`Registry`](super::Registry) operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No registry directory was given, `TEND_REGISTRY_DIR` is unset and `HOME` is unknown.
    #[error("cannot find the daemon registry: neither TEND_REGISTRY_DIR nor HOME is set")]
    NoHome,
    /// A code or daemon name cannot be used.
    #[error("invalid daemon {field} {value:?}: {reason}")]
    InvalidName {
        /// `code` or `daemon`.
        field: &'static str,
        /// The rejected value.
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The registry lock stayed held by someone else for too long.
    #[error("daemon registry {}: lock still held after {}", dir.display(), humantime::format_duration(*waited))]
    Busy {
        /// The registry directory.
        dir: PathBuf,
        /// How long we waited.
        waited: Duration,
    },
    /// A file in the registry is not one we may use: a symbolic link (never followed), or
    /// not a regular file.
    #[error("daemon registry: {0}")]
    Refused(StateFileError),
    /// Another live process holds the entry this daemon would write; it is left alone.
    #[error("daemon registry {}: the entry belongs to running process {pid}; refusing to replace it", path.display())]
    Taken {
        /// The entry's file.
        path: PathBuf,
        /// The PID recorded in it.
        pid: u32,
    },
    /// A file-system operation failed.
    #[error("daemon registry {}: cannot {op}: {source}{}", path.display(), disk_full_hint(source))]
    Io {
        /// The path the operation was applied to.
        path: PathBuf,
        /// What we tried to do, such as `create directory` or `rename`.
        op: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// Why a [`HealthServer`](super::HealthServer) failed to start or to stop cleanly.
#[cfg(feature = "http")]
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// The address could not be bound.
    #[error("health server: cannot bind {addr}: {source}")]
    Bind {
        /// The requested address.
        addr: SocketAddr,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// In-flight requests did not finish within the shutdown timeout and were cut short.
    /// The server is stopped all the same.
    #[error("health server: requests still in flight after {}; they were cut short", humantime::format_duration(*timeout))]
    StopTimedOut {
        /// The shutdown timeout that ran out.
        timeout: Duration,
    },
}

/// Why a [`Daemon`](super::Daemon) failed to start or stop. On a failed start every earlier
/// step has already been rolled back.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The PID file step failed (most often: another instance is running).
    #[error(transparent)]
    PidFile(#[from] PidFileError),
    /// The health server step failed.
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    #[error(transparent)]
    Health(#[from] HealthError),
    /// The registry step failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Why [`wait_for_health`](super::wait_for_health) or [`wait_for_ready`](super::wait_for_ready)
/// gave up.
#[cfg(feature = "http")]
#[derive(Debug, thiserror::Error)]
#[error("{addr} not {what} within {}: {reason}", humantime::format_duration(*timeout))]
pub struct ProbeError {
    /// The address that was probed.
    pub addr: String,
    /// `healthy` or `ready`.
    pub what: &'static str,
    /// The timeout that ran out.
    pub timeout: Duration,
    /// The last reason the endpoint was not up: the response body of a non-200 answer, the
    /// status when the body was empty, or the connection error.
    pub reason: String,
}
