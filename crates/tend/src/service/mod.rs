//! [`Service`]: the table of managed processes and the event bus they publish to.

mod list;
mod list_cache;
#[cfg(test)]
mod list_tests;
mod restore;
#[cfg(test)]
mod run_tests;
mod table;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;

pub use list::ProcessList;
pub(crate) use list_cache::ListCache;
use table::Table;

use crate::event::{
    DEFAULT_EVENT_BYTES, DEFAULT_EVENT_CAPACITY, EventBacklog, EventBus, EventKind, Subscription,
};
use crate::os::Guardian;
use crate::output::Output;
use crate::process::{
    self, Owner, Process, ProcessId, ProcessInfo, ProcessShared, StartOptions, Status, Supervision,
};
use crate::{CancellationToken, Error, FailedRun};

/// Default number of finished records kept; older ones are dropped.
pub const DEFAULT_MAX_FINISHED: usize = 1000;

/// How many ids of dropped records a service remembers (about 2 MiB at most), so that
/// looking one up gives [`Error::Evicted`] rather than [`Error::NotFound`]. Older ones are
/// forgotten and give `NotFound` again.
pub const MAX_EVICTED_IDS: usize = 65_536;

/// Settings of a [`Service`].
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Events held for subscribers that have not read them; beyond this (or `event_bytes`)
    /// the oldest are dropped and a slow subscriber gets [`Received::Lagged`](crate::Received).
    pub event_capacity: usize,
    /// Bytes (line bytes plus bookkeeping) held for subscribers that have not read them.
    pub event_bytes: usize,
    /// Finished records kept; beyond this, those that ended first are dropped, so memory stays
    /// bounded. Looking a dropped one up by its full id gives [`Error::Evicted`] (for the
    /// last [`MAX_EVICTED_IDS`] dropped).
    pub max_finished: usize,
    /// At most this many processes run at once; a start beyond is accepted as a
    /// [queued](Status::Queued) record (an id, listed, no PID, no output, no event yet) and
    /// started in submission order as running ones end. `None` (the default): no bound.
    /// Each running process holds its slot through its restarts; a detached one holds it
    /// too. [`StartOptions::queue_group`] bounds a group of processes the same way. Queued
    /// records are not bounded here: a caller that takes starts from others bounds them (the
    /// daemon's `--max-processes` counts them).
    pub max_running: Option<usize>,
    /// Where the processes started without a log or output file of their own write their
    /// output: `DIR/ID.log`, rotated (see [`LogDir`](crate::logfile::LogDir)); `None` (the
    /// default) keeps their output in memory only.
    pub log_dir: Option<crate::logfile::LogDir>,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            event_capacity: DEFAULT_EVENT_CAPACITY,
            event_bytes: DEFAULT_EVENT_BYTES,
            max_finished: DEFAULT_MAX_FINISHED,
            max_running: None,
            log_dir: None,
        }
    }
}

/// How a one-shot [`Service::run`] ended: its final info (status, exit code or signal,
/// reason) and its output. A non-zero exit is an outcome here, not an error; use
/// [`checked`](RunOutput::checked) or [`Service::run_checked`] to make it one.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// Final snapshot.
    pub info: ProcessInfo,
    /// Everything it printed, as far as the ring held. Each stream is in the order it was
    /// written; across stdout and stderr the order is the one in which the two pipes' chunks
    /// were read, unless [`StartOptions::merge_stderr`] put both on one pipe, which keeps the
    /// exact order of writes.
    pub output: Output,
}

impl RunOutput {
    /// Whether it exited by itself with code 0 (status [`Status::Exited`]).
    pub fn success(&self) -> bool {
        self.info.status == Status::Exited
    }

    /// `Ok(self)` on success; otherwise [`Error::Failed`], which carries the same info and
    /// output.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tend::Error> {
    /// use tend::{Error, Service, StartOptions};
    ///
    /// let done = Service::new().run(StartOptions::new("false")).await?;
    /// assert_eq!(done.info.exit_code, Some(1));
    /// assert!(matches!(done.checked(), Err(Error::Failed(_))));
    /// # Ok(()) }
    /// ```
    pub fn checked(self) -> Result<RunOutput, Error> {
        if self.success() {
            Ok(self)
        } else {
            Err(Error::Failed(Box::new(FailedRun { info: self.info, output: self.output })))
        }
    }
}

