//! Running one step to its final outcome: attempts, retry pauses, and stopping on request.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::report::{StepReport, StepStatus};
use super::service_report::ServiceReport;
use super::spec::Step;
use crate::{Process, ProcessId, ProcessInfo, Reason, Service, Status, deadline};

/// What the runner reports while it works; see [`Runner::on_event`](super::Runner::on_event).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum StepEvent {
    /// An attempt of a step started as managed process `process`.
    Started {
        /// The step.
        step: String,
        /// Attempt number, from 1.
        attempt: u32,
        /// Its managed process (its output events carry this id).
        process: ProcessId,
    },
    /// An attempt failed; the next starts after `delay`.
    Retrying {
        /// The step.
        step: String,
        /// The attempt that failed, from 1.
        attempt: u32,
        /// Pause before the next attempt.
        delay: Duration,
        /// Why it failed.
        error: String,
    },
    /// A step's outcome is final. Every step gets exactly one, in the order outcomes become
    /// known (a skipped step's at the moment the failure that blocks it is known).
    Finished(StepReport),
    /// A service's run became ready (each run: a restarted service goes through its probe
    /// again). A service's runs start with [`Started`](Self::Started), `attempt` being the
    /// run's number from 1.
    Ready {
        /// The service.
        service: String,
        /// The run, from 1.
        run: u32,
        /// From the run's start to the probe's success.
        after: Duration,
        /// The probe, in its written form (`tcp 127.0.0.1:5432`); `None` without one.
        probe: Option<String>,
    },
    /// A service failed its liveness checks and is being stopped.
    NotAlive {
        /// The service.
        service: String,
        /// `http://127.0.0.1:8080/health: 500 (3 failures)`.
        reason: String,
    },
    /// A service's run ended and it is started again after `delay`.
    Restarting {
        /// The service.
        service: String,
        /// The restart's number, from 1.
        restart: u32,
        /// The pause before it.
        delay: Duration,
        /// How the run ended: `exited with code 1`, `not alive: …`.
        reason: String,
    },
    /// A service is being asked to stop (its stop signal is sent now).
    Stopping {
        /// The service.
        service: String,
    },
    /// A service's outcome is final. Every service gets exactly one.
    ServiceFinished(ServiceReport),
}

/// Receives [`StepEvent`]s, from any thread.
pub(crate) type Observer = Arc<dyn Fn(&StepEvent) + Send + Sync>;

/// Kills the attempt's process group if the step's task is dropped (the run's future was
/// dropped) while the process still runs: nothing a pipeline started outlives it unnoticed.
pub(super) struct KillOnDrop(pub(super) Option<Process>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(process) = self.0.take() {
            // Already ended is not an error, and there is nobody to tell about others.
            let _ = process.kill();
        }
    }
}

/// How the last attempt ended.
enum Attempt {
    /// It ran; here is its final info and output.
    Ran { info: Box<ProcessInfo>, output: String, stopped: bool },
    /// It could not be started.
    NotStarted(String),
}

/// How long a start refused for lack of file descriptors keeps being retried before the
/// attempt fails with that error.
const DESCRIPTOR_WAIT: Duration = Duration::from_secs(30);

