//! The errors of the daemon toolkit. Each carries the path or address it concerns and the
//! operation that failed, so a message alone tells the user what to look at.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Why a [`PidFile`](super::PidFile) could not be acquired, read or released.
#[derive(Debug, thiserror::Error)]
pub enum PidFileError {
    /// Another process (or another handle in this process) holds the lock.
    #[error("PID file {} is held by {}", path.display(), holder(*pid))]
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
    /// A file-system operation failed.
    #[error("PID file {}: cannot {op}: {source}", path.display())]
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
    /// A file-system operation failed.
    #[error("daemon registry {}: cannot {op}: {source}", path.display())]
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
    #[error(transparent)]
    Health(#[from] HealthError),
    /// The registry step failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Why [`wait_for_health`](super::wait_for_health) or [`wait_for_ready`](super::wait_for_ready)
/// gave up.
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