/// Owns managed processes: starts them, finds them, and stops them.
///
/// Cloning is cheap and every clone is the same service. When the last clone is dropped —
/// or the supervising program dies, even by SIGKILL — every non-detached process group is
/// killed (see the [`process`](crate::process) module's caveats).
///
/// ```no_run
/// # async fn demo() -> Result<(), tend::Error> {
/// use tend::{Service, StartOptions};
///
/// let service = Service::new();
/// let done = service.run(StartOptions::new("uname").arg("-s")).await?;
/// println!("{}", done.output.to_string_lossy());
///
/// let server = service.start(StartOptions::new("python3").args(["-m", "http.server"]).name("web"))?;
/// assert!(service.get("web").is_ok());
/// // Its lines, from the first one, each tagged with its stream; lag is an `Err`.
/// let mut lines = server.lines();
/// if let Some(Ok(line)) = lines.recv().await {
///     println!("{}: {}", line.stream, line.to_string_lossy());
/// }
/// server.kill()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Service {
    inner: Arc<ServiceInner>,
}

#[derive(Debug)]
struct ServiceInner {
    config: ServiceConfig,
    bus: Arc<EventBus>,
    table: Mutex<Table>,
    /// Forked at the first non-detached start; `None` inside if the fork failed.
    guardian: OnceLock<Option<Guardian>>,
    /// Cancelled when [`Service::shutdown`] begins.
    shutting_down: CancellationToken,
    /// Set by [`Service::shutdown`]: from then on no restart asked for and no queued
    /// process starts.
    closing: AtomicBool,
    /// The records as one block of JSON for [`list_filtered`](Service::list_filtered), and
    /// the count of writes to their states that tells whether it still holds.
    list_cache: Arc<ListCache>,
}

impl Default for Service {
    fn default() -> Self {
        Self::new()
    }
}

impl Service {
    /// A service with default settings.
    pub fn new() -> Self {
        Self::with_config(ServiceConfig::default())
    }

