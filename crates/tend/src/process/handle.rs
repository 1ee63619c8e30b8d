//! [`Process`]: the handle on one managed process.

use std::sync::Arc;
use std::time::Duration;

use super::control::Target;
use super::info::{ProcessId, ProcessInfo, Reason, Status};
use super::lines::{Lines, ProcessEvents};
use super::options::OutputFileTarget;
use super::shared::ProcessShared;
use super::stdin::StdinFailure;
use crate::output::{Output, OutputSince};
use crate::{Error, Signal};

/// A handle on a managed process. Cheap to clone; every clone controls the same process.
///
/// ```no_run
/// # async fn demo() -> Result<(), tend::Error> {
/// use std::time::Duration;
/// use tend::{Service, StartOptions, StdinMode};
///
/// let service = Service::new();
/// let process = service.start(StartOptions::new("cat").stdin(StdinMode::Piped))?;
/// process.send_input(b"hello\n").await?;
/// process.close_stdin().await?;
/// let info = process.wait().await;
/// assert_eq!(info.exit_code, Some(0));
/// assert_eq!(process.output().stdout(), b"hello\n");
///
/// let sleeper = service.start(StartOptions::new("sleep").arg("60"))?;
/// sleeper.shutdown(Duration::from_secs(2)).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Process {
    shared: Arc<ProcessShared>,
}

impl Process {
    pub(crate) fn new(shared: Arc<ProcessShared>) -> Self {
        Self { shared }
    }

    pub(crate) fn shared(&self) -> &Arc<ProcessShared> {
        &self.shared
    }

    /// Its id.
    pub fn id(&self) -> ProcessId {
        self.shared.id
    }

    /// Its PID, once started.
    pub fn pid(&self) -> Option<u32> {
        self.shared.state().pid
    }

    /// Its current status.
    pub fn status(&self) -> Status {
        self.shared.state().status
    }

    /// Whether it has not ended for good: queued, pending, running, or between two runs of a
    /// restart policy. The opposite of [`Status::is_finished`].
    pub fn is_running(&self) -> bool {
        !self.status().is_finished()
    }

    /// Its exit code, once its (latest) run exited normally; `None` while it runs, and after
    /// a death by signal (see [`ProcessInfo::signal`]).
    pub fn exit_code(&self) -> Option<i32> {
        self.shared.state().exit_code
    }

    /// A snapshot of everything known about it.
    pub fn info(&self) -> ProcessInfo {
        self.shared.info()
    }

    /// Bytes of its output (counted as [`output_since`](Self::output_since) counts them)
    /// its log file's writer has handled so far: written, or lost to a write error. The file
    /// ([`ProcessInfo::log_path`]) lags the capture ring by the whole lines still queued and
    /// each stream's unfinished line; with one stream (or
    /// [`merge_stderr`](crate::StartOptions::merge_stderr)) its bytes of this process are
    /// those before this offset. 0 without a log file.
    pub fn logged_bytes(&self) -> u64 {
        self.shared.logged.logged()
    }

    /// Its rotating log file ([`StartOptions::log_file`](crate::StartOptions::log_file)) at
    /// this instant, cut where its own bytes end (other processes sharing the log may have
    /// appended since), and the offset of its output (as
    /// [`output_since`](Self::output_since) counts) where that snapshot ends: both taken
    /// under the log's lock, so they agree whatever the writer does meanwhile (see
    /// [`LogSnapshot`](crate::logfile::LogSnapshot)). `None` without a rotating log file
    /// (no log, or a plain [`output_file`](crate::StartOptions::output_file)).
    ///
    /// The bytes of this process are those before that offset with one stream (or
    /// [`merge_stderr`](crate::StartOptions::merge_stderr)); with two, the log has them whole
    /// lines at a time, so lines of the two streams may be in another order than in the
    /// capture ring.
    pub fn log_snapshot(&self) -> Option<(crate::logfile::LogSnapshot, u64)> {
        match self.shared.options.output_file.as_ref()? {
            OutputFileTarget::Path(_) => None,
            OutputFileTarget::Log(log) | OutputFileTarget::DirLog(log) => {
                Some(log.snapshot_for(&self.shared.logged))
            }
        }
    }

    /// A copy of the captured output so far.
    pub fn output(&self) -> Output {
        self.shared.output()
    }

