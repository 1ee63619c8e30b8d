//! One service's task: its runs — each a new managed process, from its start through
//! readiness and liveness to its end — restarts by its policy, and its graceful stop.
//!
//! The scheduler starts it once the service's dependencies allow, tells it when to stop
//! (`stop`, in reverse dependency order) and when no restart may begin any more
//! (`shutdown`), and learns of its first readiness through `on_ready`. It emits the service's
//! [`StepEvent`]s but the last: the scheduler emits
//! [`ServiceFinished`](StepEvent::ServiceFinished) with the report this returns.
//!
//! Decisions, in order, after a run ended:
//! * stopped on `stop` → `stopped`, final;
//! * the first run could not start, or was not ready within its timeout → `failed` with that
//!   error, final (a later run doing so only counts as a failed run);
//! * `stop` or `shutdown` has fired → `stopped`, final: nothing restarts in a shutdown;
//! * else the restart policy ([`Backoff`]) decides: a restart after its delay (which `stop`
//!   and `shutdown` cut short: `stopped`), or the end: `exited` (code 0) or `failed`.
//!
//! `Stopping` is emitted when `stop` ends a run; a run stopped because it was not ready in
//! time or not alive is told by `Restarting` (or the final error) and `NotAlive`.

#[cfg(test)]
mod harness;
#[cfg(test)]
mod ready_tests;
mod run;
#[cfg(test)]
mod run_tests;

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::execute::{Observer, StepEvent};
use super::service_report::{ServiceReport, ServiceStatus};
use super::service_spec::{ServiceLog, ServiceSpec};
use crate::Service;
use crate::deadline;
use crate::logfile::SharedLogFile;
use crate::process::backoff::Backoff;
use run::{Ending, Runs};

/// What the scheduler gives a service's task.
pub(crate) struct ServiceRun {
    /// Where its processes run.
    pub(crate) service: Service,
    /// The service.
    pub(crate) spec: ServiceSpec,
    /// The runner's labels, added to every run's process.
    pub(crate) labels: Vec<(String, String)>,
    /// Stop the service now (gracefully), with no restart.
    pub(crate) stop: CancellationToken,
    /// The run is shutting down: no new restart.
    pub(crate) shutdown: CancellationToken,
    /// Called once, at the first ready.
    pub(crate) on_ready: Box<dyn FnOnce() + Send>,
    /// Receives the service's events.
    pub(crate) observer: Option<Observer>,
}

/// Runs the service until it has ended for good and returns its final report. Dropping the
/// future kills the current run's process group.
pub(crate) async fn supervise(run: ServiceRun) -> ServiceReport {
    let ServiceRun { service, spec, labels, stop, shutdown, on_ready, observer } = run;
    let mut report =
        ServiceReport::not_started(&spec.name, ServiceStatus::Failed, String::new(), None);
    report.error = None;
    let log = match &spec.log {
        None => None,
        Some(log) => match open_log(log) {
            Ok(file) => Some(file),
            Err(error) => return ended(report, ServiceStatus::Failed, Some(error)),
        },
    };
    let mut runs = Runs::new(service, spec, labels, stop.clone(), observer, on_ready, log.clone());
    let (status, error) = supervise_runs(&mut runs, &shutdown, &mut report).await;
    report.ready_after_ms = runs.ready_after().map(|after| after.as_secs_f64() * 1000.0);
    // The last handle but `log`: closing writes a held unfinished last line.
    drop(runs);
    if let Some(file) = log
        && let Ok(Err(error)) = tokio::task::spawn_blocking(move || file.close()).await
    {
        // Writing the held last line failed: the service's outcome stays what it was.
        tracing::warn!(%error, service = %report.name, "log file");
    }
    ended(report, status, error)
}

/// The runs, until one is final: the service's status and error.
async fn supervise_runs(
    runs: &mut Runs,
    shutdown: &CancellationToken,
    report: &mut ServiceReport,
) -> (ServiceStatus, Option<String>) {
    let stop = runs.stop().clone();
    let mut backoff = Backoff::new(&runs.spec().restart);
    for number in 1.. {
        // Asked to stop before its first run (the scheduler counts it as started): nothing
        // to stop, and nothing that failed.
        if stop.is_cancelled() {
            return (ServiceStatus::Stopped, None);
        }
        let outcome = runs.run(number).await;
        report.process_id = outcome.process_id.or(report.process_id);
        report.exit_code = outcome.info.as_ref().and_then(|info| info.exit_code);
        report.signal = outcome.info.as_ref().and_then(|info| info.signal);
        let (success, reason) = match outcome.ending {
            Ending::Stopped => return (ServiceStatus::Stopped, None),
            Ending::NotStarted(error) | Ending::NotReady(error) if number == 1 => {
                return (ServiceStatus::Failed, Some(error));
            }
            Ending::NotStarted(error) | Ending::NotReady(error) => (false, error),
            Ending::NotAlive(reason) => (false, format!("not alive: {reason}")),
            Ending::Ended => {
                let info = outcome.info.as_ref();
                let success = info.is_some_and(|info| info.exit_code == Some(0));
                (success, info.map_or_else(|| "ended".to_owned(), super::execute::failure))
            }
        };
        if stop.is_cancelled() || shutdown.is_cancelled() {
            return (ServiceStatus::Stopped, None);
        }
        let Some(delay) = backoff.next(success, outcome.ran_for) else {
            return match (success, report.restarts) {
                (true, _) => (ServiceStatus::Exited, None),
                (false, 0) => (ServiceStatus::Failed, Some(reason)),
                (false, restarts) => {
                    (ServiceStatus::Failed, Some(format!("{reason} (after {restarts} restarts)")))
                }
            };
        };
        runs.notify(StepEvent::Restarting {
            service: runs.spec().name.clone(),
            restart: report.restarts + 1,
            delay,
            reason,
        });
        if !pause(delay, &stop, shutdown).await {
            return (ServiceStatus::Stopped, None);
        }
        report.restarts += 1;
    }
    unreachable!("a service cannot run more than u32::MAX times")
}

/// Sleeps a restart delay; `false` when `stop` or `shutdown` fired first.
async fn pause(delay: Duration, stop: &CancellationToken, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        biased;
        () = stop.cancelled() => false,
        () = shutdown.cancelled() => false,
        () = deadline::sleep(delay) => true,
    }
}

/// Opens the service's log file once, for every run to append to. The error names the file.
fn open_log(log: &ServiceLog) -> Result<SharedLogFile, String> {
    log.open().map_err(|error| format!("log file: {error}"))
}

/// The report with its final status and error.
fn ended(mut report: ServiceReport, status: ServiceStatus, error: Option<String>) -> ServiceReport {
    report.status = status;
    report.error = error;
    report
}
