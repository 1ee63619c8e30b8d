//! [`Report`]: what a pipeline run did, step by step, in declaration order.

use std::fmt;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::service_report::{ServiceReport, ServiceStatus};
use super::spec::Mode;
use crate::process::duration_from_millis;
use crate::{ProcessId, Signal};

/// How one step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Its last attempt exited with code 0.
    Passed,
    /// Its last attempt failed: a non-zero exit, a death by signal, or a program that could
    /// not be started.
    Failed,
    /// It failed (or timed out) but has `allow_failure`: its dependents ran anyway.
    AllowedFailure,
    /// It never started: a step it depends on failed, or the run stopped at a failure
    /// (sequential mode, `fail_fast`). [`StepReport::blocked_by`] names that step.
    Skipped,
    /// The run was cancelled before it started, or it was shut down while running because
    /// the run was cancelled or stopped by `fail_fast`.
    Cancelled,
    /// Its last attempt ran past its timeout and was ended.
    TimedOut,
}

impl StepStatus {
    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Passed => "passed",
            StepStatus::Failed => "failed",
            StepStatus::AllowedFailure => "allowed_failure",
            StepStatus::Skipped => "skipped",
            StepStatus::Cancelled => "cancelled",
            StepStatus::TimedOut => "timed_out",
        }
    }

    /// Whether this outcome fails the run (`failed` and `timed_out`).
    pub fn is_failure(self) -> bool {
        matches!(self, StepStatus::Failed | StepStatus::TimedOut)
    }

    /// Whether the steps after it may run (`passed` and `allowed_failure`).
    pub fn unblocks(self) -> bool {
        matches!(self, StepStatus::Passed | StepStatus::AllowedFailure)
    }
}

impl fmt::Display for StepStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` honours width and alignment (`{:<9}`).
        f.pad(self.as_str())
    }
}

/// The outcome of one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StepReport {
    /// The step's name.
    pub name: String,
    /// How it ended.
    pub status: StepStatus,
    /// Exit code of its last attempt, when that attempt exited normally.
    pub exit_code: Option<i32>,
    /// The signal that ended its last attempt, if one did.
    pub signal: Option<Signal>,
    /// From the start of its first attempt to the end of its last, retry pauses included;
    /// `None` when it never started.
    pub duration_ms: Option<f64>,
    /// Everything its last attempt printed, both streams as read (see [`Output::combined`](crate::Output::combined)), as text (invalid UTF-8
    /// replaced). Bounded by the capture ring: the oldest bytes of a very chatty step are gone.
    pub output: String,
    /// Why it did not pass, in words; `None` when it passed.
    pub error: Option<String>,
    /// How many times it was started (0 when it never was).
    pub attempts: u32,
    /// For a skipped step: the failed step that kept it from running.
    pub blocked_by: Option<String>,
    /// The managed process of its last attempt.
    pub process_id: Option<ProcessId>,
    /// When its first attempt started.
    pub started_at: Option<Timestamp>,
}

impl StepReport {
    /// `duration_ms` as a [`Duration`]: first start to last end; `None` when it never
    /// started. `{:.1?}` prints it rounded.
    pub fn duration(&self) -> Option<Duration> {
        self.duration_ms.map(duration_from_millis)
    }

    /// A step that never started.
    pub(crate) fn not_started(
        name: &str,
        status: StepStatus,
        error: String,
        blocked_by: Option<String>,
    ) -> Self {
        Self {
            name: name.to_owned(),
            status,
            exit_code: None,
            signal: None,
            duration_ms: None,
            output: String::new(),
            error: Some(error),
            attempts: 0,
            blocked_by,
            process_id: None,
            started_at: None,
        }
    }
}

/// How many steps ended which way. Every step is counted exactly once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Totals {
    /// Steps that passed.
    pub passed: usize,
    /// Steps that failed or timed out without `allow_failure`.
    pub failed: usize,
    /// Steps that failed or timed out with `allow_failure`.
    pub allowed_failures: usize,
    /// Steps that never started because of a failure.
    pub skipped: usize,
    /// Steps cancelled before or while running.
    pub cancelled: usize,
}

impl Totals {
    fn count(steps: &[StepReport]) -> Self {
        let mut totals = Totals::default();
        for step in steps {
            let slot = match step.status {
                StepStatus::Passed => &mut totals.passed,
                StepStatus::Failed | StepStatus::TimedOut => &mut totals.failed,
                StepStatus::AllowedFailure => &mut totals.allowed_failures,
                StepStatus::Skipped => &mut totals.skipped,
                StepStatus::Cancelled => &mut totals.cancelled,
            };
            *slot += 1;
        }
        totals
    }
}

/// The outcome of a pipeline run. Serialises to the JSON `tend up --json` prints.
///
/// ```
/// # fn show(report: &tend::runner::Report) {
/// if !report.success {
///     for step in report.steps.iter().filter(|s| s.status.is_failure()) {
///         eprintln!("{} {}: {}", step.name, step.status, step.error.as_deref().unwrap_or(""));
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Report {
    /// The mode the steps ran in.
    pub mode: Mode,
    /// No step failed, was skipped or was cancelled, and every service ended `stopped` or
    /// `exited` (none `failed`, `skipped` or `cancelled`).
    pub success: bool,
    /// Wall time of the whole run.
    pub duration_ms: f64,
    /// Counts per outcome.
    pub totals: Totals,
    /// One entry per step, in declaration order.
    pub steps: Vec<StepReport>,
    /// One entry per service, in declaration order (empty for a pipeline of steps only).
    #[serde(default)]
    pub services: Vec<ServiceReport>,
    /// The service whose end ended the run, with
    /// [`Runner::stop_when_a_service_ends`](super::Runner::stop_when_a_service_ends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<String>,
}

impl Report {
    /// Wall time of the whole run (`duration_ms` as a [`Duration`]). `{:.1?}` prints it
    /// rounded, e.g. `1.2s`.
    ///
    /// ```
    /// # fn show(report: &tend::runner::Report) {
    /// println!("done in {:.1?}", report.duration());
    /// # }
    /// ```
    pub fn duration(&self) -> Duration {
        duration_from_millis(self.duration_ms)
    }

    /// The report of a run; `success` per [`Report::success`]'s rule.
    pub(crate) fn new(
        mode: Mode,
        duration_ms: f64,
        steps: Vec<StepReport>,
        services: Vec<ServiceReport>,
        ended_by: Option<String>,
    ) -> Self {
        let totals = Totals::count(&steps);
        let steps_passed = totals.failed == 0 && totals.cancelled == 0 && totals.skipped == 0;
        let services_fine = services
            .iter()
            .all(|s| matches!(s.status, ServiceStatus::Stopped | ServiceStatus::Exited));
        let success = steps_passed && services_fine;
        Self { mode, success, duration_ms, totals, steps, services, ended_by }
    }

    /// The report of the service with this name.
    pub fn service(&self, name: &str) -> Option<&ServiceReport> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The report of the step with this name.
    pub fn step(&self, name: &str) -> Option<&StepReport> {
        self.steps.iter().find(|s| s.name == name)
    }
}
