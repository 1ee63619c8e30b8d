//! Restart policies with real processes: exact run counts under a budget, `always`, unlimited
//! restarts stopped by kill and shutdown (also between runs), backoff timing, the timeout
//! across runs, events and attempt numbers, and stdin across runs. `tend run --restart` is
//! in `restart_cli`.

use std::future::Future;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use tend::{
    Event, EventKind, MaxRestarts, Process, Reason, Received, Restart, Service, Signal,
    StartOptions, Status, StdinMode, Subscription,
};

use crate::host_proctable::PATIENCE;
use crate::support::{fixture, until};

const MS: Duration = Duration::from_millis(1);

fn sh(script: &str) -> StartOptions {
    StartOptions::new("sh").args(["-c", script])
}

/// Awaits `future`, failing the test after [`PATIENCE`].
async fn bounded<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out after {PATIENCE:?} waiting for {what}"))
}

/// Every event of process `process` up to and including its `exited`.
async fn events_of(events: &mut Subscription, process: &Process) -> Vec<Event> {
    bounded("the exited event", async {
        let mut seen = Vec::new();
        while let Some(received) = events.recv().await {
            match received {
                Received::Event(event) if event.id == process.id() => {
                    let last = matches!(event.kind, EventKind::Exited { .. });
                    seen.push(event);
                    if last {
                        return seen;
                    }
                }
                Received::Event(_) => {}
                Received::Lagged { missed } => panic!("lagged by {missed} events"),
            }
        }
        panic!("the event stream ended before `exited`")
    })
    .await
}

fn started_pids(events: &[Event]) -> Vec<u32> {
    events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Started { pid, .. } => Some(pid),
            _ => None,
        })
        .collect()
}

fn attempts(events: &[Event]) -> Vec<u32> {
    events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Restarted { attempt, .. } => Some(attempt),
            _ => None,
        })
        .collect()
}

/// Event kinds in order, as short names, with output events left out.
fn lifecycle(events: &[Event]) -> Vec<&'static str> {
    events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Started { .. } => Some("started"),
            EventKind::Restarted { .. } => Some("restarted"),
            EventKind::Killed { .. } => Some("killed"),
            EventKind::Exited { .. } => Some("exited"),
            EventKind::Ready { .. } => Some("ready"),
            EventKind::NotAlive { .. } => Some("not_alive"),
            EventKind::Output { .. } => None,
        })
        .collect()
}

fn quick(restart: Restart) -> Restart {
    restart.delay(10 * MS).max_delay(10 * MS)
}

#[tokio::test]
async fn on_failure_with_a_limit_runs_exactly_limit_plus_one_times() {
    let service = Service::new();
    let mut events = service.subscribe();
    let options = sh("echo run; exit 3")
        .restart(quick(Restart::on_failure()).max(MaxRestarts::Limited(3)))
        .name("flaky");
    let process = service.start(options).unwrap();
    let events = events_of(&mut events, &process).await;
    let info = bounded("wait", process.wait()).await;

    assert_eq!(info.status, Status::Failed);
    assert_eq!(info.exit_code, Some(3));
    assert_eq!(info.restarts, 3);
    assert_eq!(info.reason, None);
    // One ring across the runs.
    assert_eq!(process.output().to_string_lossy(), "run\n".repeat(4));

    let pids = started_pids(&events);
    assert_eq!(pids.len(), 4, "{events:?}");
    let mut distinct = pids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "every run has its own PID: {pids:?}");
    assert_eq!(info.pid, pids.last().copied(), "the info shows the last run");
    assert_eq!(attempts(&events), [1, 2, 3]);
    let order = ["started", "restarted", "started", "restarted", "started", "restarted"];
    let want: Vec<_> = order.into_iter().chain(["started", "exited"]).collect();
    assert_eq!(lifecycle(&events), want);
    let output_lines = events.iter().filter(|e| matches!(e.kind, EventKind::Output { .. }));
    assert_eq!(output_lines.count(), 4);
    // The record is the same one all along: found by name, with its final state.
    assert_eq!(service.get("flaky").unwrap().id(), process.id());
    assert_eq!(service.list().len(), 1);
}

