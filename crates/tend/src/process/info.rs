//! What a managed process is and was: its id, status and the [`ProcessInfo`] snapshot.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::exit_code;
use crate::Signal;

/// A managed process's identity: a UUID v7, so ids sort by creation time.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct ProcessId(uuid::Uuid);

impl ProcessId {
    pub(crate) fn new() -> Self {
        Self(uuid::Uuid::now_v7())
    }
}

impl fmt::Display for ProcessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.0.as_hyphenated().encode_lower(&mut uuid::Uuid::encode_buffer()))
    }
}

impl fmt::Debug for ProcessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for ProcessId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self)
    }
}

/// Where a managed process is in its life.
///
/// `pending → running → exited | failed | killed`. With a [`Restart`](crate::Restart) policy a
/// process goes back to `pending` between runs: `running → pending → running → …`. A start
/// beyond the service's [`max_running`](crate::ServiceConfig::max_running) or its
/// [queue group](crate::StartOptions::queue_group)'s limit begins `queued` (`queued →
/// pending → running → …`), or ends `killed` from there when it is stopped before its turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Accepted, waiting for a free slot: no PID, no output, no event yet. Not finished.
    Queued,
    /// Created, not started yet; or waiting to be restarted.
    Pending,
    /// Started and not yet ended.
    Running,
    /// Ended by itself with exit code 0.
    Exited,
    /// Could not be started, ended with a non-zero exit code, or died of a signal nobody here
    /// sent.
    Failed,
    /// Ended because we ended it: see [`ProcessInfo::reason`].
    Killed,
}

impl Status {
    /// Whether the process has ended (for good).
    pub fn is_finished(self) -> bool {
        matches!(self, Status::Exited | Status::Failed | Status::Killed)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, not `write_str`: `{:<10}` in a table must pad the word.
        f.pad(match self {
            Status::Queued => "queued",
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Exited => "exited",
            Status::Failed => "failed",
            Status::Killed => "killed",
        })
    }
}

/// Why we ended a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Its timeout passed.
    Timeout,
    /// [`Process::kill`](crate::Process::kill).
    Killed,
    /// A graceful [`Process::shutdown`](crate::Process::shutdown), of it or of the service.
    Shutdown,
}

/// A snapshot of one managed process, as served by the API and printed by `--json`.
///
/// `exit_code` is `None` while running and for signal deaths; `signal` names the signal that
/// ended it; `duration_ms` counts up while it runs. After restarts, `pid`, `started_at`,
/// `ended_at`, `duration_ms`, `exit_code` and `signal` are those of the latest run. A
/// [`queued`](Status::Queued) process (waiting for a slot under
/// [`ServiceConfig::max_running`](crate::ServiceConfig::max_running) or its queue group)
/// has none of them yet; stopped while queued it ends `killed` with its `reason` and still
/// none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct ProcessInfo {
    /// Identity.
    pub id: ProcessId,
    /// Human name, if given.
    pub name: Option<String>,
    /// The program.
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Working directory, if given.
    pub dir: Option<PathBuf>,
    /// Operating-system PID once started.
    pub pid: Option<u32>,
    /// Lifecycle status.
    pub status: Status,
    /// Exit code, when it exited normally.
    pub exit_code: Option<i32>,
    /// The signal that ended it, if one did.
    pub signal: Option<Signal>,
    /// Why we ended it, if we did.
    pub reason: Option<Reason>,
    /// When it started.
    pub started_at: Option<Timestamp>,
    /// When it ended.
    pub ended_at: Option<Timestamp>,
    /// Run time in milliseconds, so far or in total.
    pub duration_ms: Option<f64>,
    /// How many times it was restarted.
    pub restarts: u32,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Why it could not be started, if it could not.
    pub error: Option<String>,
    /// Whether the program was missing or could not be executed, when it could not be
    /// started (the reason in words is `error`); absent from the JSON otherwise. It decides
    /// the [`shell_status`](Self::shell_status): 127 or 126.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_failure: Option<StartFailure>,
    /// CPU use of its whole process group, in percent of one core, over the latest sampling
    /// interval (over its run so far at the first sample); above 100 when it uses several
    /// cores. Null until a sampler ([`Service::sample_usage_every`](crate::Service::sample_usage_every))
    /// has sampled this run, and when it is not running.
    #[serde(default)]
    pub cpu_percent: Option<f64>,
    /// CPU time its process group has used in this run, in seconds: user + system time of the
    /// live members and of the children they reaped. Null as `cpu_percent` is.
    #[serde(default)]
    pub cpu_seconds: Option<f64>,
    /// Resident memory (RSS) of its whole process group, in bytes, at the latest sample; pages
    /// shared between members count once per member. Null as `cpu_percent` is.
    #[serde(default)]
    pub memory_bytes: Option<u64>,
    /// The file its output is appended to ([`StartOptions::log_file`](crate::StartOptions::log_file),
    /// [`output_file`](crate::StartOptions::output_file), or `ID.log` in the service's
    /// [`log_dir`](crate::ServiceConfig::log_dir)); rotated files are `PATH.1` … `PATH.N`.
    /// Null when it has none.
    #[serde(default)]
    pub log_path: Option<PathBuf>,
    /// Why its log file cannot be written now, e.g. `log file /logs/web.log: No space left on
    /// device (4096 bytes not written)`: the latest write failed (the process runs on and its
    /// output still reaches the capture ring and events; writing resumes, and this is null
    /// again, once a write succeeds). Null when fine.
    #[serde(default)]
    pub log_error: Option<String>,
}