/// Runs `step` (its processes carrying `labels` too) until it passes, runs out of attempts,
/// or `stop` is cancelled. A step stopped while running or waiting to retry comes back
/// `cancelled`; the caller words the reason. A start refused with EMFILE or ENFILE is not an
/// attempt: it is tried again each time `freed` is notified (a step ended) or every 50 ms,
/// for up to [`DESCRIPTOR_WAIT`].
pub(crate) async fn run_step(
    service: Service,
    step: Step,
    labels: Vec<(String, String)>,
    stop: CancellationToken,
    observer: Option<Observer>,
    freed: Arc<Notify>,
) -> StepReport {
    let notify = |event: StepEvent| {
        if let Some(observer) = &observer {
            observer(&event);
        }
    };
    let began = Instant::now();
    let mut report = StepReport::not_started(&step.name, StepStatus::Failed, String::new(), None);
    for attempt in 1..=step.retries.saturating_add(1) {
        // The run may have been stopped between this task's spawn (or the retry pause) and
        // now: start nothing more.
        if stop.is_cancelled() {
            report.status = StepStatus::Cancelled;
            break;
        }
        report.attempts = attempt;
        let options = || {
            let mut options = step.start_options(attempt);
            for (key, value) in &labels {
                options = options.label(key.clone(), value.clone());
            }
            options
        };
        let Some(started) = start_when_descriptors_allow(&service, options, &stop, &freed).await
        else {
            report.status = StepStatus::Cancelled;
            break;
        };
        let outcome = match started {
            Err(error) => Attempt::NotStarted(error.to_string()),
            Ok(process) => {
                report.process_id = Some(process.id());
                notify(StepEvent::Started {
                    step: step.name.clone(),
                    attempt,
                    process: process.id(),
                });
                let mut guard = KillOnDrop(Some(process.clone()));
                let (info, stopped) = tokio::select! {
                    info = process.wait() => (info, false),
                    () = stop.cancelled() => (shut_down(&process, step.grace).await, true),
                };
                guard.0 = None;
                let output = process.output().to_string_lossy();
                Attempt::Ran { info: Box::new(info), output, stopped }
            }
        };
        classify(&step, outcome, &mut report);
        report.duration_ms = Some(began.elapsed().as_secs_f64() * 1000.0);
        let retry = report.status.is_failure() && attempt <= step.retries && !stop.is_cancelled();
        if !retry {
            break;
        }
        notify(StepEvent::Retrying {
            step: step.name.clone(),
            attempt,
            delay: step.retry_delay,
            error: report.error.clone().unwrap_or_default(),
        });
        tokio::select! {
            () = deadline::sleep(step.retry_delay) => {}
            () = stop.cancelled() => {
                report.status = StepStatus::Cancelled;
                break;
            }
        }
    }
    if report.status.is_failure() && step.allow_failure {
        report.status = StepStatus::AllowedFailure;
    }
    if report.attempts > 1
        && let Some(error) = &mut report.error
    {
        error.push_str(&format!(" (after {} attempts)", report.attempts));
    }
    report
}

/// Starts the process, retrying while the start fails for lack of file descriptors (see
/// [`run_step`]; after [`DESCRIPTOR_WAIT`] that error is the attempt's); `None` if `stop`
/// fired meanwhile.
async fn start_when_descriptors_allow(
    service: &Service,
    options: impl Fn() -> crate::StartOptions,
    stop: &CancellationToken,
    freed: &Notify,
) -> Option<Result<Process, crate::Error>> {
    let give_up = Instant::now() + DESCRIPTOR_WAIT;
    loop {
        // Registered before the start, so a step ending in between is not missed.
        let some_step_ended = freed.notified();
        match service.start(options()) {
            Err(error) if error.is_descriptor_exhaustion() && Instant::now() < give_up => {
                tokio::select! {
                    () = some_step_ended => {}
                    () = tokio::time::sleep(Duration::from_millis(50)) => {}
                    () = stop.cancelled() => return None,
                }
            }
            started => return Some(started),
        }
    }
}

/// Shuts a running attempt down (its stop signal to its group, grace, KILL) and returns its
/// final info.
pub(super) async fn shut_down(process: &Process, grace: Duration) -> ProcessInfo {
    match process.shutdown(grace).await {
        Ok(info) => info,
        // Delivering the signal failed (not "already gone", which is fine): make sure.
        Err(_) => {
            let _ = process.kill();
            process.wait().await
        }
    }
}

/// Turns how an attempt ended into the report's status, exit code, signal, error and output.
fn classify(step: &Step, outcome: Attempt, report: &mut StepReport) {
    match outcome {
        Attempt::NotStarted(error) => {
            report.status = StepStatus::Failed;
            report.exit_code = None;
            report.signal = None;
            report.output.clear();
            report.error = Some(error);
        }
        Attempt::Ran { info, output, stopped } => {
            if report.started_at.is_none() {
                report.started_at = info.started_at;
            }
            report.exit_code = info.exit_code;
            report.signal = info.signal;
            report.output = output;
            let (status, error) = match (info.status, info.reason) {
                (Status::Exited, _) => (StepStatus::Passed, None),
                (_, Some(Reason::Timeout)) => {
                    let limit = step.timeout.unwrap_or_default();
                    let limit = humantime::format_duration(limit);
                    (StepStatus::TimedOut, Some(format!("timed out after {limit}")))
                }
                (_, Some(_)) if stopped => (StepStatus::Cancelled, Some("cancelled".to_owned())),
                (_, Some(_)) => (StepStatus::Failed, Some("was killed".to_owned())),
                _ => (StepStatus::Failed, Some(failure(&info))),
            };
            report.status = status;
            report.error = error;
        }
    }
}

/// A failed attempt in words.
pub(super) fn failure(info: &ProcessInfo) -> String {
    match (info.exit_code, info.signal, &info.error) {
        (Some(code), _, _) => format!("exited with code {code}"),
        (None, Some(signal), _) => format!("died of {signal}"),
        (None, None, Some(error)) => error.clone(),
        (None, None, None) => "failed".to_owned(),
    }
}
