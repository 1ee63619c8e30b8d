//! A service's task after its first ready: restarts through readiness again, liveness,
//! stop signals and grace, the log file across runs, no restart in a shutdown, and drop.

use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;

use super::harness::*;
use crate::probe::{Liveness, Probe};
use crate::runner::{ServiceLog, ServiceSpec, ServiceStatus, StepEvent};
use crate::{EventKind, Received, Restart, Signal};

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
async fn a_later_run_not_ready_in_time_is_a_failed_run_for_the_policy() {
    let harness = Harness::new();
    let port = free_port();
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let probe = format!("tcp 127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    // The first run ends with 1 after 300 ms; the second runs on.
    let script = "if [ -e ran ]; then exec sleep 60; fi; touch ran; sleep 0.3; exit 1";
    let spec = ServiceSpec::script("db", script)
        .dir(dir.path())
        .ready(readiness(&probe).timeout(Duration::from_millis(500)))
        .restart(restart(1, Duration::from_millis(50)));
    let task = harness.spawn(spec);
    harness.until(is_ready).await;
    // The port closes: the second run never becomes ready.
    drop(listener);
    let report = within(task).await.unwrap();
    let not_ready = format!("not ready after 500ms: {probe}: connection refused");
    assert_eq!(report.status, ServiceStatus::Failed);
    assert_eq!(report.error, Some(format!("{not_ready} (after 1 restarts)")));
    assert_eq!(harness.ready_runs(), [1]);
    assert!(report.ready_after_ms.is_some(), "the first run was ready");
    assert_eq!(
        harness.restart_reasons(),
        [(1, Duration::from_millis(50), "exited with code 1".to_owned())]
    );
    let second = harness.service.get(&harness.runs()[1].to_string()).unwrap().info();
    assert_eq!(second.status, crate::Status::Killed, "stopped once its time was up");
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
    // Stopped gracefully: its TERM trap ran (bash may also report that TERM ended `sleep`).
    for id in harness.runs() {
        let output = harness.service.get(&id.to_string()).unwrap().output().to_string_lossy();
        assert!(output.lines().any(|line| line == "term"), "{output:?}");
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
    let output = process.output().to_string_lossy();
    let lines: Vec<&str> = output.lines().collect();
    assert!(lines.contains(&"got INT") && !lines.contains(&"got TERM"), "{output:?}");
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
    let script = r"printf 'run %s\n' $(date +%s%N); printf 'bin\000\377\n'; printf 'err\n' >&2; \
                   printf 'tail'; exit 2";
    let spec = ServiceSpec::script("web", script)
        .log(ServiceLog::new(&path))
        .restart(restart(1, Duration::from_millis(50)));
    let report = within(harness.spawn(spec)).await.unwrap();
    assert_eq!((report.status, report.restarts), (ServiceStatus::Failed, 1));
    assert_eq!(harness.runs().len(), 2);
    let mut stdout = Vec::new();
    for id in harness.runs() {
        let output = harness.service.get(&id.to_string()).unwrap().output();
        stdout.extend_from_slice(&output.stdout());
    }
    // The file takes whole lines from each stream as they are read, so where a run's stderr
    // line falls among its stdout lines is the readers' race; without it, the file is every
    // run's stdout, byte for byte, one run after the other.
    let file = std::fs::read(&path).unwrap();
    let errs = file.windows(4).filter(|window| window == b"err\n").count();
    assert_eq!(errs, 2, "{:?}", String::from_utf8_lossy(&file));
    let mut without_err = file.clone();
    while let Some(at) = without_err.windows(4).position(|window| window == b"err\n") {
        without_err.drain(at..at + 4);
    }
    assert_eq!(without_err, stdout);
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
