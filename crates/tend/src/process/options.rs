//! [`StartOptions`]: everything that describes a process before it starts.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::restart::Restart;
use crate::Signal;
use crate::logfile::SharedLogFile;
use crate::output::Stream;

/// Default capacity of a process's output ring: 1 MiB.
pub const DEFAULT_RING_SIZE: usize = 1 << 20;
/// Default grace period between SIGTERM and SIGKILL on shutdown: 5 s.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);
/// Default longest line event before a line is split into flagged pieces: 64 KiB.
pub const DEFAULT_MAX_LINE: usize = 64 * 1024;
/// Default time to keep draining output after the process exits, for pipes still held by
/// grandchildren: 200 ms.
pub const DEFAULT_LEAK_TIMEOUT: Duration = Duration::from_millis(200);

/// Where a child's standard input comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StdinMode {
    /// `/dev/null`: reads see end-of-file at once.
    #[default]
    Null,
    /// A pipe fed by [`Process::send_input`](crate::Process::send_input) and closed by
    /// [`Process::close_stdin`](crate::Process::close_stdin).
    Piped,
    /// The supervisor's own standard input.
    Inherit,
}

/// Where a child's standard output and error go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OutputMode {
    /// Pipes read by the supervisor: line events on the event bus, and the output ring when
    /// capture is on.
    #[default]
    Piped,
    /// The supervisor's own stdout and stderr: no events, no capture, no copying.
    Inherit,
    /// `/dev/null`.
    Null,
}

/// Options for starting a managed process.
///
/// Built with [`StartOptions::new`] and the chained setters (a builder only: the fields are
/// private, so options added later break no caller).
///
/// ```
/// use std::time::Duration;
/// use tend::StartOptions;
///
/// let options = StartOptions::new("cargo")
///     .args(["build", "--release"])
///     .dir("/tmp")
///     .env("RUST_LOG", "info")
///     .timeout(Duration::from_secs(600))
///     .name("build")
///     .label("team", "core");
/// ```
#[derive(Debug, Clone)]
pub struct StartOptions {
    /// The program: a name looked up on `PATH`, or a path.
    pub(crate) command: String,
    /// Arguments, passed as they are (no shell, no splitting).
    pub(crate) args: Vec<String>,
    /// Working directory; the supervisor's own when `None`.
    pub(crate) dir: Option<PathBuf>,
    /// Variables added to (or overriding) the environment.
    pub(crate) env: Vec<(OsString, OsString)>,
    /// Start from an empty environment instead of the supervisor's.
    pub(crate) clear_env: bool,
    /// Standard input.
    pub(crate) stdin: StdinMode,
    /// Bytes for the standard input of every run (see [`Self::stdin_data`]).
    pub(crate) stdin_data: Option<Bytes>,
    /// Standard output and error.
    pub(crate) output: OutputMode,
    /// Send stderr into the same pipe as stdout (`2>&1`), so the output keeps the exact order
    /// the program wrote in (see [`merge_stderr`](StartOptions::merge_stderr)). Off by default.
    pub(crate) merge_stderr: bool,
    /// Keep output in the ring (with [`OutputMode::Piped`]).
    pub(crate) capture: bool,
    /// Ring capacity in bytes; the oldest bytes are dropped beyond it.
    pub(crate) ring_size: usize,
    /// Longest line event; longer lines are split into pieces flagged `partial`.
    pub(crate) max_line: usize,
    /// Leave the process alone (see [`Self::detach`]).
    pub(crate) detach: bool,
    /// Kill and shutdown reach the whole group (see [`Self::kill_group`]).
    pub(crate) kill_group: bool,
    /// End the process gracefully after this long (see [`Self::timeout`]).
    pub(crate) timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL when shutting down.
    pub(crate) grace: Duration,
    /// The signal a graceful shutdown sends first (SIGTERM unless set).
    pub(crate) stop_signal: Signal,
    /// How long to keep draining output after the process exits.
    pub(crate) leak_timeout: Duration,
    /// A human name; unique names make [`Service::get`](crate::Service::get) by name useful.
    pub(crate) name: Option<String>,
    /// Refuse the start while another process has the name (see [`Self::unique_name`]).
    pub(crate) unique_name: bool,
    /// Free-form labels.
    pub(crate) labels: BTreeMap<String, String>,
    /// Whether and how it is restarted when it ends by itself; never by default.
    pub(crate) restart: Restart,
    /// Also append the combined output to this file (see [`Self::output_file`] and
    /// [`Self::log_file`]).
    pub(crate) output_file: Option<OutputFileTarget>,
    /// Called for every line of every run, from the reader (see [`StartOptions::on_line`]).
    pub(crate) on_line: Option<LineCallback>,
    /// A key and the most processes with it that may run at once (see
    /// [`StartOptions::queue_group`]).
    pub(crate) queue_group: Option<(String, usize)>,
}

