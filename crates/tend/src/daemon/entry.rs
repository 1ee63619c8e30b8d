//! One registry entry: what a running daemon says about itself, in go-process's JSON shape.

use std::path::PathBuf;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};

use crate::os::{self, Liveness};

/// A running daemon as recorded in the [`Registry`](super::Registry).
///
/// The JSON keys `code, daemon, pid, health, project, binary, started` are go-process's, so
/// either program reads the other's entries (go-process omits empty strings; an absent or empty
/// `health`, `project` or `binary` reads as `None`). `started` is RFC 3339.
///
/// tend adds `process_start_ticks` and `boot_id`: the process's start time (clock ticks since
/// boot) and the kernel's boot ID. Together with the PID they identify the process, so an entry
/// whose PID was reused by another process, or which survived a reboot, is recognised as stale.
/// Entries without them (written by go-process) fall back to a PID liveness check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DaemonEntry {
    /// The program family, such as `core`.
    pub code: String,
    /// The daemon's name within the family, such as `api`.
    pub daemon: String,
    /// The daemon's PID.
    pub pid: u32,
    /// The health server's address (`host:port`), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "non_empty")]
    pub health: Option<String>,
    /// The project directory the daemon serves (by default its working directory).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "non_empty")]
    pub project: Option<String>,
    /// The program's name.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "non_empty")]
    pub binary: Option<String>,
    /// When the daemon started.
    pub started: Timestamp,
    /// The process's start time in clock ticks since boot (Linux), tend's own field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_start_ticks: Option<u64>,
    /// The kernel boot ID when the entry was written (Linux), tend's own field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    /// The daemon's state directory, when it has one (tend's own field): several daemons of
    /// one program, each with its own state directory, register under names derived from it.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "non_empty")]
    pub state_dir: Option<String>,
}

impl DaemonEntry {
    /// An entry for process `pid`, started now, with its start time and the boot ID filled in
    /// when the system provides them.
    pub fn new(code: impl Into<String>, daemon: impl Into<String>, pid: u32) -> Self {
        Self {
            code: code.into(),
            daemon: daemon.into(),
            pid,
            health: None,
            project: None,
            binary: None,
            started: Timestamp::now(),
            process_start_ticks: os::start_time(pid).ok(),
            boot_id: os::boot_id(),
            state_dir: None,
        }
    }

    /// Whether `other` describes the same process: the same PID and, when both record it,
    /// the same start time (so a reused PID is another process).
    pub fn same_process(&self, other: &DaemonEntry) -> bool {
        self.pid == other.pid
            && match (self.process_start_ticks, other.process_start_ticks) {
                (Some(mine), Some(theirs)) => mine == theirs,
                _ => true,
            }
    }

    /// An entry for the calling process, with `binary` set to the program's file name and
    /// `project` to the working directory.
    pub fn for_current_process(code: impl Into<String>, daemon: impl Into<String>) -> Self {
        let mut entry = Self::new(code, daemon, std::process::id());
        entry.binary = current_program_name();
        entry.project =
            std::env::current_dir().ok().map(|dir: PathBuf| dir.to_string_lossy().into_owned());
        entry
    }

    /// Whether the process this entry describes is still running: the PID is alive and, when
    /// the entry recorded them, the start time and boot ID still match.
    pub fn is_alive(&self) -> bool {
        if os::liveness(self.pid) != Liveness::Alive {
            return false;
        }
        if let (Some(recorded), Some(current)) = (&self.boot_id, os::boot_id())
            && *recorded != current
        {
            return false;
        }
        match self.process_start_ticks {
            None => true,
            Some(recorded) => match os::start_time(self.pid) {
                Ok(current) => current == recorded,
                // The process ended between the two checks.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                // Cannot tell (no /proc): trust the PID check rather than drop a live entry.
                Err(_) => true,
            },
        }
    }

    /// Sends SIGTERM to the daemon, but only while the entry's PID still belongs to the
    /// process that registered it: the entry must record the start time (tend's entries do,
    /// go-process's do not) and [`is_alive`](Self::is_alive) must hold. Returns whether the
    /// signal was sent; `false` when the process is gone or the PID now belongs to another.
    ///
    /// A PID reused in the instant between the check and the signal is not detected.
    ///
    /// # Errors
    ///
    /// [`Unsupported`](std::io::ErrorKind::Unsupported) for an entry without a start time,
    /// or the operating system's refusal (such as permission denied).
    pub fn terminate(&self) -> std::io::Result<bool> {
        if self.process_start_ticks.is_none() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "the entry records no process start time, so its PID cannot be verified",
            ));
        }
        if !self.is_alive() {
            return Ok(false);
        }
        Ok(os::signal_process(self.pid, crate::Signal::TERM.number())? == os::Delivery::Sent)
    }
}

/// The file name of the running program, as go-process records it.
pub(crate) fn current_program_name() -> Option<String> {
    let exe =
        std::env::current_exe().ok().or_else(|| std::env::args_os().next().map(Into::into))?;
    exe.file_name().map(|name| name.to_string_lossy().into_owned())
}

fn non_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.filter(|s| !s.is_empty()))
}

/// The registry file name for `(code, daemon)`: `CODE-DAEMON.json`, go-process's name, with
/// every byte of either part outside `[A-Za-z0-9_.]` written as `%XX`. The `-` separator
/// therefore occurs only between the parts, so `("a-b", "c")` and `("a", "b-c")` map to
/// different files, and names that need no escaping keep go-process's file name.
pub(crate) fn file_name(code: &str, daemon: &str) -> String {
    format!("{}-{}.json", escape(code), escape(daemon))
}

fn escape(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for byte in part.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'.' {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_do_not_collide() {
        assert_ne!(file_name("a-b", "c"), file_name("a", "b-c"));
        assert_eq!(file_name("core", "api"), "core-api.json");
        assert_eq!(file_name("a-b", "c"), "a%2Db-c.json");
        assert_eq!(file_name("a/b", "%"), "a%2Fb-%25.json");
        assert_eq!(file_name("é", "x"), "%C3%A9-x.json");
    }

    #[test]
    fn reads_go_process_entry_with_missing_and_empty_fields() {
        let json = r#"{"code":"core","daemon":"api","pid":1234,"health":"",
            "started":"2025-01-01T10:00:00.5+02:00"}"#;
        let entry: DaemonEntry = serde_json::from_str(json).unwrap();
        assert_eq!(entry.health, None);
        assert_eq!(entry.project, None);
        assert_eq!(entry.started.to_string(), "2025-01-01T08:00:00.5Z");
        assert_eq!(entry.process_start_ticks, None);
        let back = serde_json::to_value(&entry).unwrap();
        assert!(back.get("health").is_none(), "empty fields are omitted like go-process");
    }
}