    /// A service with the given settings.
    pub fn with_config(config: ServiceConfig) -> Self {
        let bus = Arc::new(EventBus::new(config.event_capacity, config.event_bytes));
        Self {
            inner: Arc::new(ServiceInner {
                config,
                bus,
                table: Mutex::new(Table::default()),
                guardian: OnceLock::new(),
                shutting_down: CancellationToken::new(),
                closing: AtomicBool::new(false),
                list_cache: Arc::default(),
            }),
        }
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.inner.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a process and returns its handle at once. Must be called from within a Tokio
    /// runtime. Options that cannot reach a program ([`StartOptions::check`]) give
    /// [`Error::InvalidOption`] and leave no record, as does a name that
    /// [`StartOptions::unique_name`] requires and an unfinished process has
    /// ([`Error::NameTaken`]). A program that cannot be started gives
    /// [`Error::Spawn`] naming it and the OS reason, and leaves a `failed` record in the table,
    /// except when this process is out of file descriptors
    /// ([`Error::is_descriptor_exhaustion`]): that passes, callers such as the runner retry,
    /// and a record per refused try would crowd real ones out.
    pub fn start(&self, options: StartOptions) -> Result<Process, Error> {
        let (process, supervision) = self.launch(options)?;
        if let Some(supervision) = supervision {
            supervision.hand_over();
        }
        Ok(process)
    }

    /// [`start`](Service::start), leaving the supervision of a process that started at once
    /// to the caller; `None` for a queued one (its first run is supervised by a task).
    fn launch(&self, options: StartOptions) -> Result<(Process, Option<Supervision>), Error> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::NoRuntime);
        }
        options.check()?;
        if !options.detach {
            // Fork the guardian before the child exists, not on the first registration after
            // it: a supervisor that dies in between would otherwise orphan the group, and
            // forking takes far longer than the one pipe write left in that window.
            self.inner.guardian();
        }
        let id = ProcessId::new();
        let options = match &self.inner.config.log_dir {
            Some(dir) => dir.give(options, id),
            None => options,
        };
        let shared = Arc::new(ProcessShared::with_id(
            id,
            options,
            self.inner.bus.clone(),
            self.inner.list_cache.changes().clone(),
        ));
        let owner: Arc<dyn Owner> = Arc::new(Link(Arc::downgrade(&self.inner)));
        {
            let mut table = self.table();
            table.insert(shared.clone())?;
            if !table.admit(&shared, self.inner.config.max_running) {
                // Under the table's lock: a slot that frees finds it parked.
                shared.park(owner);
                return Ok((Process::new(shared), None));
            }
        }
        match process::supervised(&shared, owner) {
            Ok(supervision) => Ok((Process::new(shared), Some(supervision))),
            Err(error) => {
                if error.is_descriptor_exhaustion() {
                    self.table().discard(&shared);
                }
                Err(error)
            }
        }
    }

    /// Runs a process to the end and returns how it ended, whatever the exit code: a
    /// non-zero exit, a signal or a timeout is in [`RunOutput::info`], not an error. `Err`
    /// only when it could not be started at all (as [`start`](Service::start)). This is the
    /// crate's one rule (see the [crate docs](crate#one-meaning-of-failure)); use
    /// [`run_checked`](Service::run_checked) to turn an unsuccessful end into an error.
    ///
    /// The process is supervised by this future itself while it is awaited (its output read,
    /// its end recorded and published, as for [`start`](Service::start)): no task of its own,
    /// so a run costs no more thread hand-offs than the child's end waking the caller. It is
    /// an ordinary managed process meanwhile: listed, found by [`get`](Service::get), killed,
    /// signalled and shut down by any handle. Dropping the future before the end (a timeout
    /// around it, a `select!`) leaves the process running, supervised by a task of its own
    /// from then on, exactly as if it had been started with `start`; kill it by its id or
    /// name if it should not go on. Keeping the future without polling it delays the reading
    /// of its output and the recording of its end until it is polled again.
    pub async fn run(&self, options: StartOptions) -> Result<RunOutput, Error> {
        let (process, supervision) = self.launch(options)?;
        if let Some(supervision) = supervision {
            supervision.await;
        }
        let info = process.wait().await;
        let output = process.output();
        Ok(RunOutput { info, output })
    }

    /// [`run`](Service::run), then [`RunOutput::checked`]: anything but exit code 0 gives
    /// [`Error::Failed`], which still carries the output and the exit code.
    pub async fn run_checked(&self, options: StartOptions) -> Result<RunOutput, Error> {
        self.run(options).await?.checked()
    }

    /// Finds a process by full id, unique id prefix (4+ characters) or name. A full id whose
    /// finished record retention dropped gives [`Error::Evicted`]. A name that more than one
    /// record in the table has — finished ones count too, so one running and one finished
    /// `web` is ambiguous — gives [`Error::AmbiguousName`] listing their ids; use an id then,
    /// or [`remove`](Service::remove) / [`clear`](Service::clear) the finished ones.
    pub fn get(&self, key: &str) -> Result<Process, Error> {
        self.table().find(key).map(Process::new)
    }

    /// Sends SIGKILL to the process `key` names (full id, unique prefix or name), as
    /// [`Process::kill`] does, and returns without waiting.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tend::Error> {
    /// let service = tend::Service::new();
    /// let sleeper = service.start(tend::StartOptions::new("sleep").arg("60").name("nap"))?;
    /// service.kill("nap")?;
    /// sleeper.wait().await;
    /// # Ok(()) }
    /// ```
    pub fn kill(&self, key: &str) -> Result<(), Error> {
        self.get(key)?.kill()
    }

    /// A copy of the captured output of the process `key` names, as [`Process::output`].
    pub fn output(&self, key: &str) -> Result<Output, Error> {
        Ok(self.get(key)?.output())
    }

    /// Every process in the table, in start order.
    pub fn list(&self) -> Vec<ProcessInfo> {
        self.table().all().map(|p| p.info()).collect()
    }

    /// Handles on the processes that have not ended yet, in start order.
    pub fn running(&self) -> Vec<Process> {
        self.table().all().filter(|p| !p.is_done()).cloned().map(Process::new).collect()
    }

    /// How many processes have not ended yet (as `running().len()`, without a handle each:
    /// the process limit checks it on every start).
    pub fn running_count(&self) -> usize {
        self.table().all().filter(|p| !p.is_done()).count()
    }

    /// Removes a finished process's record; refuses ([`Error::StillRunning`]) a running one.
    /// A [queued](Status::Queued) one is ended first (`killed`, reason `killed`, never
    /// started), then removed.
    pub fn remove(&self, key: &str) -> Result<ProcessInfo, Error> {
        self.get(key)?.shared().cancel_queued(process::Reason::Killed);
        self.table().remove(key).map(|p| p.info())
    }

    /// Removes every finished record; returns how many.
    pub fn clear(&self) -> usize {
        self.table().clear_finished()
    }

    /// Subscribes to every event of every process from now on; events published before are
    /// not replayed, and a subscriber that falls behind gets [`Received::Lagged`](crate::Received). To follow
    /// one process's output — also when it has already ended — use
    /// [`Process::lines`](crate::Process::lines) or [`Process::events`](crate::Process::events).
    pub fn subscribe(&self) -> Subscription {
        self.inner.bus.subscribe()
    }

    /// The `seq` of the newest event published so far (0 before the first). A subscriber
    /// whose last event has a smaller `seq` is that many events behind.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tend::Error> {
    /// use tend::{Received, Service, StartOptions};
    ///
    /// let service = Service::new();
    /// let mut events = service.subscribe();
    /// service.run(StartOptions::new("true")).await?;
    /// while let Some(received) = events.recv().await {
    ///     match received {
    ///         Received::Event(event) if event.seq == service.last_seq() => break, // caught up
    ///         Received::Event(_) => {}
    ///         Received::Lagged { missed } => eprintln!("missed {missed} events"),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn last_seq(&self) -> u64 {
        self.inner.bus.last_seq()
    }

    /// What the event bus holds now for subscribers that have not read it, bounded by
    /// [`ServiceConfig::event_capacity`] and [`ServiceConfig::event_bytes`]. Zero when every
    /// subscriber has caught up.
    pub fn event_backlog(&self) -> EventBacklog {
        self.inner.bus.backlog()
    }

    /// Publishes one event about process `id` on the bus, in order with its own events (the
    /// stack's `ready` and `not_alive`; a supervisor watching the readiness of processes it
    /// started publishes them the same way).
    pub fn publish(&self, id: ProcessId, kind: EventKind) {
        self.inner.bus.publish(id, [kind]);
    }

    /// A token cancelled when [`shutdown`](Self::shutdown) begins: tasks that watch this
    /// service's processes (readiness, liveness, restarts of their own) end on it rather
    /// than act during the shutdown.
    pub fn shutting_down(&self) -> CancellationToken {
        self.inner.shutting_down.clone()
    }

    /// Shuts every non-detached running process down gracefully, all at once, and waits.
    /// From then on nothing new runs: [queued](Status::Queued) processes end `killed`
    /// (reason `shutdown`) without starting, and a [`Process::restart`] under way ends with
    /// the run it stopped.
    ///
    /// With [containment](crate::process::contain_descendants) on, what those processes
    /// started and that left their process groups is then killed too (SIGKILL): whatever
    /// carries this service's token, or, in a cgroup, every other process left in it.
    pub async fn shutdown(&self, grace: Duration) {
        self.inner.shutting_down.cancel();
        self.inner.closing.store(true, Ordering::SeqCst);
        let mut tasks = tokio::task::JoinSet::new();
        // Queued ones end without starting, detached or not.
        let ends = |p: &Process| !p.shared().options.detach || p.status() == Status::Queued;
        for process in self.running().into_iter().filter(ends) {
            tasks.spawn(async move { process.shutdown(grace).await });
        }
        while tasks.join_next().await.is_some() {}
        let inner = self.inner.clone();
        let _ = tokio::task::spawn_blocking(move || {
            if let Some(Some(guardian)) = inner.guardian.get() {
                guardian.kill_escapees();
            }
        })
        .await;
    }
}