#[tokio::test]
async fn restarted_events_serialise_with_their_attempt() {
    let service = Service::new();
    let mut events = service.subscribe();
    let options =
        fixture(&["exit", "1"]).restart(quick(Restart::always()).max(MaxRestarts::Limited(1)));
    let process = service.start(options).unwrap();
    let events = events_of(&mut events, &process).await;
    let restarted = events.iter().find(|e| matches!(e.kind, EventKind::Restarted { .. })).unwrap();
    let json = serde_json::to_value(restarted).unwrap();
    assert_eq!(json["event"], "restarted");
    assert_eq!(json["attempt"], 1);
    assert_eq!(json["id"], process.id().to_string());
    let info = serde_json::to_value(process.wait().await).unwrap();
    assert_eq!(info["restarts"], 1);
}

#[tokio::test]
async fn zero_restarts_means_one_run() {
    let service = Service::new();
    let options = fixture(&["exit", "4"]).restart(Restart::always().max(MaxRestarts::Limited(0)));
    let info = bounded("wait", service.start(options).unwrap().wait()).await;
    assert_eq!((info.status, info.exit_code, info.restarts), (Status::Failed, Some(4), 0));
}

#[tokio::test]
async fn on_failure_stops_at_the_first_success() {
    let dir = tempfile::tempdir().unwrap();
    let counter = dir.path().join("runs");
    // Fails twice, then succeeds; counts its runs in a file tend knows nothing about.
    let script = r#"n=$(cat "$1" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$1"; echo "run $n"; [ $n -ge 3 ]"#;
    let options = sh(script)
        .arg("sh")
        .arg(counter.to_str().unwrap())
        .restart(quick(Restart::on_failure()).max(MaxRestarts::Unlimited));
    let service = Service::new();
    let process = service.start(options).unwrap();
    let info = bounded("wait", process.wait()).await;
    assert_eq!((info.status, info.exit_code, info.restarts), (Status::Exited, Some(0), 2));
    assert_eq!(std::fs::read_to_string(&counter).unwrap(), "3\n");
    assert_eq!(process.output().to_string_lossy(), "run 1\nrun 2\nrun 3\n");
    // `run` reports the final outcome: success.
    let done = service.run(sh("exit 0").restart(Restart::on_failure())).await.unwrap();
    assert_eq!(done.info.restarts, 0);
}

#[tokio::test]
async fn always_restarts_after_success_too() {
    let service = Service::new();
    let options = fixture(&["lines", "2", "--prefix", "ok "])
        .restart(quick(Restart::always()).max(MaxRestarts::Limited(2)));
    let process = service.start(options).unwrap();
    let info = bounded("wait", process.wait()).await;
    assert_eq!((info.status, info.exit_code, info.restarts), (Status::Exited, Some(0), 2));
    assert_eq!(process.output().to_string_lossy(), "ok 1\nok 2\n".repeat(3));
}

#[tokio::test]
async fn never_is_the_default() {
    let service = Service::new();
    let info = bounded("wait", service.start(fixture(&["exit", "1"])).unwrap().wait()).await;
    assert_eq!((info.status, info.restarts), (Status::Failed, 0));
}

#[tokio::test]
async fn a_death_by_a_foreign_signal_counts_as_failure() {
    let service = Service::new();
    let options = fixture(&["signal", "USR1"])
        .restart(quick(Restart::on_failure()).max(MaxRestarts::Limited(2)));
    let info = bounded("wait", service.start(options).unwrap().wait()).await;
    assert_eq!((info.status, info.signal, info.restarts), (Status::Failed, Some(Signal::USR1), 2));
}

#[tokio::test]
async fn unlimited_restarts_are_stopped_by_kill() {
    let service = Service::new();
    let mut events = service.subscribe();
    let options =
        fixture(&["sleep", "0.05"]).restart(quick(Restart::always()).max(MaxRestarts::Unlimited));
    let process = service.start(options).unwrap();
    until(PATIENCE, "three restarts", || process.info().restarts >= 3).await;
    process.kill().unwrap();
    let events = events_of(&mut events, &process).await;
    let info = bounded("wait", process.wait()).await;
    assert_eq!(info.status, Status::Killed);
    assert_eq!(info.reason, Some(Reason::Killed));
    assert_eq!(lifecycle(&events).last(), Some(&"exited"));

    // Nothing runs any more: no new run within many restart delays (the negative needs a
    // window; 30 delays is far more than a restart takes).
    let restarts = info.restarts;
    tokio::time::sleep(300 * MS).await;
    assert_eq!(process.info().restarts, restarts);
    assert_eq!(process.status(), Status::Killed);
    assert_eq!(attempts(&events).len() as u32, restarts);
    assert_eq!(started_pids(&events).len() as u32, restarts + 1);
    assert!(service.running().is_empty());
}

