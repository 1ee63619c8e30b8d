//! One service of a project: ONE managed process for its whole life, restarted by the
//! library's restart policy (one id, `restarts` counting up), its readiness checked after
//! every (re)start of that process and published as `ready` events, its liveness watched
//! once ready (a process not alive is restarted on the same record with
//! [`Process::restart`]), and its graceful stop with its own stop
//! signal and grace.
//!
//! A [`Unit`] runs one task at a time (a [`Run`]): wait for what the service runs `after`,
//! start the process, watch it until it ends for good or is stopped, close the log file.
//! Every task's token is a child of the service's [`shutting_down`](tend::Service::shutting_down)
//! token: when the daemon shuts down, every project task ends, and none starts or restarts
//! anything.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tend::logfile::SharedLogFile;
use tend::probe::{Liveness, NotReady};
use tend::runner::ServiceSpec;
use tend::wire::{ProjectServiceInfo, ServiceState, StepState};
use tend::{CancellationToken, EventKind, Process, Service, Status};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::pipelines::Pipelines;

/// How often a watch looks at its process for a restart, and a dependency at a step.
const POLL: Duration = Duration::from_millis(50);

/// Where a service is on its way to its first readiness (what its dependents wait for).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Waiting,
    Ready,
    Failed,
}

/// Something a service runs `after`.
pub(super) enum Dep {
    /// A service of the project: its first readiness.
    Service { name: String, phase: watch::Receiver<Phase> },
    /// A step of the project: its success (or allowed failure). The receiver gets the id of
    /// the pipeline running the project's steps once it is launched.
    Step { name: String, pipeline: watch::Receiver<Option<String>>, pipelines: Pipelines },
}