    /// The captured bytes from absolute offset `offset` on (0 is the first byte it ever wrote),
    /// both streams in the order they were read (see [`StartOptions::merge_stderr`](crate::StartOptions::merge_stderr)
    /// for the exact order of writes), and how many bytes before them were dropped. Following the
    /// output exactly is a loop of this and [`wait_output`](Self::wait_output).
    pub fn output_since(&self, offset: u64) -> OutputSince {
        self.shared.ring().output_since(offset)
    }

    /// Waits until captured output goes past byte `offset`, or it has ended and its output is
    /// drained; returns whether there are bytes past `offset`.
    ///
    /// ```no_run
    /// # async fn demo(process: tend::Process) {
    /// use std::io::Write;
    /// let mut offset = 0;
    /// while process.wait_output(offset).await {
    ///     let since = process.output_since(offset);
    ///     if since.dropped > 0 {
    ///         eprintln!("{} bytes dropped", since.dropped);
    ///     }
    ///     std::io::stdout().write_all(&since.bytes).unwrap();
    ///     offset = since.next_offset();
    /// }
    /// # }
    /// ```
    pub async fn wait_output(&self, offset: u64) -> bool {
        let mut written = self.shared.ring().watch_written();
        let mut done = self.shared.done.subscribe();
        loop {
            if *written.borrow_and_update() > offset {
                return true;
            }
            if *done.borrow_and_update() {
                return *written.borrow() > offset;
            }
            // Both senders live as long as `self.shared`: neither can close here.
            tokio::select! {
                _ = written.changed() => {}
                _ = done.changed() => {}
            }
        }
    }

    /// Its output as lines, each tagged with its stream: first every line its capture ring
    /// still holds (from the first line it wrote, unless the ring overflowed), then the lines
    /// it writes, until it is over. Works the same whenever it is called — before the
    /// process writes anything or after it has ended — and any number of readers may follow
    /// one process. Bytes dropped from the ring before they were read come as
    /// `Err(Lagged)`, never silently. See [`ProcessEvents`] for ordering and restarts.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use tend::{Service, StartOptions};
    ///
    /// let service = Service::new();
    /// let process = service.start(StartOptions::new("sh").args(["-c", "echo out; echo err >&2"]))?;
    /// let mut lines = process.lines();
    /// while let Some(line) = lines.recv().await {
    ///     match line {
    ///         Ok(line) => println!("{}: {}", line.stream, line.to_string_lossy()),
    ///         Err(lagged) => eprintln!("{lagged}"),
    ///     }
    /// }
    /// let info = process.wait().await;
    /// # Ok(()) }
    /// ```
    pub fn lines(&self) -> Lines {
        Lines::new(self.clone())
    }

    /// Like [`lines`](Self::lines), as [`ProcessEvent`](crate::ProcessEvent)s that end with
    /// `Exited` and the final info.
    ///
    /// ```no_run
    /// # async fn demo(process: tend::Process) {
    /// use tend::ProcessEvent;
    ///
    /// let mut events = process.events();
    /// while let Some(event) = events.recv().await {
    ///     match event {
    ///         ProcessEvent::Line(line) => println!("{}", line.to_string_lossy()),
    ///         ProcessEvent::Lagged(lagged) => eprintln!("{lagged}"),
    ///         ProcessEvent::Exited(info) => println!("ended: {}", info.status),
    ///     }
    /// }
    /// # }
    /// ```
    pub fn events(&self) -> ProcessEvents {
        ProcessEvents::new(self.clone())
    }

    /// Waits until it has ended and its output is drained, then returns the final info.
    /// Any number of callers may wait, before or after the end. With a restart policy it
    /// returns after the last run.
    pub async fn wait(&self) -> ProcessInfo {
        self.shared.wait_done().await;
        self.info()
    }

    /// Sends SIGKILL to it — to its whole group unless started with `kill_group(false)` — and
    /// returns without waiting. Killing a process that has already ended is not an error.
    /// No restart follows, also when it is killed between two runs. A
    /// [queued](Status::Queued) one ends `killed` at once, never started.
    pub fn kill(&self) -> Result<(), Error> {
        if self.shared.cancel_queued(Reason::Killed) {
            return Ok(());
        }
        self.shared.deliver(Signal::KILL, Target::GroupIfConfigured, Some(Reason::Killed)).map(drop)
    }

