//! A service's task against real processes, sockets and files: readiness of each kind gating
//! `on_ready`, timeouts, restarts through readiness again, liveness, stop signals, grace,
//! the log file across runs, and no restart in a shutdown.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{ServiceRun, supervise};
use crate::probe::{Liveness, Probe, Readiness};
use crate::runner::{ServiceLog, ServiceReport, ServiceSpec, ServiceStatus, StepEvent};
use crate::{EventKind, MaxRestarts, ProcessId, Received, Restart, Service, Signal, Status};

/// Every wait of these tests ends within this (generous: the machine may be loaded).
const LIMIT: Duration = Duration::from_secs(30);

async fn within<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, future).await.expect("took too long")
}

/// A service under test: its task, the events it emitted, and how often `on_ready` ran.
struct Harness {
    service: Service,
    events: Arc<Mutex<Vec<StepEvent>>>,
    readied: Arc<AtomicU32>,
    /// When `on_ready` first ran.
    readied_at: Arc<Mutex<Option<Instant>>>,
    stop: CancellationToken,
    shutdown: CancellationToken,
}

impl Harness {
    fn new() -> Self {
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
    fn spawn(&self, spec: ServiceSpec) -> tokio::task::JoinHandle<ServiceReport> {
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

    fn events(&self) -> Vec<StepEvent> {
        self.events.lock().unwrap().clone()
    }

    /// Waits until an event matches.
    async fn until(&self, wanted: impl Fn(&StepEvent) -> bool) {
        within(async {
            while !self.events().iter().any(&wanted) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
    }

    /// The process ids of the runs, in order.
    fn runs(&self) -> Vec<ProcessId> {
        self.events()
            .iter()
            .filter_map(|event| match event {
                StepEvent::Started { process, .. } => Some(*process),
                _ => None,
            })
            .collect()
    }

    /// The run numbers of the `Ready` events, in order.
    fn ready_runs(&self) -> Vec<u32> {
        self.events()
            .iter()
            .filter_map(|event| match event {
                StepEvent::Ready { run, .. } => Some(*run),
                _ => None,
            })
            .collect()
    }

    fn restart_reasons(&self) -> Vec<(u32, Duration, String)> {
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

fn is_ready(event: &StepEvent) -> bool {
    matches!(event, StepEvent::Ready { .. })
}

fn restart(max: u32, delay: Duration) -> Restart {
    Restart::on_failure().max(MaxRestarts::Limited(max)).delay(delay)
}

fn readiness(probe: &str) -> Readiness {
    Readiness::new(probe.parse::<Probe>().unwrap()).interval(Duration::from_millis(20))
}

/// A port nothing listens on (bound, then let go).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tcp_probe_gates_on_ready_until_the_port_opens() {
    let harness = Harness::new();
    let port = free_port();
    let spec = ServiceSpec::command("db", "sleep")
        .arg("60")
        .ready(readiness(&format!("tcp 127.0.0.1:{port}")));
    let task = harness.spawn(spec);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(harness.readied.load(Ordering::SeqCst), 0, "ready before the port opened");
    let opened = Instant::now();
    let _listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    harness.until(is_ready).await;
    let readied_at = harness.readied_at.lock().unwrap().expect("on_ready ran");
    assert!(readied_at >= opened);
    let probe = format!("tcp 127.0.0.1:{port}");
    assert!(
        matches!(
            &harness.events()[..],
            [StepEvent::Started { attempt: 1, .. }, StepEvent::Ready { run: 1, probe: Some(p), after, .. }]
                if *p == probe && *after >= Duration::from_millis(400)
        ),
        "{:?}",
        harness.events()
    );
    harness.stop.cancel();
    let report = within(task).await.unwrap();
    assert_eq!(report.status, ServiceStatus::Stopped, "{report:?}");
    assert!(report.ready_after_ms.unwrap() >= 400.0, "{report:?}");
    assert_eq!((report.restarts, report.error.as_deref()), (0, None));
    assert_eq!(report.signal, Some(Signal::TERM));
    // The process: named, labelled, ended by us.
    let info = harness.service.get(&report.process_id.unwrap().to_string()).unwrap().info();
    assert_eq!(info.name.as_deref(), Some("db"));
    assert_eq!(info.labels["pipeline.service"], "db");
    assert_eq!(info.labels["pipeline.attempt"], "1");
    assert_eq!(info.labels["stack"], "test");
    assert_eq!(info.status, Status::Killed);
    assert!(matches!(harness.events().last(), Some(StepEvent::Stopping { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_probe_and_the_ready_event_on_the_bus() {
    let harness = Harness::new();
    let mut bus = harness.service.subscribe();
    let spec =
        ServiceSpec::script("web", "echo starting; sleep 0.3; echo listening >&2; exec sleep 60")
            .ready(readiness("log ^listening$"));
    let task = harness.spawn(spec);
    harness.until(is_ready).await;
    let id = harness.runs()[0];
    let process = harness.service.get(&id.to_string()).unwrap();
    assert_eq!(process.output().to_string_lossy(), "starting\nlistening\n");
    harness.stop.cancel();
    let report = within(task).await.unwrap();
    assert_eq!(report.status, ServiceStatus::Stopped);
    // On the bus, in order with the process's own events.
    let mut kinds = Vec::new();
    within(async {
        while let Some(Received::Event(event)) = bus.recv().await {
            assert_eq!(event.id, id);
            let done = matches!(event.kind, EventKind::Exited { .. });
            kinds.push(event.kind);
            if done {
                break;
            }
        }
    })
    .await;
    let names: Vec<_> = kinds
        .iter()
        .map(|kind| match kind {
            EventKind::Started { .. } => "started",
            EventKind::Output { .. } => "output",
            EventKind::Ready { .. } => "ready",
            EventKind::Killed { .. } => "killed",
            EventKind::Exited { .. } => "exited",
            _ => "other",
        })
        .collect();
    assert_eq!(names, ["started", "output", "output", "ready", "killed", "exited"]);
    let EventKind::Ready { after_ms, probe } = &kinds[3] else { unreachable!() };
    assert!(*after_ms >= 300.0, "{after_ms}");
    assert_eq!(probe.as_deref(), Some("log ^listening$"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exec_probe_gates_readiness() {
    let harness = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("up");
    let spec = ServiceSpec::script("cache", "sleep 0.3; touch \"$MARKER\"; exec sleep 60")
        .env("MARKER", marker.to_str().unwrap())
        .ready(readiness(&format!("exec test -f {}", marker.display())));
    let task = harness.spawn(spec);
    harness.until(is_ready).await;
    assert!(marker.exists(), "ready before the marker existed");
    assert_eq!(harness.readied.load(Ordering::SeqCst), 1);
    harness.stop.cancel();
    assert_eq!(within(task).await.unwrap().status, ServiceStatus::Stopped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_run_not_ready_in_time_is_stopped_and_fails_for_good() {
    let harness = Harness::new();
    let port = free_port();
    let spec = ServiceSpec::command("db", "sleep")
        .arg("60")
        .ready(readiness(&format!("tcp 127.0.0.1:{port}")).timeout(Duration::from_millis(500)))
        .restart(Restart::always());
    let report = within(harness.spawn(spec)).await.unwrap();
    assert_eq!(report.status, ServiceStatus::Failed);
    assert_eq!(
        report.error.as_deref(),
        Some(&*format!("not ready after 500ms: tcp 127.0.0.1:{port}: connection refused"))
    );
    assert_eq!((report.restarts, report.ready_after_ms), (0, None));
    assert_eq!(harness.readied.load(Ordering::SeqCst), 0);
    let process = harness.service.get(&report.process_id.unwrap().to_string()).unwrap();
    assert_eq!(process.info().status, Status::Killed, "stopped, not left running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exits_restart_with_backoff_and_each_run_is_ready_again() {
    let harness = Harness::new();
    let mut bus = harness.service.subscribe();
    let spec = ServiceSpec::script("worker", "echo up; sleep 0.2; exit 1")
        .ready(readiness("log ^up$"))
        .restart(restart(2, Duration::from_millis(100)));
    let report = within(harness.spawn(spec)).await.unwrap();
    assert_eq!(report.status, ServiceStatus::Failed);
    assert_eq!(report.error.as_deref(), Some("exited with code 1 (after 2 restarts)"));
    assert_eq!((report.restarts, report.exit_code), (2, Some(1)));
    assert_eq!(harness.ready_runs(), [1, 2, 3]);
    assert_eq!(harness.readied.load(Ordering::SeqCst), 1, "on_ready is for the first ready only");
    let reasons = harness.restart_reasons();
    let expected = [
        (1, Duration::from_millis(100), "exited with code 1".to_owned()),
        (2, Duration::from_millis(200), "exited with code 1".to_owned()),
    ];
    assert_eq!(reasons, expected);
    // A new process per run, each with its own `ready` on the bus.
    let runs = harness.runs();
    assert_eq!(runs.len(), 3);
    assert_eq!(report.process_id, Some(runs[2]));
    let mut ready_ids = Vec::new();
    while let Some(Received::Event(event)) = bus.try_recv() {
        if matches!(event.kind, EventKind::Ready { .. }) {
            ready_ids.push(event.id);
        }
    }
    assert_eq!(ready_ids, runs);
    for (number, id) in runs.iter().enumerate() {
        let info = harness.service.get(&id.to_string()).unwrap().info();
        assert_eq!(info.labels["pipeline.attempt"], (number + 1).to_string());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liveness_failures_stop_the_run_and_the_policy_restarts_it() {
    let harness = Harness::new();
    let mut bus = harness.service.subscribe();
    let liveness = Liveness::new(Probe::exec("exit 3").unwrap())
        .unwrap()
        .interval(Duration::from_millis(50))
        .failures(2);
    let spec =
        ServiceSpec::script("api", "trap 'echo term; exit 0' TERM; while :; do sleep 0.05; done")
            .alive(liveness)
            .restart(restart(1, Duration::from_millis(50)));
    let report = within(harness.spawn(spec)).await.unwrap();
    assert_eq!(report.status, ServiceStatus::Failed);
    assert_eq!(
        report.error.as_deref(),
        Some("not alive: exit 3: exited with code 3 (2 failures) (after 1 restarts)")
    );
    assert_eq!(harness.ready_runs(), [1, 2]);
    let not_alive: Vec<_> = harness
        .events()
        .into_iter()
        .filter_map(|event| match event {
            StepEvent::NotAlive { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(not_alive, ["exit 3: exited with code 3 (2 failures)"; 2]);
    let reasons = harness.restart_reasons();
    assert_eq!(reasons.len(), 1);
    assert_eq!(reasons[0].2, "not alive: exit 3: exited with code 3 (2 failures)");
    // Stopped gracefully: its TERM trap ran (bash also reports the `sleep` TERM ended).
    for id in harness.runs() {
        let output = harness.service.get(&id.to_string()).unwrap().output().to_string_lossy();
        assert!(output.ends_with("term\n"), "{output:?}");
    }
    let mut on_bus = 0;
    while let Some(Received::Event(event)) = bus.try_recv() {
        if let EventKind::NotAlive { reason } = event.kind {
            assert_eq!(reason, "exit 3: exited with code 3 (2 failures)");
            on_bus += 1;
        }
    }
    assert_eq!(on_bus, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_sends_the_stop_signal_to_the_group() {
    let harness = Harness::new();
    let script = "trap 'echo got INT; exit 0' INT; trap 'echo got TERM; exit 0' TERM; \
                  echo ready; while :; do sleep 0.05; done";
    let spec =
        ServiceSpec::script("q", script).stop_signal(Signal::INT).ready(readiness("log ready"));
    let task = harness.spawn(spec);
    harness.until(is_ready).await;
    let began = Instant::now();
    harness.stop.cancel();
    let report = within(task).await.unwrap();
    assert!(
        began.elapsed() < Duration::from_secs(8),
        "waited for the grace: {:?}",
        began.elapsed()
    );
    assert_eq!((report.status, report.exit_code), (ServiceStatus::Stopped, Some(0)));
    let process = harness.service.get(&report.process_id.unwrap().to_string()).unwrap();
    assert_eq!(process.output().to_string_lossy(), "ready\ngot INT\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_ignores_its_stop_signal_is_killed_after_its_grace() {
    let harness = Harness::new();
    // Ignored signals stay ignored in the children, so the whole group ignores TERM.
    let script = "trap '' TERM; echo ready; while :; do sleep 0.05; done";
    let spec = ServiceSpec::script("stubborn", script)
        .grace(Duration::from_millis(700))
        .ready(readiness("log ready"));
    let task = harness.spawn(spec);
    harness.until(is_ready).await;
    let began = Instant::now();
    harness.stop.cancel();
    let report = within(task).await.unwrap();
    let took = began.elapsed();
    assert!(took >= Duration::from_millis(700), "killed before its grace: {took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!((report.status, report.signal), (ServiceStatus::Stopped, Some(Signal::KILL)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_run_is_appended_to_one_log_file_byte_exact() {
    let harness = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs/web.log");
    // Both streams, binary bytes, and an unfinished last line the next run continues.
    let script =
        r"printf 'run %s\n' $(date +%s%N); printf 'err\000\377\n' >&2; printf 'tail'; exit 2";
    let spec = ServiceSpec::script("web", script)
        .log(ServiceLog::new(&path))
        .restart(restart(1, Duration::from_millis(50)));
    let report = within(harness.spawn(spec)).await.unwrap();
    assert_eq!((report.status, report.restarts), (ServiceStatus::Failed, 1));
    let mut expected = Vec::new();
    for id in harness.runs() {
        let output = harness.service.get(&id.to_string()).unwrap().output();
        expected.extend_from_slice(&output.combined());
    }
    assert_eq!(harness.runs().len(), 2);
    // Each run's streams in their capture order, the runs one after the other.
    let tails = expected.windows(4).filter(|window| window == b"tail").count();
    assert_eq!(tails, 2, "{:?}", String::from_utf8_lossy(&expected));
    assert_eq!(std::fs::read(&path).unwrap(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_file_that_cannot_be_opened_fails_the_service_naming_it() {
    let harness = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("web.log");
    std::fs::create_dir(&path).unwrap();
    let spec = ServiceSpec::command("web", "sleep").arg("60").log(ServiceLog::new(&path));
    let report = within(harness.spawn(spec)).await.unwrap();
    assert_eq!(report.status, ServiceStatus::Failed);
    let error = report.error.unwrap();
    assert!(error.starts_with("log file: ") && error.contains(&*path.to_string_lossy()), "{error}");
    assert!(harness.runs().is_empty(), "nothing started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_restarts_once_the_shutdown_began() {
    let harness = Harness::new();
    let spec = ServiceSpec::script("w", "echo ready; sleep 0.5; exit 1")
        .ready(readiness("log ready"))
        .restart(Restart::always().delay(Duration::from_millis(10)));
    let task = harness.spawn(spec);
    harness.until(is_ready).await;
    harness.shutdown.cancel();
    let report = within(task).await.unwrap();
    // The run ended by itself, but in a shutdown that is final.
    assert_eq!(
        (report.status, report.exit_code, report.restarts),
        (ServiceStatus::Stopped, Some(1), 0)
    );
    assert!(harness.restart_reasons().is_empty());
    assert_eq!(harness.runs().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_or_a_stop_cuts_the_restart_delay_short() {
    for cancel_stop in [false, true] {
        let harness = Harness::new();
        let spec = ServiceSpec::script("w", "exit 1")
            .restart(Restart::always().delay(Duration::from_secs(60)));
        let task = harness.spawn(spec);
        harness.until(|event| matches!(event, StepEvent::Restarting { .. })).await;
        if cancel_stop {
            harness.stop.cancel()
        } else {
            harness.shutdown.cancel()
        }
        let report = within(task).await.unwrap();
        assert_eq!((report.status, report.restarts), (ServiceStatus::Stopped, 0));
        assert_eq!(harness.runs().len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_probe_a_service_is_ready_once_started_and_exit_0_is_exited() {
    let harness = Harness::new();
    let report = within(harness.spawn(ServiceSpec::script("once", "exit 0"))).await.unwrap();
    assert_eq!(
        (report.status, report.exit_code, report.error),
        (ServiceStatus::Exited, Some(0), None)
    );
    assert_eq!(harness.ready_runs(), [1]);
    assert_eq!(harness.readied.load(Ordering::SeqCst), 1);
    assert!(report.ready_after_ms.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_that_cannot_start_fails_naming_it() {
    let harness = Harness::new();
    let spec = ServiceSpec::command("ghost", "/nonexistent/tend-ghost").restart(Restart::always());
    let report = within(harness.spawn(spec)).await.unwrap();
    assert_eq!(report.status, ServiceStatus::Failed);
    assert!(report.error.as_deref().unwrap().contains("/nonexistent/tend-ghost"), "{report:?}");
    assert!(harness.restart_reasons().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_ending_before_it_is_ready_is_a_failed_run() {
    let harness = Harness::new();
    let port = free_port();
    let spec = ServiceSpec::command("db", "false")
        .restart(Restart::never())
        .ready(readiness(&format!("tcp 127.0.0.1:{port}")).timeout(Duration::from_secs(60)));
    let report = within(harness.spawn(spec)).await.unwrap();
    // Long before the timeout: the end of the process ends the wait.
    assert_eq!((report.status, report.exit_code), (ServiceStatus::Failed, Some(1)));
    assert_eq!(report.error.as_deref(), Some("exited with code 1"));
    assert_eq!(report.ready_after_ms, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_task_kills_the_running_group() {
    let harness = Harness::new();
    let task = harness.spawn(ServiceSpec::script("bg", "sleep 60 & wait"));
    harness.until(is_ready).await;
    let process = harness.service.get(&harness.runs()[0].to_string()).unwrap();
    task.abort();
    let info = within(process.wait()).await;
    assert_eq!(info.signal, Some(Signal::KILL));
    assert!(harness.service.running().is_empty(), "{:?}", harness.service.list());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_before_the_first_run_starts_nothing() {
    let harness = Harness::new();
    harness.stop.cancel();
    let report =
        within(harness.spawn(ServiceSpec::command("late", "sleep").arg("60"))).await.unwrap();
    assert_eq!(
        (report.status, report.error, report.process_id),
        (ServiceStatus::Stopped, None, None)
    );
    assert!(harness.events().is_empty());
    assert!(harness.service.list().is_empty());
}
