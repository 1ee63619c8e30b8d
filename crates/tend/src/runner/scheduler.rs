//! The ready-driven scheduler: a step or service starts the moment its own dependencies allow.
//!
//! There are no waves. The loop keeps a count of unmet dependencies per node (the steps, then
//! the services) and the nodes free to start; whenever a step ends or a service first becomes
//! ready, only its own dependents are looked at, and any whose count drops to zero starts at
//! once (steps in declaration order when the `jobs` bound makes them queue; services never
//! queue). Sequential mode is the same loop over a chain (a stable topological order of
//! `after`), and parallel mode over no edges at all, so one code path decides what runs,
//! what is skipped and what is cancelled. What each outcome unblocks or skips is in
//! [`settle`](super::settle); the order services stop in, in [`shutdown`](super::shutdown).
//!
//! However many steps are ready, at most [`descriptor_bound`] run at once (fewer with
//! `jobs`): each running step holds descriptors (its output pipes and a pidfd), and a
//! pipeline of ten thousand steps must queue rather than fail for lack of them. A start that
//! still fails with EMFILE or ENFILE (descriptors taken by something else) waits for a step to
//! end and tries again; see [`run_step`].

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::Runner;
use super::execute::run_step;
use super::graph::Pipeline;
use super::order::edges;
use super::report::{Report, StepReport, StepStatus};
use super::service_report::{ServiceReport, ServiceStatus};
use super::shutdown::StopOrder;
use super::supervise::{ServiceRun, supervise};

/// Descriptors a running step holds in the supervisor: stdout and stderr pipes and a pidfd.
const DESCRIPTORS_PER_STEP: u64 = 3;

/// Steps started in one go before the scheduler lets other tasks run: a burst of thousands
/// of ready steps must not keep a runtime's threads from everything else (an API server on
/// the same runtime) for the seconds their spawns take.
const START_BATCH: usize = 32;

/// How many steps may run at once for the open-file limit: half of the limit over the
/// descriptors a step holds (the other half is for everything else), at least 1. At the
/// usual limit of 1,024 that is 170; `tend` raises the soft limit to the hard one first.
pub(crate) fn descriptor_bound() -> usize {
    let steps = (crate::os::open_file_limit() / 2 / DESCRIPTORS_PER_STEP).max(1);
    usize::try_from(steps).unwrap_or(usize::MAX)
}

/// Why the run began its shutdown.
#[derive(Debug, Clone, Copy)]
pub(super) enum Halt {
    /// The runner's cancellation token fired.
    Cancelled,
    /// This node (step or service) failed and `fail_fast` is on.
    FailFast(usize),
    /// Every step has its outcome and `exit_after_steps` is on.
    StepsDone,
    /// This service ended for good and `stop_when_a_service_ends` is on.
    ServiceEnded(usize),
}

/// Scheduling state of one run. Nodes are the steps (`0..steps`) then the services.
pub(super) struct Run<'a> {
    pub(super) runner: &'a Runner,
    pub(super) pipeline: &'a Pipeline,
    /// The number of steps: the node index of the first service.
    pub(super) steps: usize,
    /// `dependents[node]`: the nodes that wait for `node` in this mode.
    pub(super) dependents: Vec<Vec<usize>>,
    /// Unmet dependencies per node.
    pub(super) waiting: Vec<usize>,
    /// Steps free to start, in declaration order.
    pub(super) ready_steps: BTreeSet<usize>,
    /// Services free to start (node indices).
    pub(super) ready_services: Vec<usize>,
    pub(super) step_results: Vec<Option<StepReport>>,
    /// How many steps have their outcome.
    pub(super) steps_settled: usize,
    pub(super) service_results: Vec<Option<ServiceReport>>,
    /// Per service: started (its task was spawned).
    pub(super) service_started: Vec<bool>,
    /// Per service: has been ready at least once.
    pub(super) service_was_ready: Vec<bool>,
    pub(super) stops: StopOrder,
    pub(super) halt: Option<Halt>,
    /// Stops running steps: a child of the runner's token, cancelled at shutdown.
    pub(super) stop_steps: CancellationToken,
    /// Fired when the shutdown begins: no service restarts any more.
    pub(super) shutdown: CancellationToken,
}