/// The link from a process back to its service; weak, so running processes do not keep a
/// dropped service alive.
struct Link(Weak<ServiceInner>);

impl ServiceInner {
    fn guardian(&self) -> Option<&Guardian> {
        self.guardian
            .get_or_init(|| match Guardian::spawn() {
                Ok(guardian) => Some(guardian),
                Err(error) => {
                    tracing::warn!(%error, "cannot fork the guardian; children will not be killed if this process dies");
                    None
                }
            })
            .as_ref()
    }
}

impl Owner for Link {
    fn protect(&self, protection: &mut crate::os::Protection) {
        if let Some(inner) = self.0.upgrade()
            && let Some(guardian) = inner.guardian()
        {
            guardian.protect(protection);
        }
    }

    fn watch_group(&self, pgid: u32) {
        if let Some(guardian) = self.0.upgrade().as_ref().and_then(|i| i.guardian.get()?.as_ref()) {
            guardian.watch(pgid);
        }
    }

    fn forget_group(&self, pgid: u32) {
        if let Some(guardian) = self.0.upgrade().as_ref().and_then(|i| i.guardian.get()?.as_ref()) {
            guardian.forget(pgid);
        }
    }

    fn is_alive(&self) -> bool {
        self.0.strong_count() > 0
    }

    fn accepts_starts(&self) -> bool {
        self.0.upgrade().is_some_and(|inner| !inner.closing.load(Ordering::SeqCst))
    }

    fn finished(&self, shared: &Arc<ProcessShared>) {
        let Some(inner) = self.0.upgrade() else { return };
        let starting = {
            let mut table = inner.table.lock().unwrap_or_else(|e| e.into_inner());
            table.finished(shared, inner.config.max_finished);
            if inner.closing.load(Ordering::SeqCst) {
                Vec::new()
            } else {
                table.next_to_start(inner.config.max_running)
            }
        };
        // Outside the lock: a start that fails calls back here.
        for next in starting {
            next.start_parked();
        }
    }
}

impl Drop for ServiceInner {
    /// Queued processes of a service that is gone never start: they end, so that nothing
    /// waits on them for ever.
    fn drop(&mut self) {
        let queued = self.table.get_mut().unwrap_or_else(|e| e.into_inner()).drain_queue();
        for shared in queued {
            shared.cancel_queued(process::Reason::Shutdown);
        }
    }
}
