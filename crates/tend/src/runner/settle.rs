//! What each outcome does to the rest of a run: a step that passed or a service that became
//! ready frees its dependents; a failure skips them; the run's shutdown cancels what has not
//! started and stops services in reverse dependency order.

use std::collections::VecDeque;

use super::execute::StepEvent;
use super::report::{StepReport, StepStatus};
use super::scheduler::{Halt, Run};
use super::service_report::{ServiceReport, ServiceStatus};

impl Run<'_> {
    /// Records a step that ended, and frees, skips or stops what depends on that.
    pub(super) fn step_finished(&mut self, index: usize, mut report: StepReport) {
        if report.status == StepStatus::Cancelled {
            report.error = Some(match self.halt {
                Some(Halt::FailFast(failed)) => {
                    format!("stopped because `{}` failed and fail_fast is on", self.name(failed))
                }
                _ if report.attempts == 0 => "cancelled before it started".to_owned(),
                Some(Halt::ServiceEnded(service)) => {
                    format!("stopped because service `{}` ended", self.name(service))
                }
                _ => "cancelled while running".to_owned(),
            });
        }
        let status = report.status;
        self.settle_step(index, report);
        // After its final event, so a service it held up is seen stopping after it ended.
        self.stops.ended(index);
        if status.unblocks() {
            self.release(index);
        } else if status.is_failure() {
            let how = if status == StepStatus::TimedOut { "timed out" } else { "failed" };
            self.skip_dependents(index, how);
            self.fail_fast(index);
        }
    }

    /// Service `node` is ready for the first time: its dependents may start. Later calls (and
    /// a readiness learnt from its final report) change nothing.
    pub(super) fn service_ready(&mut self, node: usize) {
        let was_ready = &mut self.service_was_ready[node - self.steps];
        if !*was_ready {
            *was_ready = true;
            self.release(node);
        }
    }

    /// Records a service that ended for good: one that never was ready skips its
    /// dependents; with `stop_when_a_service_ends` the run's shutdown begins.
    pub(super) fn service_finished(&mut self, node: usize, report: ServiceReport) {
        // Its readiness may still be queued behind its end.
        if report.ready_after_ms.is_some() {
            self.service_ready(node);
        }
        let status = report.status;
        let never_ready = !self.service_was_ready[node - self.steps];
        self.settle_service(node, report);
        self.stops.ended(node);
        // A service stopped by the shutdown skips nothing: what waits for it is cancelled.
        if never_ready && status != ServiceStatus::Stopped {
            let how = if status.is_failure() { "failed" } else { "ended before it was ready" };
            self.skip_dependents(node, how);
        }
        if self.runner.stop_when_a_service_ends && self.halt.is_none() {
            self.begin_shutdown(Halt::ServiceEnded(node));
        } else if status.is_failure() {
            self.fail_fast(node);
        }
    }

    /// With `fail_fast`, begins the shutdown because `node` failed.
    fn fail_fast(&mut self, node: usize) {
        if self.runner.fail_fast && self.halt.is_none() {
            self.begin_shutdown(Halt::FailFast(node));
        }
    }

    /// Begins the run's shutdown: running steps are cancelled, services not started are
    /// `cancelled`, nothing restarts, and running services are stopped in reverse
    /// dependency order.
    pub(super) fn begin_shutdown(&mut self, halt: Halt) {
        self.halt = Some(halt);
        self.stop_steps.cancel();
        self.shutdown.cancel();
        self.ready_services.clear();
        self.cancel_unstarted_services();
        self.stops.begin();
    }

    fn cancel_unstarted_services(&mut self) {
        for service in 0..self.service_results.len() {
            if !self.service_started[service] && self.service_results[service].is_none() {
                let node = self.steps + service;
                let why = "cancelled before it started".to_owned();
                let report = ServiceReport::not_started(
                    self.name(node),
                    ServiceStatus::Cancelled,
                    why,
                    None,
                );
                self.settle_service(node, report);
            }
        }
    }

    /// `node` passed or became ready: dependents with nothing else to wait for are free.
    fn release(&mut self, node: usize) {
        for d in 0..self.dependents[node].len() {
            let dependent = self.dependents[node][d];
            self.waiting[dependent] -= 1;
            if self.waiting[dependent] > 0 {
                continue;
            }
            match dependent.checked_sub(self.steps) {
                None if self.step_results[dependent].is_none() => {
                    self.ready_steps.insert(dependent);
                }
                Some(service) if self.service_results[service].is_none() => {
                    self.ready_services.push(dependent);
                }
                _ => {}
            }
        }
    }

    /// Skips every step and service that transitively depends on `failed`, which `how`
    /// ended ("failed", "timed out", "ended before it was ready").
    fn skip_dependents(&mut self, failed: usize, how: &str) {
        let culprit = self.name(failed).to_owned();
        let why = format!("skipped because `{culprit}` {how}");
        let mut queue: VecDeque<usize> = self.dependents[failed].iter().copied().collect();
        while let Some(node) = queue.pop_front() {
            let blocked_by = Some(culprit.clone());
            match node.checked_sub(self.steps) {
                None if self.step_results[node].is_none() => {
                    self.ready_steps.remove(&node);
                    let status = StepStatus::Skipped;
                    let report =
                        StepReport::not_started(self.name(node), status, why.clone(), blocked_by);
                    self.settle_step(node, report);
                }
                Some(service)
                    if self.service_results[service].is_none()
                        && !self.service_started[service] =>
                {
                    self.ready_services.retain(|&n| n != node);
                    let status = ServiceStatus::Skipped;
                    let report = ServiceReport::not_started(
                        self.name(node),
                        status,
                        why.clone(),
                        blocked_by,
                    );
                    self.settle_service(node, report);
                }
                _ => continue,
            }
            queue.extend(self.dependents[node].iter().copied());
        }
    }

    /// Gives every step and service that never started its outcome, once nothing runs any
    /// more.
    pub(super) fn settle_unstarted(&mut self) {
        for step in 0..self.step_results.len() {
            if self.step_results[step].is_some() {
                continue;
            }
            let report = match self.halt {
                Some(Halt::FailFast(failed)) => StepReport::not_started(
                    self.name(step),
                    StepStatus::Skipped,
                    format!("not started: `{}` failed and fail_fast is on", self.name(failed)),
                    Some(self.name(failed).to_owned()),
                ),
                // Another shutdown; or, defensively, a step the loop could not reach.
                _ => StepReport::not_started(
                    self.name(step),
                    StepStatus::Cancelled,
                    "cancelled before it started".to_owned(),
                    None,
                ),
            };
            self.settle_step(step, report);
        }
        // Defensively too: the shutdown has cancelled them already.
        self.cancel_unstarted_services();
    }

    fn settle_step(&mut self, index: usize, report: StepReport) {
        if let Some(observer) = &self.runner.observer {
            observer(&StepEvent::Finished(report.clone()));
        }
        self.step_results[index] = Some(report);
        self.steps_settled += 1;
    }

    fn settle_service(&mut self, node: usize, report: ServiceReport) {
        if let Some(observer) = &self.runner.observer {
            observer(&StepEvent::ServiceFinished(report.clone()));
        }
        self.service_results[node - self.steps] = Some(report);
    }
}