#[tokio::test]
async fn kill_between_runs_ends_the_process_at_once() {
    let service = Service::new();
    let mut events = service.subscribe();
    let options =
        fixture(&["exit", "5"]).restart(Restart::on_failure().delay(Duration::from_secs(60)));
    let process = service.start(options).unwrap();
    until(PATIENCE, "the restart delay", || process.status() == Status::Pending).await;
    let waiting = process.info();
    assert_eq!((waiting.pid, waiting.exit_code, waiting.restarts), (None, Some(5), 0));
    assert!(process.signal(Signal::HUP).is_err(), "nothing to signal between runs");

    let asked = Instant::now();
    process.kill().unwrap();
    let info = bounded("wait", process.wait()).await;
    assert!(asked.elapsed() < Duration::from_secs(10), "the 60 s delay was cut short");
    assert_eq!(info.status, Status::Killed);
    assert_eq!(info.reason, Some(Reason::Killed));
    assert_eq!(info.exit_code, Some(5), "the last run's code is kept");
    assert_eq!(info.restarts, 0);
    let events = events_of(&mut events, &process).await;
    assert_eq!(lifecycle(&events), ["started", "killed", "exited"]);
    assert_eq!(info.pid, started_pids(&events).first().copied(), "the last run's PID");
}

#[tokio::test]
async fn shutdown_between_runs_and_service_shutdown_stop_restarts() {
    let service = Service::new();
    let delayed = Restart::always().delay(Duration::from_secs(60));
    let one = service.start(fixture(&["exit", "0"]).restart(delayed.clone())).unwrap();
    let two = service.start(fixture(&["exit", "0"]).restart(delayed)).unwrap();
    until(PATIENCE, "both waiting to restart", || {
        one.status() == Status::Pending && two.status() == Status::Pending
    })
    .await;
    let info = bounded("shutdown", one.shutdown(Duration::from_secs(5))).await.unwrap();
    assert_eq!((info.status, info.reason), (Status::Killed, Some(Reason::Shutdown)));
    bounded("service shutdown", service.shutdown(Duration::from_secs(5))).await;
    let info = two.info();
    assert_eq!((info.status, info.reason), (Status::Killed, Some(Reason::Shutdown)));
}

#[tokio::test]
async fn shutdown_during_a_run_stops_restarts() {
    let service = Service::new();
    let options = fixture(&["sleep", "30"]).restart(quick(Restart::always()));
    let process = service.start(options).unwrap();
    until(PATIENCE, "ready", || process.output().to_string_lossy().contains("ready")).await;
    let info = bounded("shutdown", process.shutdown(Duration::from_secs(5))).await.unwrap();
    assert_eq!(info.status, Status::Killed);
    assert_eq!(info.reason, Some(Reason::Shutdown));
    assert_eq!(info.signal, Some(Signal::TERM));
    assert_eq!(info.restarts, 0);
}

#[tokio::test]
async fn backoff_grows_up_to_its_cap() {
    let service = Service::new();
    let mut events = service.subscribe();
    let restart = Restart::on_failure()
        .max(MaxRestarts::Limited(4))
        .delay(100 * MS)
        .multiplier(2.0)
        .max_delay(300 * MS);
    let process = service.start(fixture(&["exit", "1"]).restart(restart)).unwrap();
    let events = events_of(&mut events, &process).await;
    let starts: Vec<_> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Started { .. }))
        .map(|e| e.time)
        .collect();
    assert_eq!(starts.len(), 5);
    let gaps: Vec<Duration> =
        starts.windows(2).map(|w| w[1].duration_since(w[0]).unsigned_abs()).collect();
    // Each gap is a run, its output drain, and the delay: never less than the delay; the
    // upper bound is generous for a loaded machine.
    for (gap, delay) in gaps.iter().zip([100, 200, 300, 300]) {
        assert!(*gap >= delay * MS, "gap {gap:?} shorter than the {delay} ms delay: {gaps:?}");
        assert!(*gap < delay * MS + Duration::from_secs(5), "gap {gap:?} far too long: {gaps:?}");
    }
}

