//! What the tests of a service's task share: the task spawned with a recording observer,
//! and small builders.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{ServiceRun, supervise};
use crate::probe::{Probe, Readiness};
use crate::runner::{ServiceReport, ServiceSpec, StepEvent};
use crate::{MaxRestarts, ProcessId, Restart, Service};

/// Every wait of these tests ends within this (generous: the machine may be loaded).
pub(super) const LIMIT: Duration = Duration::from_secs(30);

pub(super) async fn within<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, future).await.expect("took too long")
}

/// A service under test: its task, the events it emitted, and how often `on_ready` ran.
pub(super) struct Harness {
    pub(super) service: Service,
    pub(super) events: Arc<Mutex<Vec<StepEvent>>>,
    pub(super) readied: Arc<AtomicU32>,
    /// When `on_ready` first ran.
    pub(super) readied_at: Arc<Mutex<Option<Instant>>>,
    pub(super) stop: CancellationToken,
    pub(super) shutdown: CancellationToken,
}

impl Harness {
    pub(super) fn new() -> Self {
        Self {
            service: Service::new(),
            events: Arc::default(),
            readied: Arc::default(),
            readied_at: Arc::default(),
            stop: CancellationToken::new(),
            shutdown: CancellationToken::new(),
        }
    }

    /// The task for `spec`, spawned.
    pub(super) fn spawn(&self, spec: ServiceSpec) -> tokio::task::JoinHandle<ServiceReport> {
        let events = self.events.clone();
        let (readied, readied_at) = (self.readied.clone(), self.readied_at.clone());
        let run = ServiceRun {
            service: self.service.clone(),
            spec,
            labels: vec![("stack".to_owned(), "test".to_owned())],
            stop: self.stop.clone(),
            shutdown: self.shutdown.clone(),
            on_ready: Box::new(move || {
                readied.fetch_add(1, Ordering::SeqCst);
                readied_at.lock().unwrap().get_or_insert(Instant::now());
            }),
            observer: Some(Arc::new(move |event: &StepEvent| {
                events.lock().unwrap().push(event.clone());
            })),
        };
        tokio::spawn(supervise(run))
    }

    pub(super) fn events(&self) -> Vec<StepEvent> {
        self.events.lock().unwrap().clone()
    }

    /// Waits until an event matches.
    pub(super) async fn until(&self, wanted: impl Fn(&StepEvent) -> bool) {
        within(async {
            while !self.events().iter().any(&wanted) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
    }

    /// The process ids of the runs, in order.
    pub(super) fn runs(&self) -> Vec<ProcessId> {
        self.events()
            .iter()
            .filter_map(|event| match event {
                StepEvent::Started { process, .. } => Some(*process),
                _ => None,
            })
            .collect()
    }

    /// The run numbers of the `Ready` events, in order.
    pub(super) fn ready_runs(&self) -> Vec<u32> {
        self.events()
            .iter()
            .filter_map(|event| match event {
                StepEvent::Ready { run, .. } => Some(*run),
                _ => None,
            })
            .collect()
    }

    pub(super) fn restart_reasons(&self) -> Vec<(u32, Duration, String)> {
        self.events()
            .iter()
            .filter_map(|event| match event {
                StepEvent::Restarting { restart, delay, reason, .. } => {
                    Some((*restart, *delay, reason.clone()))
                }
                _ => None,
            })
            .collect()
    }
}

pub(super) fn is_ready(event: &StepEvent) -> bool {
    matches!(event, StepEvent::Ready { .. })
}

pub(super) fn restart(max: u32, delay: Duration) -> Restart {
    Restart::on_failure().max(MaxRestarts::Limited(max)).delay(delay)
}

pub(super) fn readiness(probe: &str) -> Readiness {
    Readiness::new(probe.parse::<Probe>().unwrap()).interval(Duration::from_millis(20))
}

/// A port nothing listens on (bound, then let go).
pub(super) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
