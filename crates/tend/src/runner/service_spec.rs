//! [`ServiceSpec`]: a long-running process of a stack, with readiness, liveness, restarts,
//! its stop signal and its log file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::spec::StepCommand;
use crate::logfile::{LogFileError, LogFileOptions, SharedLogFile};
use crate::probe::{Liveness, Readiness};
use crate::{ByteSize, Restart, Signal, StartOptions};

/// Default cap on a service's log file before it is rotated: 10 MiB.
pub const DEFAULT_LOG_MAX_SIZE: ByteSize = ByteSize::new(10 << 20);
/// Default time a service gets to stop before its process group is killed: 10 s.
pub const DEFAULT_SERVICE_GRACE: Duration = Duration::from_secs(10);
/// Default number of rotated log files kept beside the live one.
pub const DEFAULT_LOG_KEEP: u32 = 5;

/// One service of a stack: started in dependency order, ready when its [`ready`](Self::ready)
/// probe says so (at once without one), restarted by its [`restart`](Self::restart) policy,
/// and stopped with its [`stop_signal`](Self::stop_signal) after every service that depends on
/// it has stopped.
///
/// Build one with [`ServiceSpec::command`] or [`ServiceSpec::script`] and the chained
/// setters; every field is public too.
///
/// ```
/// use std::time::Duration;
/// use tend::probe::{Probe, Readiness};
/// use tend::runner::ServiceSpec;
///
/// let db = ServiceSpec::command("db", "postgres")
///     .args(["-D", "/var/lib/db"])
///     .ready(Readiness::new(Probe::tcp("127.0.0.1:5432").unwrap()).timeout(Duration::from_secs(30)));
/// let web = ServiceSpec::script("web", "exec ./server --port 8080").after(["db"]);
/// assert_eq!(web.after, ["db"]);
/// assert!(db.ready.is_some());
/// ```
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    /// Unique, non-empty name, across the steps and services of its pipeline.
    pub name: String,
    /// What it runs.
    pub command: StepCommand,
    /// Working directory; `None` inherits the supervisor's.
    pub dir: Option<PathBuf>,
    /// Extra environment variables, on top of the supervisor's environment.
    pub env: BTreeMap<String, String>,
    /// Steps that must have passed (or failed with `allow_failure`) and services that must be
    /// ready before it starts.
    pub after: Vec<String>,
    /// When it counts as ready; `None`: as soon as it has started.
    pub ready: Option<Readiness>,
    /// Checks that it still works, from the moment it is ready.
    pub alive: Option<Liveness>,
    /// Whether and when it is started again after it ends (default: on failure, without
    /// limit, with the library's backoff).
    pub restart: Restart,
    /// The signal that asks it to stop (default SIGTERM).
    pub stop_signal: Signal,
    /// How long it may take to stop before its process group is killed (default 10 s).
    pub grace: Duration,
    /// Where both its output streams are appended, exactly; `None`: no file.
    pub log: Option<ServiceLog>,
}

/// A service's log file and its rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLog {
    /// The live file (`web.log`); rotated ones are `web.log.1` (newest) to `web.log.N`.
    pub path: PathBuf,
    /// Rotate before the file would pass this size (default [`DEFAULT_LOG_MAX_SIZE`]).
    pub max_size: ByteSize,
    /// Rotated files kept; older ones are deleted (default [`DEFAULT_LOG_KEEP`]).
    pub keep: u32,
}

impl ServiceLog {
    /// A log file at `path` with the default size and retention.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into(), max_size: DEFAULT_LOG_MAX_SIZE, keep: DEFAULT_LOG_KEEP }
    }

    /// Opens (creates, appends to) the file with its rotation, for every run of the service
    /// to share ([`StartOptions::log_file`]). Close it once the service has ended for good:
    /// closing writes a held unfinished last line.
    pub fn open(&self) -> Result<SharedLogFile, LogFileError> {
        let options = LogFileOptions::new().max_size(self.max_size).keep(self.keep);
        options.open(&self.path).map(SharedLogFile::new)
    }
}