#[tokio::test]
async fn a_long_run_resets_the_backoff() {
    // Runs of 300 ms with a 200 ms reset: every delay is the first one (100 ms). Without the
    // reset they would be 100 ms, 1 s and 10 s.
    let restart = Restart::always()
        .max(MaxRestarts::Limited(3))
        .delay(100 * MS)
        .multiplier(10.0)
        .max_delay(Duration::from_secs(10))
        .reset_after(Some(200 * MS));
    let service = Service::new();
    let began = Instant::now();
    let process = service.start(fixture(&["sleep", "0.3"]).restart(restart)).unwrap();
    let info = bounded("wait", process.wait()).await;
    assert_eq!((info.status, info.restarts), (Status::Exited, 3));
    let took = began.elapsed();
    assert!(took >= Duration::from_millis(4 * 300 + 3 * 100), "{took:?}");
    assert!(took < Duration::from_secs(8), "delays were not reset: {took:?}");
}

#[tokio::test]
async fn the_timeout_covers_every_run() {
    let service = Service::new();
    let options = fixture(&["exit", "1"])
        .restart(Restart::on_failure().delay(50 * MS).multiplier(1.0))
        .timeout(Duration::from_millis(500));
    let began = Instant::now();
    let process = service.start(options).unwrap();
    let info = bounded("wait", process.wait()).await;
    assert!(began.elapsed() >= Duration::from_millis(500));
    assert_eq!(info.status, Status::Killed);
    assert_eq!(info.reason, Some(Reason::Timeout));
    assert!(info.restarts >= 1, "{info:?}");
}

#[tokio::test]
async fn a_restart_that_cannot_start_ends_failed() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("once.sh");
    // Runs once, then removes itself: the restart finds nothing to execute.
    std::fs::write(&script, "#!/bin/sh\nrm -- \"$0\"\nexit 7\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let service = Service::new();
    let mut events = service.subscribe();
    let options = StartOptions::new(script.to_str().unwrap()).restart(quick(Restart::on_failure()));
    let process = service.start(options).unwrap();
    let events = events_of(&mut events, &process).await;
    let info = process.wait().await;
    assert_eq!(info.status, Status::Failed);
    assert_eq!(info.restarts, 1);
    assert_eq!(info.exit_code, None);
    let error = info.error.unwrap();
    assert!(error.contains("cannot start") && error.contains("once.sh"), "{error}");
    assert_eq!(lifecycle(&events), ["started", "restarted", "exited"]);
}

#[tokio::test]
async fn each_run_gets_fresh_stdin_until_it_is_closed() {
    let service = Service::new();
    let options = fixture(&["echo"])
        .stdin(StdinMode::Piped)
        .restart(quick(Restart::always()).max(MaxRestarts::Limited(2)));
    let process = service.start(options).unwrap();
    process.send_input(b"first\n").await.unwrap();
    until(PATIENCE, "the echo", || process.output().stdout() == b"first\n").await;
    process.close_stdin().await.unwrap();
    // Both later runs read end-of-file at once: close_stdin holds for them too.
    let info = bounded("wait", process.wait()).await;
    assert_eq!((info.status, info.restarts), (Status::Exited, 2));
    assert_eq!(process.output().stderr(), b"eof\neof\neof\n");
    assert!(!process.stdin_open());
}

#[tokio::test]
async fn dropping_the_service_stops_restarts() {
    let service = Service::new();
    let process =
        service.start(fixture(&["sleep", "30"]).restart(quick(Restart::always()))).unwrap();
    until(PATIENCE, "ready", || process.output().to_string_lossy().contains("ready")).await;
    drop(service);
    // The guardian kills the group; nobody restarts it.
    let info = bounded("wait", process.wait()).await;
    assert_eq!((info.status, info.signal, info.restarts), (Status::Failed, Some(Signal::KILL), 0));
}
