//! The ready-driven scheduler: a step starts the moment its own dependencies have finished.
//!
//! There are no waves. The loop keeps a count of unfinished dependencies per step and a set of
//! ready steps; whenever a step ends, only its own dependents are looked at, and any whose
//! count drops to zero starts at once (in declaration order when the `jobs` bound makes ready
//! steps queue). Sequential mode is the same loop over a chain (each step after the one
//! declared before it), and parallel mode over no edges at all, so one code path decides what
//! runs, what is skipped and what is cancelled.
//!
//! However many steps are ready, at most [`descriptor_bound`] run at once (fewer with
//! `jobs`): each running step holds descriptors (its output pipes and a pidfd), and a
//! pipeline of ten thousand steps must queue rather than fail for lack of them. A start that
//! still fails with EMFILE or ENFILE (descriptors taken by something else) waits for a step to
//! end and tries again; see [`run_step`].

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::Runner;
use super::execute::{StepEvent, run_step};
use super::graph::Pipeline;
use super::report::{Report, StepReport, StepStatus};
use super::spec::Mode;

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

/// Why the run stopped starting steps.
#[derive(Debug, Clone, Copy)]
enum Halt {
    /// The runner's cancellation token fired.
    Cancelled,
    /// This step failed and `fail_fast` is on.
    FailFast(usize),
}

/// Scheduling state of one run.
struct Run<'a> {
    runner: &'a Runner,
    pipeline: &'a Pipeline,
    /// `dependents[i]`: the steps that wait for step `i` in this mode.
    dependents: Vec<Vec<usize>>,
    /// Unfinished dependencies per step.
    waiting: Vec<usize>,
    ready: BTreeSet<usize>,
    results: Vec<Option<StepReport>>,
    halt: Option<Halt>,
}

/// Runs `pipeline` with `runner`'s settings and reports every step.
pub(crate) async fn run(runner: &Runner, pipeline: &Pipeline) -> Report {
    let began = Instant::now();
    let n = pipeline.len();
    let deps: Vec<Vec<usize>> = match runner.mode {
        Mode::Dag => pipeline.deps().to_vec(),
        Mode::Sequential => (0..n).map(|i| if i == 0 { vec![] } else { vec![i - 1] }).collect(),
        Mode::Parallel => vec![Vec::new(); n],
    };
    let mut dependents = vec![Vec::new(); n];
    for (step, mine) in deps.iter().enumerate() {
        for &dependency in mine {
            dependents[dependency].push(step);
        }
    }
    let waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let ready = (0..n).filter(|&i| waiting[i] == 0).collect();
    let mut run =
        Run { runner, pipeline, dependents, waiting, ready, results: vec![None; n], halt: None };
    run.drive().await;
    run.settle_unstarted();
    let steps = run.results.into_iter().map(|r| r.expect("every step is settled")).collect();
    Report::new(runner.mode, began.elapsed().as_secs_f64() * 1000.0, steps)
}