    /// Delivers `signal` to the process (the group leader only), exactly once. Nothing
    /// escalates: use [`shutdown`](Self::shutdown) for that.
    ///
    /// Fails with [`Error::NotRunning`] when the process has already ended.
    pub fn signal(&self, signal: Signal) -> Result<(), Error> {
        if self.shared.deliver(signal, Target::Leader, None)? {
            Ok(())
        } else {
            Err(Error::NotRunning(self.id().to_string()))
        }
    }

    /// Shuts it down gracefully: SIGTERM (to the group; another signal if set with
    /// [`StartOptions::stop_signal`](crate::StartOptions::stop_signal)), output keeps draining
    /// through `grace`, then SIGKILL. Returns the final info. A process that has already ended is
    /// simply returned. No restart follows. A [queued](Status::Queued) one ends `killed`
    /// (reason `shutdown`) at once, never started.
    pub async fn shutdown(&self, grace: Duration) -> Result<ProcessInfo, Error> {
        self.shared.cancel_queued(Reason::Shutdown);
        self.shared.terminate(Reason::Shutdown, grace).await?;
        Ok(self.info())
    }

    /// Restarts it now, on the same record: the stop signal (as [`shutdown`](Self::shutdown)
    /// sends it), output keeps draining through `grace`, SIGKILL if it is still running, then
    /// the next run starts at once — whatever its [`Restart`](crate::Restart) policy, with no
    /// backoff delay, through the same start as a policy restart. The id, the output ring,
    /// the event stream and the output file stay; [`ProcessInfo::restarts`] counts it, a
    /// `restarted {attempt}` event announces it, and the new run has a new PID (and process
    /// group). Between two runs of a policy restart it cuts the delay short.
    ///
    /// Returns the info once the next run has started. Concurrent calls before that join the
    /// same restart. If the process is ended for good meanwhile (kill, shutdown, its timeout,
    /// a [`Service::shutdown`](crate::Service::shutdown)) nothing starts and the final info is
    /// returned; if the next run cannot start, the record ends `failed` as with a policy
    /// restart.
    ///
    /// Fails with [`Error::NotRunning`] when it has already ended, is being stopped, or is
    /// still [queued](Status::Queued).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tend::Error> {
    /// use std::time::Duration;
    /// use tend::{Service, StartOptions};
    ///
    /// let service = Service::new();
    /// let web = service.start(StartOptions::new("sleep").arg("600").name("web"))?;
    /// let before = web.pid();
    /// let info = web.restart(Duration::from_secs(5)).await?;
    /// assert_eq!((info.id, info.restarts), (web.id(), 1));
    /// assert_ne!(info.pid, before);
    /// # Ok(()) }
    /// ```
    pub async fn restart(&self, grace: Duration) -> Result<ProcessInfo, Error> {
        self.shared.restart(grace).await?;
        Ok(self.info())
    }

    /// Starts a graceful shutdown in the background and returns at once; use
    /// [`wait`](Self::wait) to learn the outcome. Needs a Tokio runtime.
    pub fn begin_shutdown(&self, grace: Duration) {
        self.shared.cancel_queued(Reason::Shutdown);
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let _ = shared.terminate(Reason::Shutdown, grace).await;
        });
    }

    /// Writes `data` to its stdin (started with [`StdinMode::Piped`](crate::StdinMode)).
    /// A write blocked by a child that does not read never stops kill or shutdown, and gives
    /// up when stdin is closed.
    pub async fn send_input(&self, data: &[u8]) -> Result<(), Error> {
        let id = || self.id().to_string();
        self.shared.stdin.write(data).await.map_err(|failure| match failure {
            StdinFailure::Closed => Error::StdinClosed(id()),
            StdinFailure::Io(source) => Error::Stdin { id: id(), source },
        })
    }

    /// Closes its stdin, so it reads end-of-file. Fails when already closed or never piped.
    pub async fn close_stdin(&self) -> Result<(), Error> {
        if self.shared.stdin.close().await {
            Ok(())
        } else {
            Err(Error::StdinClosed(self.id().to_string()))
        }
    }

    /// Whether stdin can still be written.
    pub fn stdin_open(&self) -> bool {
        !self.shared.stdin.is_closed()
    }
}
