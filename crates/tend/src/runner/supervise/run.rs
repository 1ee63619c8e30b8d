//! One run of a service: a new managed process, its readiness, its liveness, and its end.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::super::execute::{KillOnDrop, Observer, StepEvent, shut_down};
use super::super::service_spec::ServiceSpec;
use crate::logfile::SharedLogFile;
use crate::probe::{Liveness, NotReady};
use crate::{EventKind, Process, ProcessId, ProcessInfo, Service, StartOptions};

/// How a run ended.
pub(super) enum Ending {
    /// It could not be started: why.
    NotStarted(String),
    /// It ended by itself (before or after it was ready).
    Ended,
    /// We stopped it on `stop`.
    Stopped,
    /// Its probe did not succeed within the timeout, and we stopped it: the
    /// [`NotReady`] message.
    NotReady(String),
    /// It failed its liveness checks, and we stopped it: the [`NotAlive`](crate::probe::NotAlive)
    /// message.
    NotAlive(String),
}

/// A run that has ended.
pub(super) struct Outcome {
    pub(super) ending: Ending,
    /// Its process's final info; `None` when it could not start.
    pub(super) info: Option<ProcessInfo>,
    /// Its process.
    pub(super) process_id: Option<ProcessId>,
    /// From its start to its end.
    pub(super) ran_for: Duration,
}

/// What the runs of one service share: where and how they start, whom they tell, and the
/// first readiness.
pub(super) struct Runs {
    service: Service,
    spec: ServiceSpec,
    labels: Vec<(String, String)>,
    stop: CancellationToken,
    observer: Option<Observer>,
    /// Taken and called at the first ready.
    on_ready: Option<Box<dyn FnOnce() + Send>>,
    /// When the first run started.
    first_start: Option<Instant>,
    /// From the first start to the first ready.
    ready_after: Option<Duration>,
    /// The service's log file, which every run appends to from its output readers.
    log: Option<SharedLogFile>,
}

impl Runs {
    pub(super) fn new(
        service: Service,
        spec: ServiceSpec,
        labels: Vec<(String, String)>,
        stop: CancellationToken,
        observer: Option<Observer>,
        on_ready: Box<dyn FnOnce() + Send>,
        log: Option<SharedLogFile>,
    ) -> Self {
        let on_ready = Some(on_ready);
        Self {
            service,
            spec,
            labels,
            stop,
            observer,
            on_ready,
            first_start: None,
            ready_after: None,
            log,
        }
    }

    pub(super) fn spec(&self) -> &ServiceSpec {
        &self.spec
    }

    pub(super) fn stop(&self) -> &CancellationToken {
        &self.stop
    }

    /// From the first start to the first ready, if it was ever ready.
    pub(super) fn ready_after(&self) -> Option<Duration> {
        self.ready_after
    }

    pub(super) fn notify(&self, event: StepEvent) {
        if let Some(observer) = &self.observer {
            observer(&event);
        }
    }

    /// Run number `number` (from 1).
    pub(super) async fn run(&mut self, number: u32) -> Outcome {
        let process = match self.service.start(self.start_options(number)) {
            Ok(process) => process,
            Err(error) => {
                let ending = Ending::NotStarted(error.to_string());
                return Outcome { ending, info: None, process_id: None, ran_for: Duration::ZERO };
            }
        };
        let started = Instant::now();
        self.first_start.get_or_insert(started);
        self.notify(StepEvent::Started {
            step: self.spec.name.clone(),
            attempt: number,
            process: process.id(),
        });
        let mut guard = KillOnDrop(Some(process.clone()));
        let ending = self.watch(&process, number).await;
        let info = match ending {
            Ending::Ended => process.wait().await,
            _ => shut_down(&process, self.spec.grace).await,
        };
        guard.0 = None;
        let ran_for = started.elapsed();
        Outcome { ending, info: Some(info), process_id: Some(process.id()), ran_for }
    }

    /// The run's process: named after the service, labelled with it and the run's number
    /// besides the runner's labels, stopped with the service's signal and grace.
    fn start_options(&self, number: u32) -> StartOptions {
        let spec = &self.spec;
        let mut options = spec
            .run_options()
            .label("pipeline.service", spec.name.clone())
            .label("pipeline.attempt", number.to_string());
        for (key, value) in &self.labels {
            options = options.label(key.clone(), value.clone());
        }
        if let Some(log) = &self.log {
            options = options.log_file(log.clone());
        }
        options
    }

    /// Follows a started run until it ends by itself or must be stopped: readiness, then
    /// liveness. Says so (the events) when it stops being a normal run.
    async fn watch(&mut self, process: &Process, number: u32) -> Ending {
        let probe = self.spec.ready.as_ref().map(|ready| ready.probe().to_string());
        let after = match &self.spec.ready {
            None => Duration::ZERO,
            Some(ready) => {
                let waiting = ready.clone().process(process).cancel(self.stop.clone());
                match waiting.wait().await {
                    Ok(ready) => ready.after,
                    Err(NotReady::Cancelled { .. }) => return self.stopping(),
                    Err(not_ready @ NotReady::TimedOut { .. }) => {
                        return Ending::NotReady(not_ready.to_string());
                    }
                    // The process ended first.
                    Err(_) => return Ending::Ended,
                }
            }
        };
        self.ready(process, number, after, probe);
        let not_alive = Liveness::watch_if_any(self.spec.alive.clone());
        tokio::select! {
            biased;
            () = self.stop.cancelled() => self.stopping(),
            _ = process.wait() => Ending::Ended,
            Some(not_alive) = not_alive => {
                let reason = not_alive.to_string();
                self.service.publish(process.id(), EventKind::NotAlive { reason: reason.clone() });
                self.notify(StepEvent::NotAlive { service: self.spec.name.clone(), reason: reason.clone() });
                Ending::NotAlive(reason)
            }
        }
    }

    /// The run is ready `after` its start: the events, and the first time the report's time
    /// and `on_ready`.
    fn ready(&mut self, process: &Process, number: u32, after: Duration, probe: Option<String>) {
        let after_ms = after.as_secs_f64() * 1000.0;
        self.service.publish(process.id(), EventKind::Ready { after_ms, probe: probe.clone() });
        self.notify(StepEvent::Ready {
            service: self.spec.name.clone(),
            run: number,
            after,
            probe,
        });
        if let Some(on_ready) = self.on_ready.take() {
            self.ready_after = self.first_start.map(|first| first.elapsed());
            on_ready();
        }
    }

    /// `stop` fired: says so.
    fn stopping(&self) -> Ending {
        self.notify(StepEvent::Stopping { service: self.spec.name.clone() });
        Ending::Stopped
    }
}