impl Run<'_> {
    /// Starts ready steps up to the bound and settles them as they end, until nothing runs.
    async fn drive(&mut self) {
        let limit = self.runner.jobs.unwrap_or(usize::MAX).min(descriptor_bound());
        // Notified whenever a step ends: a start refused for lack of descriptors retries then.
        let freed = Arc::new(Notify::new());
        // Stops running steps on cancellation (as a child of the runner's token) and on
        // fail-fast (cancelled here).
        let stop = self.runner.cancel.child_token();
        let mut tasks = JoinSet::new();
        let mut task_step = HashMap::new();
        loop {
            if self.halt.is_none() && self.runner.cancel.is_cancelled() {
                self.halt = Some(Halt::Cancelled);
            }
            let mut started = 0;
            while self.halt.is_none() && tasks.len() < limit {
                if started == START_BATCH {
                    tokio::task::yield_now().await;
                    started = 0;
                }
                let Some(index) = self.ready.pop_first() else { break };
                started += 1;
                let step = self.pipeline.steps()[index].clone();
                let labels = self.runner.labels_for(&step);
                let task = run_step(
                    self.runner.service.clone(),
                    step,
                    labels,
                    stop.clone(),
                    self.runner.observer.clone(),
                    freed.clone(),
                );
                task_step.insert(tasks.spawn(task).id(), index);
            }
            if tasks.is_empty() {
                return;
            }
            tokio::select! {
                () = self.runner.cancel.cancelled(), if self.halt.is_none() => {
                    self.halt = Some(Halt::Cancelled);
                }
                Some(joined) = tasks.join_next_with_id() => {
                    let (index, report) = match joined {
                        Ok((id, report)) => (task_step[&id], report),
                        Err(error) => {
                            let index = task_step[&error.id()];
                            let name = &self.pipeline.steps()[index].name;
                            let why = format!("internal error: the step's task ended: {error}");
                            (index, StepReport::not_started(name, StepStatus::Failed, why, None))
                        }
                    };
                    freed.notify_waiters();
                    self.finished(index, report, &stop);
                }
            }
        }
    }

    /// Records a step that ended, and frees, skips or stops what depends on that.
    fn finished(&mut self, index: usize, mut report: StepReport, stop: &CancellationToken) {
        if report.status == StepStatus::Cancelled {
            report.error = Some(match self.halt {
                Some(Halt::FailFast(failed)) => {
                    format!("stopped because `{}` failed and fail_fast is on", self.name(failed))
                }
                _ if report.attempts == 0 => "cancelled before it started".to_owned(),
                _ => "cancelled while running".to_owned(),
            });
        }
        let status = report.status;
        self.settle(index, report);
        if status.unblocks() {
            for d in 0..self.dependents[index].len() {
                let dependent = self.dependents[index][d];
                self.waiting[dependent] -= 1;
                if self.waiting[dependent] == 0 && self.results[dependent].is_none() {
                    self.ready.insert(dependent);
                }
            }
        } else if status.is_failure() {
            self.skip_dependents(index);
            if self.runner.fail_fast && self.halt.is_none() {
                self.halt = Some(Halt::FailFast(index));
                stop.cancel();
            }
        }
    }

    /// Skips every step that transitively depends on the failed step `failed`.
    fn skip_dependents(&mut self, failed: usize) {
        let how = match self.results[failed].as_ref().map(|r| r.status) {
            Some(StepStatus::TimedOut) => "timed out",
            _ => "failed",
        };
        let why = format!("skipped because `{}` {how}", self.name(failed));
        let mut queue: VecDeque<usize> = self.dependents[failed].iter().copied().collect();
        while let Some(step) = queue.pop_front() {
            if self.results[step].is_some() {
                continue;
            }
            self.ready.remove(&step);
            let blocked_by = Some(self.name(failed).to_owned());
            let report = StepReport::not_started(
                self.name(step),
                StepStatus::Skipped,
                why.clone(),
                blocked_by,
            );
            self.settle(step, report);
            queue.extend(self.dependents[step].iter().copied());
        }
    }

    /// Gives every step that never started its outcome, once nothing runs any more.
    fn settle_unstarted(&mut self) {
        for step in 0..self.results.len() {
            if self.results[step].is_some() {
                continue;
            }
            let report = match self.halt {
                Some(Halt::FailFast(failed)) => StepReport::not_started(
                    self.name(step),
                    StepStatus::Skipped,
                    format!("not started: `{}` failed and fail_fast is on", self.name(failed)),
                    Some(self.name(failed).to_owned()),
                ),
                // Cancellation; or, defensively, a step the loop could not reach.
                _ => StepReport::not_started(
                    self.name(step),
                    StepStatus::Cancelled,
                    "cancelled before it started".to_owned(),
                    None,
                ),
            };
            self.settle(step, report);
        }
    }

    fn settle(&mut self, index: usize, report: StepReport) {
        if let Some(observer) = &self.runner.observer {
            observer(&StepEvent::Finished(report.clone()));
        }
        self.results[index] = Some(report);
    }

    fn name(&self, index: usize) -> &str {
        &self.pipeline.steps()[index].name
    }
}