/// Where [`StartOptions::output_file`] or [`StartOptions::log_file`] sends the output.
#[derive(Debug, Clone)]
pub(crate) enum OutputFileTarget {
    /// A plain file, appended to.
    Path(PathBuf),
    /// A rotating log file, shared.
    Log(SharedLogFile),
    /// `ID.log` in the service's log directory ([`ServiceConfig::log_dir`](crate::ServiceConfig::log_dir)),
    /// given at the start: a new process started with the same options gets its own.
    DirLog(SharedLogFile),
}

impl OutputFileTarget {
    /// The file's path.
    pub(crate) fn path(&self) -> &std::path::Path {
        match self {
            OutputFileTarget::Path(path) => path,
            OutputFileTarget::Log(log) | OutputFileTarget::DirLog(log) => log.path(),
        }
    }

    /// The error of a rotating log file's latest write, if it failed.
    pub(crate) fn log_error(&self) -> Option<String> {
        match self {
            OutputFileTarget::Path(_) => None,
            OutputFileTarget::Log(log) | OutputFileTarget::DirLog(log) => log.error(),
        }
    }
}

/// A callback for every line of output; set with [`StartOptions::on_line`].
#[derive(Clone)]
pub struct LineCallback(Arc<LineFn>);

/// What [`LineCallback`] calls.
type LineFn = dyn Fn(Stream, &[u8]) + Send + Sync;

impl LineCallback {
    /// Wraps `callback`.
    pub fn new(callback: impl Fn(Stream, &[u8]) + Send + Sync + 'static) -> Self {
        LineCallback(Arc::new(callback))
    }

    /// Calls it; a panic is caught and logged so the reader keeps reading.
    pub(crate) fn call(&self, stream: Stream, line: &[u8]) {
        if catch_unwind(AssertUnwindSafe(|| (self.0)(stream, line))).is_err() {
            tracing::warn!(%stream, "an on_line callback panicked; output reading goes on");
        }
    }
}

impl std::fmt::Debug for LineCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LineCallback(..)")
    }
}

impl StartOptions {
    /// Options for `command` (a name looked up on `PATH`, or a path) with every default.
    pub fn new(command: impl Into<String>) -> Self {
        Self {
            command: command.into(),
            args: Vec::new(),
            dir: None,
            env: Vec::new(),
            clear_env: false,
            stdin: StdinMode::Null,
            stdin_data: None,
            output: OutputMode::Piped,
            merge_stderr: false,
            capture: true,
            ring_size: DEFAULT_RING_SIZE,
            max_line: DEFAULT_MAX_LINE,
            detach: false,
            kill_group: true,
            timeout: None,
            grace: DEFAULT_GRACE,
            stop_signal: Signal::TERM,
            leak_timeout: DEFAULT_LEAK_TIMEOUT,
            name: None,
            unique_name: false,
            labels: BTreeMap::new(),
            restart: Restart::never(),
            output_file: None,
            on_line: None,
            queue_group: None,
        }
    }

