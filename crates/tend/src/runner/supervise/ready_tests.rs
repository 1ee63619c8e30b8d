//! A service's task, from its start to its first ready: each probe kind gating `on_ready`,
//! the timeout of the first run, and runs that end or cannot start before they are ready.

use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;

use super::harness::*;
use crate::runner::{ServiceSpec, ServiceStatus, StepEvent};
use crate::{EventKind, Received, Restart, Signal, Status};

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
