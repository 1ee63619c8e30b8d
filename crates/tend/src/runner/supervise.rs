//! One service's task: its runs, from start to its final report.
//!
//! FIRST VERSION (the scheduler's stand-in): one run, ready as soon as it has started (no
//! probe, no liveness, no restart, no log file), stopped with TERM → grace → KILL of its
//! group when `stop` fires. The full task replaces this body; the interface stays.

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
    let ServiceRun { service, spec, labels, stop, shutdown: _, on_ready, observer } = run;
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
    let began = std::time::Instant::now();
    notify(StepEvent::Ready {
        service: spec.name.clone(),
        run: 1,
        after: began.elapsed(),
        probe: None,
    });
    report.ready_after_ms = Some(0.0);
    on_ready();
    let mut guard = KillOnDrop(Some(process.clone()));
    let (info, stopped) = tokio::select! {
        info = process.wait() => (info, false),
        () = stop.cancelled() => {
            notify(StepEvent::Stopping { service: spec.name.clone() });
            (stop_process(&process, &spec).await, true)
        }
    };
    guard.0 = None;
    report.exit_code = info.exit_code;
    report.signal = info.signal;
    (report.status, report.error) = match (info.status, stopped) {
        (_, true) => (ServiceStatus::Stopped, None),
        (Status::Exited, false) => (ServiceStatus::Exited, None),
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