    /// Appends arguments, passed as they are (no shell, no splitting).
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Appends one argument, passed as it is.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Sets the working directory (the supervisor's own by default).
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Adds a variable to (or overrides one of) the environment the process inherits.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Starts from an empty environment.
    pub fn clear_env(mut self) -> Self {
        self.clear_env = true;
        self
    }

    /// Sets standard input ([`StdinMode::Null`] by default).
    pub fn stdin(mut self, mode: StdinMode) -> Self {
        self.stdin = mode;
        self
    }

    /// Feeds `data` to every run's standard input, then closes it: a fresh pipe per run, so
    /// a restarted run reads it again. Overrides [`stdin`](Self::stdin);
    /// [`send_input`](crate::Process::send_input) is refused. This is how inline scripts
    /// reach `bash -s`.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tend::Error> {
    /// use tend::{Service, StartOptions};
    ///
    /// let options = StartOptions::new("bash").arg("-s").stdin_data("echo hi\n");
    /// let done = Service::new().run(options).await?;
    /// assert_eq!(done.output.to_string_lossy(), "hi\n");
    /// # Ok(()) }
    /// ```
    pub fn stdin_data(mut self, data: impl Into<Bytes>) -> Self {
        self.stdin_data = Some(data.into());
        self
    }

    /// Sets where output goes ([`OutputMode::Piped`] by default).
    pub fn output(mut self, mode: OutputMode) -> Self {
        self.output = mode;
        self
    }

    /// Sends stderr into the same pipe as stdout, as `2>&1` does.
    ///
    /// **Order.** With one pipe the kernel keeps the order of the program's writes, so the
    /// ring, the line events and the output file hold exactly the order it wrote in. Without
    /// it (the default) stdout and stderr are two pipes read concurrently: each stream is in
    /// its own write order, but across the two the order is only the order in which the
    /// reader saw chunks arrive, so `echo 1; echo 2 >&2; echo 3` may come out as `1 3 2`.
    ///
    /// **Tagging.** Merged output cannot be told apart any more: every chunk and line event
    /// is tagged [`Stream::Stdout`](crate::Stream::Stdout), and
    /// [`Output::stderr`](crate::Output::stderr) is empty. Only with [`OutputMode::Piped`];
    /// with the other modes both streams already go to the same place.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tend::Error> {
    /// use tend::{Service, StartOptions};
    ///
    /// let done = Service::new()
    ///     .run(StartOptions::new("sh").args(["-c", "echo 1; echo 2 >&2; echo 3"]).merge_stderr(true))
    ///     .await?;
    /// assert_eq!(done.output.to_string_lossy(), "1\n2\n3\n");
    /// # Ok(()) }
    /// ```
    pub fn merge_stderr(mut self, merge: bool) -> Self {
        self.merge_stderr = merge;
        self
    }

    /// Turns capture into the output ring on or off (on by default; only with
    /// [`OutputMode::Piped`]).
    pub fn capture(mut self, capture: bool) -> Self {
        self.capture = capture;
        self
    }

    /// Sets the ring capacity in bytes ([`DEFAULT_RING_SIZE`] by default); the oldest bytes
    /// are dropped beyond it.
    pub fn ring_size(mut self, bytes: usize) -> Self {
        self.ring_size = bytes;
        self
    }

    /// Sets the longest line event ([`DEFAULT_MAX_LINE`] by default); longer lines are split
    /// into pieces flagged `partial`.
    pub fn max_line(mut self, bytes: usize) -> Self {
        self.max_line = bytes.max(1);
        self
    }

    /// Leaves the process alone: its own session, not killed when the supervisor stops or
    /// dies, and the group it leaves behind is not cleaned up. Off by default.
    pub fn detach(mut self, detach: bool) -> Self {
        self.detach = detach;
        self
    }

    /// Chooses whether [`kill`](crate::Process::kill) and shutdown reach the whole process
    /// group, and group members left behind by the leader are killed after the leak timeout.
    /// On by default.
    pub fn kill_group(mut self, kill_group: bool) -> Self {
        self.kill_group = kill_group;
        self
    }

    /// Ends the process gracefully after `timeout`; its `reason` is then `timeout`. Counted
    /// from the first start, over every run and restart delay. Zero means no timeout, and so
    /// does one of [`FOREVER`](crate::FOREVER) (100 years) or more.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the time between SIGTERM and SIGKILL when shutting down ([`DEFAULT_GRACE`] by
    /// default); one of [`FOREVER`](crate::FOREVER) or more never sends SIGKILL.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Sets the signal a graceful shutdown sends first, before the grace period and SIGKILL
    /// (SIGTERM by default): for programs that stop cleanly on another one, e.g. SIGINT or
    /// SIGQUIT. It is what [`Process::shutdown`](crate::Process::shutdown),
    /// [`Process::begin_shutdown`](crate::Process::begin_shutdown),
    /// [`Service::shutdown`](crate::Service::shutdown) and the end of a
    /// [`timeout`](Self::timeout) send, to the whole group as they do. SIGCONT follows it, so a
    /// stopped process can act on it.
    ///
    /// ```
    /// use tend::{Signal, StartOptions};
    ///
    /// let nginx = StartOptions::new("nginx").args(["-g", "daemon off;"]).stop_signal(Signal::QUIT);
    /// ```
    pub fn stop_signal(mut self, signal: Signal) -> Self {
        self.stop_signal = signal;
        self
    }

    /// Sets how long to keep draining output after the process exits, for pipes still held by
    /// grandchildren ([`DEFAULT_LEAK_TIMEOUT`] by default).
    pub fn leak_timeout(mut self, leak_timeout: Duration) -> Self {
        self.leak_timeout = leak_timeout;
        self
    }

    /// Names the process; unique names make [`Service::get`](crate::Service::get) by name
    /// useful.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// With `true`, [`Service::start`](crate::Service::start) refuses
    /// ([`Error::NameTaken`](crate::Error::NameTaken)) to start this process while a process
    /// of the same service with the same [`name`](Self::name) has not finished (running,
    /// or waiting to be restarted); finished ones do not block it. The check and the
    /// insertion are one step, so two concurrent starts cannot both take the name. Off by
    /// default: the runner names processes after steps, and two pipelines may run steps of
    /// the same name at once. The daemon turns it on for ad-hoc processes (`tend start --name`).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tend::Error> {
    /// use tend::{Error, Service, StartOptions};
    ///
    /// let service = Service::new();
    /// let web = StartOptions::new("sleep").arg("60").name("web").unique_name(true);
    /// let first = service.start(web.clone())?;
    /// assert!(matches!(service.start(web), Err(Error::NameTaken { .. })));
    /// first.kill()?;
    /// # Ok(()) }
    /// ```
    pub fn unique_name(mut self, unique: bool) -> Self {
        self.unique_name = unique;
        self
    }

    /// Puts it in a queue group: at most `limit` processes started with the same `key` run
    /// at once in a [`Service`](crate::Service); a start beyond that is
    /// [queued](crate::Status::Queued) and started, in submission order, when one of them
    /// ends — as with the service's own bound,
    /// [`ServiceConfig::max_running`](crate::ServiceConfig::max_running), which applies
    /// too. A limit of 0 is refused by [`check`](Self::check).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tend::Error> {
    /// use tend::{Service, StartOptions, Status};
    ///
    /// let service = Service::new();
    /// let job = |n: &str| StartOptions::new("sleep").arg(n).queue_group("batch", 1);
    /// let first = service.start(job("1"))?;
    /// let second = service.start(job("2"))?;
    /// assert_eq!(second.status(), Status::Queued);
    /// first.wait().await;
    /// second.wait().await; // started once `first` ended
    /// # Ok(()) }
    /// ```
    pub fn queue_group(mut self, key: impl Into<String>, limit: usize) -> Self {
        self.queue_group = Some((key.into(), limit));
        self
    }

    /// Adds a label.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Sets whether and how the process is restarted when it ends by itself (never by
    /// default).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tend::Error> {
    /// use tend::{MaxRestarts, Restart, Service, StartOptions};
    ///
    /// let service = Service::new();
    /// let flaky = service.start(
    ///     StartOptions::new("./flaky").restart(Restart::on_failure().max(MaxRestarts::Limited(3))),
    /// )?;
    /// let info = flaky.wait().await;
    /// assert!(info.restarts <= 3);
    /// # Ok(()) }
    /// ```
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Also appends the combined output to `path`, whole lines at a time (created if missing;
    /// kept across restarts). Needs [`OutputMode::Piped`]; independent of `capture`.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tend::Error> {
    /// use tend::{Service, StartOptions};
    ///
    /// let service = Service::new();
    /// service.run(StartOptions::new("make").output_file("/tmp/make.log")).await?;
    /// let log = std::fs::read_to_string("/tmp/make.log").unwrap();
    /// # Ok(()) }
    /// ```
    pub fn output_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.output_file = Some(OutputFileTarget::Path(path.into()));
        self
    }

    /// Also appends the combined output to a rotating [`LogFile`](crate::logfile::LogFile),
    /// whole lines at a time, like [`output_file`](Self::output_file) (which it replaces; the
    /// last of the two set wins). Share the same [`SharedLogFile`] between processes (every
    /// run of a service) to have them append to one file. The readers wait while the disk is
    /// behind, so every byte reaches the file. Needs [`OutputMode::Piped`].
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use tend::logfile::{LogFileOptions, SharedLogFile};
    /// use tend::{ByteSize, Service, StartOptions};
    ///
    /// let log = LogFileOptions::new().max_size(ByteSize::mib(10)).keep(3).open("web.log")?;
    /// let log = SharedLogFile::new(log);
    /// Service::new().run(StartOptions::new("make").log_file(log.clone())).await?;
    /// log.close()?;
    /// # Ok(()) }
    /// ```
    pub fn log_file(mut self, log: SharedLogFile) -> Self {
        self.output_file = Some(OutputFileTarget::Log(log));
        self
    }

    /// Calls `callback(stream, line)` for every line of every run (without its `\n`; a last
    /// line without one included), in order within each stream, as soon as the line is read.
    /// A line longer than [`max_line`](Self::max_line) comes as several calls. Needs
    /// [`OutputMode::Piped`]; independent of `capture`.
    ///
    /// The callback runs on the task that reads the pipe: it **must not block** (a slow one
    /// slows the reader, and then the child blocks on a full pipe). Send the line to a channel
    /// for slow work. A panicking callback is caught and logged; reading goes on.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tend::Error> {
    /// use tend::{Service, StartOptions, Stream};
    ///
    /// let service = Service::new();
    /// let process = service.start(StartOptions::new("make").on_line(|stream, line| {
    ///     if stream == Stream::Stderr {
    ///         eprintln!("make: {}", String::from_utf8_lossy(line));
    ///     }
    /// }))?;
    /// process.wait().await;
    /// # Ok(()) }
    /// ```
    pub fn on_line(mut self, callback: impl Fn(Stream, &[u8]) + Send + Sync + 'static) -> Self {
        self.on_line = Some(LineCallback::new(callback));
        self
    }
}