/// Runs `pipeline` with `runner`'s settings and reports every step and service.
pub(crate) async fn run(runner: &Runner, pipeline: &Pipeline) -> Report {
    let began = Instant::now();
    let steps = pipeline.len();
    let services = pipeline.services().len();
    let deps = edges(pipeline, runner.mode);
    let mut dependents = vec![Vec::new(); deps.len()];
    for (node, mine) in deps.iter().enumerate() {
        for &dependency in mine {
            dependents[dependency].push(node);
        }
    }
    let waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    drop(deps);
    let ready_steps = (0..steps).filter(|&i| waiting[i] == 0).collect();
    let ready_services = (steps..steps + services).rev().filter(|&i| waiting[i] == 0).collect();
    let mut run = Run {
        runner,
        pipeline,
        steps,
        dependents,
        waiting,
        ready_steps,
        ready_services,
        step_results: vec![None; steps],
        steps_settled: 0,
        service_results: vec![None; services],
        service_started: vec![false; services],
        service_was_ready: vec![false; services],
        stops: StopOrder::new(pipeline),
        halt: None,
        stop_steps: runner.cancel.child_token(),
        shutdown: CancellationToken::new(),
    };
    run.drive().await;
    run.settle_unstarted();
    let ended_by = match run.halt {
        Some(Halt::ServiceEnded(node)) => Some(run.name(node).to_owned()),
        _ => None,
    };
    let steps = run.step_results.into_iter().map(|r| r.expect("every step is settled")).collect();
    let services =
        run.service_results.into_iter().map(|r| r.expect("every service is settled")).collect();
    let duration_ms = began.elapsed().as_secs_f64() * 1000.0;
    Report::new(runner.mode, duration_ms, steps, services, ended_by)
}

impl Run<'_> {
    /// Starts what is free to start (steps up to the bound) and settles what ends, until
    /// nothing runs.
    async fn drive(&mut self) {
        let limit = self.runner.jobs.unwrap_or(usize::MAX).min(descriptor_bound());
        // Notified whenever a step ends: a start refused for lack of descriptors retries then.
        let freed = Arc::new(Notify::new());
        // Services report their first readiness here (the sender lives as long as the loop,
        // so `recv` never ends).
        let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
        let mut steps = JoinSet::new();
        let mut task_step = HashMap::new();
        let mut services = JoinSet::new();
        let mut task_service = HashMap::new();
        loop {
            if self.halt.is_none() {
                if self.runner.cancel.is_cancelled() {
                    self.begin_shutdown(Halt::Cancelled);
                } else if self.runner.exit_after_steps && self.steps_settled == self.steps {
                    self.begin_shutdown(Halt::StepsDone);
                }
            }
            while self.halt.is_none()
                && let Some(node) = self.ready_services.pop()
            {
                let run = self.service_run(node, &ready_tx);
                task_service.insert(services.spawn(supervise(run)).id(), node);
            }
            let mut started = 0;
            while self.halt.is_none() && steps.len() < limit {
                if started == START_BATCH {
                    tokio::task::yield_now().await;
                    started = 0;
                }
                let Some(index) = self.ready_steps.pop_first() else { break };
                started += 1;
                let step = self.pipeline.steps()[index].clone();
                let labels = self.runner.labels_for(&step.name);
                self.stops.started(index, None);
                let task = run_step(
                    self.runner.service.clone(),
                    step,
                    labels,
                    self.stop_steps.clone(),
                    self.runner.observer.clone(),
                    freed.clone(),
                );
                task_step.insert(steps.spawn(task).id(), index);
            }
            if steps.is_empty() && services.is_empty() {
                return;
            }
            tokio::select! {
                () = self.runner.cancel.cancelled(), if self.halt.is_none() => {
                    self.begin_shutdown(Halt::Cancelled);
                }
                Some(node) = ready_rx.recv() => self.service_ready(node),
                Some(joined) = steps.join_next_with_id() => {
                    let (index, report) = match joined {
                        Ok((id, report)) => (task_step[&id], report),
                        Err(error) => {
                            let index = task_step[&error.id()];
                            let why = format!("internal error: the step's task ended: {error}");
                            let report =
                                StepReport::not_started(self.name(index), StepStatus::Failed, why, None);
                            (index, report)
                        }
                    };
                    freed.notify_waiters();
                    self.step_finished(index, report);
                }
                Some(joined) = services.join_next_with_id() => {
                    let (node, report) = match joined {
                        Ok((id, report)) => (task_service[&id], report),
                        Err(error) => {
                            let node = task_service[&error.id()];
                            let why = format!("internal error: the service's task ended: {error}");
                            let status = ServiceStatus::Failed;
                            (node, ServiceReport::not_started(self.name(node), status, why, None))
                        }
                    };
                    self.service_finished(node, report);
                }
            }
        }
    }

    /// What service `node`'s task gets; records it as started.
    fn service_run(&mut self, node: usize, ready_tx: &mpsc::UnboundedSender<usize>) -> ServiceRun {
        let spec = self.pipeline.services()[node - self.steps].clone();
        let stop = CancellationToken::new();
        self.service_started[node - self.steps] = true;
        self.stops.started(node, Some(stop.clone()));
        let ready_tx = ready_tx.clone();
        ServiceRun {
            service: self.runner.service.clone(),
            labels: self.runner.labels_for(&spec.name),
            spec,
            stop,
            shutdown: self.shutdown.clone(),
            // The loop may be gone when a task is dropped: nobody to tell then.
            on_ready: Box::new(move || {
                let _ = ready_tx.send(node);
            }),
            observer: self.runner.observer.clone(),
        }
    }

    /// The name of a step or service.
    pub(super) fn name(&self, node: usize) -> &str {
        match node.checked_sub(self.steps) {
            None => &self.pipeline.steps()[node].name,
            Some(service) => &self.pipeline.services()[service].name,
        }
    }
}