/// Why a process could not be started, as a shell tells the two apart (see
/// [`exit_code`](super::exit_code)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum StartFailure {
    /// The program, or the working directory, does not exist: status 127.
    NotFound,
    /// Anything else: not executable, a directory, out of descriptors, …: status 126.
    CannotExecute,
}

impl StartFailure {
    /// The kind of a failure to start, `None` for an error that is not one (such as an output
    /// file that cannot be opened).
    pub(crate) fn of(error: &crate::Error) -> Option<Self> {
        match error {
            crate::Error::Spawn { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                Some(StartFailure::NotFound)
            }
            crate::Error::Spawn { .. } => Some(StartFailure::CannotExecute),
            _ => None,
        }
    }
}

impl ProcessInfo {
    /// The exit status a shell would report for this process once it has finished, as
    /// `tend run` and `tend wait` exit with it: 124 if its timeout ended it, else its exit
    /// code, else 128 + N for a death by signal N, else 127 or 126 if it could not be
    /// started, else 1 (see [`exit_code`](super::exit_code) for the table and the named
    /// constants). While it runs there is no status yet; this then returns 1.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tend::Error> {
    /// use tend::{Service, StartOptions};
    ///
    /// let service = Service::new();
    /// let info = service.start(StartOptions::new("sh").args(["-c", "exit 3"]))?.wait().await;
    /// assert_eq!(info.shell_status(), 3);
    /// # Ok(()) }
    /// ```
    pub fn shell_status(&self) -> i32 {
        if self.reason == Some(Reason::Timeout) {
            return exit_code::TIMED_OUT;
        }
        if let Some(code) = self.exit_code {
            return code;
        }
        if let Some(signal) = self.signal {
            return exit_code::signalled(signal);
        }
        match self.start_failure {
            Some(StartFailure::NotFound) => exit_code::NOT_FOUND,
            Some(StartFailure::CannotExecute) => exit_code::CANNOT_EXECUTE,
            None => exit_code::FAILURE,
        }
    }

    /// Run time so far or in total (`duration_ms` as a [`Duration`]); `None` before it
    /// started. `{:.1?}` prints it rounded, e.g. `606.8ms`.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tend::Error> {
    /// let service = tend::Service::new();
    /// let info = service.start(tend::StartOptions::new("true"))?.wait().await;
    /// println!("{} in {:.1?}", info.status, info.duration().unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub fn duration(&self) -> Option<Duration> {
        self.duration_ms.map(duration_from_millis)
    }
}

/// The [`Duration`] of a wire-format `duration_ms` (zero for a negative or non-finite one,
/// which no supervisor writes but a hand-made JSON value may hold).
pub(crate) fn duration_from_millis(ms: f64) -> Duration {
    Duration::try_from_secs_f64(ms / 1000.0).unwrap_or_default()
}

/// Milliseconds between two instants, fractional.
pub(crate) fn millis_between(start: Timestamp, end: Timestamp) -> f64 {
    let span = end.duration_since(start);
    span.as_secs_f64() * 1000.0
}