impl Dep {
    /// Waits until it allows the start; `Err` says why it never will.
    async fn wait(self) -> Result<(), String> {
        match self {
            Dep::Service { name, mut phase } => {
                match phase.wait_for(|phase| *phase != Phase::Waiting).await.map(|p| *p) {
                    Ok(Phase::Ready) => Ok(()),
                    _ => Err(format!("`{name}` failed")),
                }
            }
            Dep::Step { name, mut pipeline, pipelines } => {
                let id = match pipeline.wait_for(Option::is_some).await {
                    Ok(id) => id.clone().unwrap_or_default(),
                    Err(_) => return Err(format!("step `{name}` was not run")),
                };
                loop {
                    let state =
                        pipelines.get(&id).ok_or_else(|| format!("step `{name}`: no pipeline"))?;
                    let step = state.report.steps.iter().find(|s| s.name() == name);
                    if let Some(StepState::Ended(report)) = step {
                        return if report.status.unblocks() {
                            Ok(())
                        } else {
                            Err(format!("step `{name}` {}", report.status))
                        };
                    }
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }
}

/// A service of a project and its live state.
pub(super) struct Unit {
    pub(super) name: String,
    pub(super) project: String,
    pub(super) spec: ServiceSpec,
    /// Its resolved definition: a reload restarts it only when this changed.
    pub(super) definition: String,
    /// The project's `jobs`: at most this many of its processes run at once, the others
    /// queued (0: no bound of its own).
    jobs: usize,
    live: Mutex<Live>,
    phase: watch::Sender<Phase>,
    run: Mutex<Option<Run>>,
}

struct Live {
    state: ServiceState,
    error: Option<String>,
    process: Option<Process>,
}

/// The task under way and the token that stops it.
struct Run {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Unit {
    pub(super) fn new(
        project: &str,
        spec: ServiceSpec,
        definition: String,
        jobs: usize,
    ) -> Arc<Self> {
        Arc::new(Self {
            name: spec.name.clone(),
            project: project.to_owned(),
            spec,
            definition,
            jobs,
            live: Mutex::new(Live { state: ServiceState::Waiting, error: None, process: None }),
            phase: watch::Sender::new(Phase::Waiting),
            run: Mutex::new(None),
        })
    }

    fn live(&self) -> MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, state: ServiceState, error: Option<String>) {
        let mut live = self.live();
        live.state = state;
        live.error = error;
    }

    /// What its dependents wait for.
    pub(super) fn phase(&self) -> watch::Receiver<Phase> {
        self.phase.subscribe()
    }

    /// Its process, if it has one.
    pub(super) fn process(&self) -> Option<Process> {
        self.live().process.clone()
    }

    /// Whether its process waits for a slot of the queue (`jobs`, `--max-running`).
    pub(super) fn is_queued(&self) -> bool {
        self.process().is_some_and(|process| process.status() == Status::Queued)
    }

    /// Whether a task of it is under way (waiting, starting, running).
    pub(super) fn is_active(&self) -> bool {
        let run = self.run.lock().unwrap_or_else(|e| e.into_inner());
        run.as_ref().is_some_and(|run| !run.task.is_finished())
    }

    /// The service as the API shows it, with its process's live info.
    pub(super) fn info(&self) -> ProjectServiceInfo {
        let live = self.live();
        ProjectServiceInfo {
            name: self.name.clone(),
            state: live.state,
            error: live.error.clone(),
            after: self.spec.after.clone(),
            process: live.process.as_ref().map(Process::info),
        }
    }

    /// Starts its task: once `deps` allow, a new managed process.
    pub(super) fn launch(self: &Arc<Self>, service: &Service, deps: Vec<Dep>) {
        let stop = service.shutting_down().child_token();
        {
            let mut live = self.live();
            *live =
                Live { state: ServiceState::Waiting, error: None, process: live.process.take() };
        }
        self.phase.send_replace(Phase::Waiting);
        let task = tokio::spawn(self.clone().supervise(service.clone(), deps, stop.clone()));
        let previous =
            self.run.lock().unwrap_or_else(|e| e.into_inner()).replace(Run { stop, task });
        if let Some(previous) = previous {
            previous.stop.cancel();
        }
    }

    /// Restarts its running process on the same record (stop signal, grace, SIGKILL, the
    /// next run at once; its readiness is checked again); `false` when it has none running.
    pub(super) async fn restart(&self) -> bool {
        let Some(process) = self.process().filter(|_| self.is_active()) else { return false };
        process.restart(self.spec.grace).await.is_ok()
    }

    /// Stops it: its stop signal, its grace, SIGKILL of its group; returns once its task has
    /// ended. Nothing to do when it is not running.
    pub(super) async fn stop(&self) {
        let run = self.run.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(run) = run else { return };
        run.stop.cancel();
        if let Some(process) = self.process() {
            let _ = process.shutdown(self.spec.grace).await;
        }
        let _ = run.task.await;
        let mut live = self.live();
        if live.state != ServiceState::Failed {
            live.state = ServiceState::Stopped;
        }
    }

    /// The task: dependencies, start, watch, end.
    async fn supervise(self: Arc<Self>, service: Service, deps: Vec<Dep>, stop: CancellationToken) {
        for dep in deps {
            let waited = tokio::select! {
                biased;
                () = stop.cancelled() => return self.ended(&stop, None),
                waited = dep.wait() => waited,
            };
            if let Err(why) = waited {
                return self.ended(&stop, Some(format!("not started: {why}")));
            }
        }
        let log = match self.open_log().await {
            Ok(log) => log,
            Err(error) => return self.ended(&stop, Some(error)),
        };
        let mut options = self
            .spec
            .managed_options()
            .label("project", self.project.clone())
            .label("service", self.name.clone());
        if let Some(log) = &log {
            options = options.log_file(log.clone());
        }
        if self.jobs > 0 {
            options = options.queue_group(self.project.clone(), self.jobs);
        }
        let process = match service.start(options) {
            Ok(process) => process,
            Err(error) => {
                close(log).await;
                return self.ended(&stop, Some(error.to_string()));
            }
        };
        self.live().process = Some(process.clone());
        let failure = self.watch(&service, &process, &stop).await;
        let info = process.wait().await;
        close(log).await;
        let failure = failure.or_else(|| match info.status {
            Status::Failed => Some(info.error.clone().unwrap_or_else(|| describe(&info))),
            _ => None,
        });
        self.ended(&stop, failure);
    }

    /// The final state of a task: `failed` with `failure`, else `stopped`.
    fn ended(&self, stop: &CancellationToken, failure: Option<String>) {
        let failure = failure.filter(|_| !stop.is_cancelled());
        let state = if failure.is_some() { ServiceState::Failed } else { ServiceState::Stopped };
        self.set(state, failure);
        self.phase.send_if_modified(|phase| {
            let first = *phase == Phase::Waiting;
            if first {
                *phase = Phase::Failed;
            }
            first
        });
    }

    /// Follows the process: readiness after each (re)start, then liveness, until it ends for
    /// good or `stop` fires. `Some` when we ended it (not ready in time).
    async fn watch(
        &self,
        service: &Service,
        process: &Process,
        stop: &CancellationToken,
    ) -> Option<String> {
        loop {
            self.set(ServiceState::Starting, None);
            // Between two runs it is `pending`: the readiness is the next run's.
            let run = running(process, stop).await?;
            let mut after = Duration::ZERO;
            if let Some(ready) = &self.spec.ready {
                match ready.clone().process(process).cancel(stop.clone()).wait().await {
                    Ok(ready) => after = ready.after,
                    Err(not_ready @ NotReady::TimedOut { .. }) => {
                        let reason = not_ready.to_string();
                        // As in `tend up`: the first run not ready in time is final; a
                        // later one counts as a failed run, which its policy may restart.
                        if run > 0 && self.may_restart_after_failure(run) {
                            self.set(ServiceState::Starting, Some(reason));
                            let _ = process.restart(self.spec.grace).await;
                            continue;
                        }
                        let _ = process.shutdown(self.spec.grace).await;
                        return Some(reason);
                    }
                    // Stopped, or ended for good before it was ready.
                    Err(_) => return None,
                }
            }
            let probe = self.spec.ready.as_ref().map(|ready| ready.probe().to_string());
            let after_ms = after.as_secs_f64() * 1000.0;
            service.publish(process.id(), EventKind::Ready { after_ms, probe });
            self.set(ServiceState::Ready, None);
            self.phase.send_replace(Phase::Ready);
            let alive = self.spec.alive.clone().map(|alive| alive.cancel(stop.clone()));
            let not_alive = Liveness::watch_if_any(alive);
            tokio::select! {
                biased;
                () = stop.cancelled() => return None,
                _ = process.wait() => return None,
                () = left(process, run) => {}
                Some(not_alive) = not_alive => {
                    let reason = not_alive.to_string();
                    service.publish(process.id(), EventKind::NotAlive { reason: reason.clone() });
                    self.set(ServiceState::Starting, Some(format!("not alive: {reason}")));
                    // Restarted on the same record: stop signal, grace, SIGKILL, then
                    // at once the next run, whose readiness the loop checks again.
                    let _ = process.restart(self.spec.grace).await;
                }
            }
        }
    }

    /// Whether its restart policy starts another run after a failed one, `restarts` runs
    /// having been restarts already.
    fn may_restart_after_failure(&self, restarts: u32) -> bool {
        let restart = &self.spec.restart;
        restart.policy().restarts_after(false) && restart.max_restarts().allows(restarts)
    }

    /// Opens the service's log file (its directory created), if it has one.
    async fn open_log(&self) -> Result<Option<SharedLogFile>, String> {
        let Some(log) = self.spec.log.clone() else { return Ok(None) };
        let opened = tokio::task::spawn_blocking(move || {
            if let Some(parent) = log.path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("log file: {}: {e}", parent.display()))?;
            }
            log.open().map_err(|error| format!("log file: {error}"))
        })
        .await;
        match opened {
            Ok(opened) => opened.map(Some),
            Err(error) => Err(format!("log file: {error}")),
        }
    }
}

/// Waits until a run of the process is under way: its number of restarts then. `None` when
/// it ended for good or `stop` fired first.
async fn running(process: &Process, stop: &CancellationToken) -> Option<u32> {
    loop {
        let info = process.info();
        match info.status {
            Status::Running => return Some(info.restarts),
            status if status.is_finished() => return None,
            _ => {}
        }
        if stop.is_cancelled() {
            return None;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Resolves once run number `run` (in restarts) is over: the process is between runs or in
/// a later one.
async fn left(process: &Process, run: u32) {
    loop {
        let info = process.info();
        if info.restarts != run || info.status != Status::Running {
            return;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Closes a log file: writes a held unfinished last line.
async fn close(log: Option<SharedLogFile>) {
    if let Some(log) = log {
        let closed = tokio::task::spawn_blocking(move || log.close()).await;
        if let Ok(Err(error)) = closed {
            tracing::warn!(%error, "project service log file");
        }
    }
}

/// How a failed process ended, in words.
fn describe(info: &tend::ProcessInfo) -> String {
    match (info.exit_code, info.signal) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(signal)) => format!("killed by {signal}"),
        _ => "failed".to_owned(),
    }
}