impl ServiceSpec {
    /// A service that runs `program` (no shell), with the defaults.
    pub fn command(name: impl Into<String>, program: impl Into<String>) -> Self {
        Self::new(name, StepCommand::Program { command: program.into(), args: Vec::new() })
    }

    /// A service that runs `script` with bash (`bash -c SCRIPT NAME`), with the defaults.
    /// Write `exec server …` as its last command so the stop signal reaches the server itself
    /// rather than bash (the whole process group is killed after `grace` either way).
    pub fn script(name: impl Into<String>, script: impl Into<String>) -> Self {
        Self::new(name, StepCommand::Script(script.into()))
    }

    fn new(name: impl Into<String>, command: StepCommand) -> Self {
        Self {
            name: name.into(),
            command,
            dir: None,
            env: BTreeMap::new(),
            after: Vec::new(),
            ready: None,
            alive: None,
            restart: Restart::on_failure(),
            stop_signal: Signal::TERM,
            grace: DEFAULT_SERVICE_GRACE,
            log: None,
        }
    }

    /// Adds one argument (for a [`command`](Self::command) service; ignored for a script).
    pub fn arg(self, arg: impl Into<String>) -> Self {
        self.args([arg.into()])
    }

    /// Adds arguments (for a [`command`](Self::command) service; ignored for a script).
    pub fn args<I, S>(mut self, new: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if let StepCommand::Program { args, .. } = &mut self.command {
            args.extend(new.into_iter().map(Into::into));
        }
        self
    }

    /// Sets the working directory.
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Sets one environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Adds steps and services it starts after.
    pub fn after<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.after.extend(names.into_iter().map(Into::into));
        self
    }

    /// Sets its readiness probe.
    pub fn ready(mut self, ready: Readiness) -> Self {
        self.ready = Some(ready);
        self
    }

    /// Sets its liveness probe.
    pub fn alive(mut self, alive: Liveness) -> Self {
        self.alive = Some(alive);
        self
    }

    /// Sets its restart policy.
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Sets the signal that asks it to stop.
    pub fn stop_signal(mut self, signal: Signal) -> Self {
        self.stop_signal = signal;
        self
    }

    /// Sets how long it may take to stop.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Appends its output to a log file.
    pub fn log(mut self, log: ServiceLog) -> Self {
        self.log = Some(log);
        self
    }

    /// The options of one managed process that runs the service for its whole life, the
    /// way a supervisor daemon keeps it: named after it, in its `dir` with its `env`,
    /// stopped with its stop signal and grace, and restarted **by the library** with its
    /// restart policy (delays, backoff, `max_restarts`), so it keeps one id while its
    /// `restarts` count up. Readiness and liveness are the caller's to watch, and the log
    /// file its to open ([`ServiceLog::open`], then [`StartOptions::log_file`]).
    ///
    /// ([`Runner`](super::Runner) instead starts each run of a service as a new process and
    /// restarts it itself.)
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use tend::runner::ServiceSpec;
    /// use tend::{Restart, Service};
    ///
    /// let web = ServiceSpec::script("web", "exec ./server").restart(Restart::always());
    /// let process = Service::new().start(web.managed_options().label("project", "shop"))?;
    /// assert_eq!(process.info().name.as_deref(), Some("web"));
    /// # Ok(()) }
    /// ```
    pub fn managed_options(&self) -> StartOptions {
        self.run_options().restart(self.restart.clone())
    }

    /// The options of one run: named after it, in its `dir` with its `env`, stopped with its
    /// stop signal and grace; no restart.
    pub(crate) fn run_options(&self) -> StartOptions {
        let mut options =
            self.command.start_options(&self.name).grace(self.grace).stop_signal(self.stop_signal);
        if let Some(dir) = &self.dir {
            options = options.dir(dir.clone());
        }
        for (key, value) in &self.env {
            options = options.env(key, value);
        }
        options
    }
}
