//! [`ServiceReport`]: how one service of a stack ended.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::process::duration_from_millis;
use crate::{ProcessId, Signal};

/// How one service ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceStatus {
    /// The run stopped it (a cancellation, `exit_after_steps`, or another service ending
    /// the run).
    Stopped,
    /// It ended by itself with exit code 0 and was not restarted.
    Exited,
    /// Not ready in time, out of restarts, or ended non-zero with no restart left; or it could
    /// not be started.
    Failed,
    /// It never started: a step or service it depends on failed.
    /// [`ServiceReport::blocked_by`] names it.
    Skipped,
    /// The run was cancelled before it started.
    Cancelled,
}

impl ServiceStatus {
    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceStatus::Stopped => "stopped",
            ServiceStatus::Exited => "exited",
            ServiceStatus::Failed => "failed",
            ServiceStatus::Skipped => "skipped",
            ServiceStatus::Cancelled => "cancelled",
        }
    }

    /// Whether this outcome fails the run (`failed` only).
    pub fn is_failure(self) -> bool {
        self == ServiceStatus::Failed
    }
}

impl fmt::Display for ServiceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The outcome of one service. In JSON:
/// `{"name": "db", "status": "stopped", "restarts": 0, "ready_after_ms": 412.5, "exit_code":
/// null, "signal": "SIGTERM", "error": null}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ServiceReport {
    /// The service's name.
    pub name: String,
    /// How it ended.
    pub status: ServiceStatus,
    /// How many times it was started again after its first run.
    pub restarts: u32,
    /// From its first start to the moment it first became ready; `None` when it never did.
    pub ready_after_ms: Option<f64>,
    /// Exit code of its last run, when that run exited normally.
    pub exit_code: Option<i32>,
    /// The signal that ended its last run, if one did.
    pub signal: Option<Signal>,
    /// Why it failed, was skipped or cancelled, in words; `None` otherwise.
    pub error: Option<String>,
    /// For a skipped service: the failed step or service that kept it from running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<String>,
    /// The managed process of its last run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_id: Option<ProcessId>,
}

impl ServiceReport {
    /// `ready_after_ms` as a [`Duration`]. `{:.1?}` prints it rounded.
    pub fn ready_after(&self) -> Option<Duration> {
        self.ready_after_ms.map(duration_from_millis)
    }

    /// A service that never started.
    pub(crate) fn not_started(
        name: &str,
        status: ServiceStatus,
        error: String,
        blocked_by: Option<String>,
    ) -> Self {
        Self {
            name: name.to_owned(),
            status,
            restarts: 0,
            ready_after_ms: None,
            exit_code: None,
            signal: None,
            error: Some(error),
            blocked_by,
            process_id: None,
        }
    }
}
