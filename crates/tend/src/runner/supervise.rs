//! One service's task: its runs, from start to its final report.
//!
//! FIRST VERSION (the scheduler's stand-in): one run, ready when its `ready` probe succeeds
//! (at once without one), no liveness, no restart, no log file, stopped with TERM → grace →
//! KILL of its group when `stop` fires. The full task replaces this body; the interface
//! stays.

use super::execute::{Observer, StepEvent};
use super::service_report::{ServiceReport, ServiceStatus};
use super::service_spec::ServiceSpec;
use super::spec::{SCRIPT_SHELL, StepCommand};
use crate::{CancellationToken, Process, ProcessInfo, StartOptions, Status};

/// What the scheduler hands a service's task.
pub(crate) struct ServiceRun {
    pub(crate) service: crate::Service,
    pub(crate) spec: ServiceSpec,
    /// The runner's labels.
    pub(crate) labels: Vec<(String, String)>,
    /// Stop this service now (graceful), no restart.
    pub(crate) stop: CancellationToken,
    /// The run is shutting down: no new restart.
    pub(crate) shutdown: CancellationToken,
    /// Called once, at the first ready.
    pub(crate) on_ready: Box<dyn FnOnce() + Send>,
    pub(crate) observer: Option<Observer>,
}

/// Kills the run's process group when the task is dropped (the run's future was dropped).
struct KillOnDrop(Option<Process>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(process) = self.0.take() {
            let _ = process.kill();
        }
    }
}

/// Runs the service until it ends for good or is stopped, and reports how it ended. Emits
/// `Started`, `Ready` and `Stopping`; the scheduler emits `ServiceFinished`.
pub(crate) async fn supervise(run: ServiceRun) -> ServiceReport {
    // One run and no restart: the run-wide shutdown changes nothing here.
    let ServiceRun { service, spec, labels, stop, shutdown: _no_restarts, on_ready, observer } =
        run;
    let notify = |event: StepEvent| {
        if let Some(observer) = &observer {
            observer(&event);
        }
    };
    let mut report =
        ServiceReport::not_started(&spec.name, ServiceStatus::Failed, String::new(), None);
    report.error = None;
    if stop.is_cancelled() {
        report.status = ServiceStatus::Stopped;
        return report;
    }
    let process = match service.start(start_options(&spec, &labels, 1)) {
        Ok(process) => process,
        Err(error) => {
            report.error = Some(error.to_string());
            return report;
        }
    };
    report.process_id = Some(process.id());
    notify(StepEvent::Started { step: spec.name.clone(), attempt: 1, process: process.id() });
    let mut guard = KillOnDrop(Some(process.clone()));
    let readiness = async {
        match &spec.ready {
            None => Ok(std::time::Duration::ZERO),
            Some(ready) => {
                let wait = ready.clone().process(&process).cancel(stop.clone()).wait();
                wait.await.map(|ready| ready.after)
            }
        }
    };
    // Until it is ready: it may end, be stopped, or not become ready in time.
    let ended = tokio::select! {
        ready = readiness => match ready {
            Ok(after) => {
                notify(StepEvent::Ready { service: spec.name.clone(), run: 1, after, probe: None });
                report.ready_after_ms = Some(after.as_secs_f64() * 1000.0);
                on_ready();
                None
            }
            Err(_) if stop.is_cancelled() => None,
            // A `log` probe gives up when the process ends: how it ended is the outcome.
            Err(_) if !process.is_running() => Some((process.wait().await, None)),
            Err(not_ready) => {
                let info = stop_process(&process, &spec).await;
                Some((info, Some(not_ready.to_string())))
            }
        },
        info = process.wait() => Some((info, None)),
    };
    let (info, stopped, error) = match ended {
        Some((info, error)) => (info, false, error),
        None => tokio::select! {
            info = process.wait() => (info, false, None),
            () = stop.cancelled() => {
                notify(StepEvent::Stopping { service: spec.name.clone() });
                (stop_process(&process, &spec).await, true, None)
            }
        },
    };
    guard.0 = None;
    report.exit_code = info.exit_code;
    report.signal = info.signal;
    (report.status, report.error) = match (info.status, stopped, error) {
        (_, _, Some(error)) => (ServiceStatus::Failed, Some(error)),
        (_, true, _) => (ServiceStatus::Stopped, None),
        (Status::Exited, false, None) => (ServiceStatus::Exited, None),
        _ => (ServiceStatus::Failed, Some(failure(&info))),
    };
    report
}

fn start_options(spec: &ServiceSpec, labels: &[(String, String)], run: u32) -> StartOptions {
    let mut options = match &spec.command {
        StepCommand::Program { command, args } => {
            StartOptions::new(command.clone()).args(args.iter().cloned())
        }
        StepCommand::Script(script) => {
            StartOptions::new(SCRIPT_SHELL).args(["-c", script, &spec.name])
        }
    };
    options = options
        .name(spec.name.clone())
        .label("pipeline.service", spec.name.clone())
        .label("pipeline.attempt", run.to_string())
        .grace(spec.grace);
    for (key, value) in labels {
        options = options.label(key.clone(), value.clone());
    }
    if let Some(dir) = &spec.dir {
        options = options.dir(dir.clone());
    }
    for (key, value) in &spec.env {
        options = options.env(key, value);
    }
    options
}

async fn stop_process(process: &Process, spec: &ServiceSpec) -> ProcessInfo {
    match process.shutdown(spec.grace).await {
        Ok(info) => info,
        Err(_) => {
            let _ = process.kill();
            process.wait().await
        }
    }
}

fn failure(info: &ProcessInfo) -> String {
    match (info.exit_code, info.signal, &info.error) {
        (Some(code), _, _) => format!("exited with code {code}"),
        (None, Some(signal), _) => format!("died of {signal}"),
        (None, None, Some(error)) => error.clone(),
        (None, None, None) => "failed".to_owned(),
    }
}
