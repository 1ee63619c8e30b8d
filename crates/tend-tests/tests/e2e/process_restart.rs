//! Restarting a managed process on demand: `Process::restart` in the library (same record,
//! `restarts` + 1, a `restarted` event, a new PID and group, the old group gone, the grace
//! then SIGKILL, concurrent calls, a restart racing a service shutdown) and
//! `POST /api/v1/processes/{id}/restart` (a running one keeps its id, a finished one comes back
//! as a new process, the stop grace by default).

use std::time::{Duration, Instant};

use serde_json::json;
use tend::{EventKind, Received, Service, Status};

use crate::host_proctable::PATIENCE;
use crate::server_support::{TestServer, fixture as fixture_json};
use crate::support::{fixture, group_alive, until, wait_for_line};

/// Awaits `future`, failing the test after [`PATIENCE`].
async fn bounded<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out after {PATIENCE:?} waiting for {what}"))
}

#[tokio::test]
async fn restart_keeps_the_record_counts_and_starts_a_new_group_at_once() {
    let service = Service::new();
    let mut events = service.subscribe();
    let process = service.start(fixture(&["sleep", "60"]).name("web")).unwrap();
    wait_for_line(&process, "ready").await;
    let old_pid = process.pid().unwrap();

    let info = bounded("the restart", process.restart(Duration::from_secs(5))).await.unwrap();
    assert_eq!(info.id, process.id(), "same record");
    assert_eq!(info.restarts, 1);
    assert_eq!(info.status, Status::Running, "{info:?}");
    let new_pid = info.pid.expect("a PID");
    assert_ne!(new_pid, old_pid);
    assert!(!group_alive(old_pid), "the old group {old_pid} is gone");
    assert!(
        group_alive(new_pid),
        "the new group {new_pid} runs: {:?} {:?} {:?}",
        crate::support::stat(new_pid),
        process.info(),
        String::from_utf8_lossy(&process.output().stdout())
    );
    assert_eq!(service.list().len(), 1, "no new record");

    // The events of the restart, in order: the second run's `started` comes right after
    // `restarted {attempt: 1}`; no `exited` between the runs.
    let mut kinds = Vec::new();
    bounded("the second started event", async {
        while let Some(Received::Event(event)) = events.recv().await {
            if event.id != process.id() {
                continue;
            }
            let second_start =
                matches!(event.kind, EventKind::Started { pid, .. } if pid == new_pid);
            kinds.push(event.kind);
            if second_start {
                break;
            }
        }
    })
    .await;
    assert!(
        matches!(kinds[kinds.len() - 2], EventKind::Restarted { attempt: 1, .. }),
        "restarted just before the second start: {kinds:?}"
    );
    assert!(!kinds.iter().any(|k| matches!(k, EventKind::Exited { .. })), "{kinds:?}");
    // The ring keeps the first run's output and gets the second's.
    wait_for_line(&process, "ready").await;
    until(PATIENCE, "the second ready line", || {
        String::from_utf8_lossy(&process.output().stdout()).matches("ready\n").count() == 2
    })
    .await;

    // Restart again: counts on.
    let info =
        bounded("the second restart", process.restart(Duration::from_secs(5))).await.unwrap();
    assert_eq!((info.id, info.restarts), (process.id(), 2));
    process.kill().unwrap();
    let done = bounded("the end", process.wait()).await;
    assert_eq!(done.status, Status::Killed);
    let error = process.restart(Duration::from_secs(1)).await.unwrap_err();
    assert!(matches!(error, tend::Error::NotRunning(_)), "{error:?}");
}

#[tokio::test]
async fn a_restart_kills_after_the_grace_and_concurrent_calls_join_one_restart() {
    let service = Service::new();
    let process = service.start(fixture(&["ignore-term", "60"])).unwrap();
    wait_for_line(&process, "ready").await;
    let old_pid = process.pid().unwrap();
    let grace = Duration::from_millis(300);
    let began = Instant::now();
    let (one, two) = bounded("two restarts", async {
        tokio::join!(process.restart(grace), process.restart(grace))
    })
    .await;
    let (one, two) = (one.unwrap(), two.unwrap());
    assert!(began.elapsed() >= grace, "SIGKILL only after the grace");
    assert_eq!((one.restarts, two.restarts), (1, 1), "one restart for both calls");
    assert_eq!(one.pid, two.pid);
    assert_ne!(one.pid, Some(old_pid));
    assert!(String::from_utf8_lossy(&process.output().stdout()).contains("got SIGTERM"));
    assert!(!group_alive(old_pid));
    process.kill().unwrap();
    bounded("the end", process.wait()).await;
}

#[tokio::test]
async fn a_restart_does_not_follow_a_policy_and_cuts_its_delay_short() {
    // `never` restarts on its own: the asked restart happens all the same. An exit during a
    // long policy delay: the asked restart starts the next run at once.
    let service = Service::new();
    let restart = tend::Restart::always().delay(Duration::from_secs(3600));
    let process = service.start(fixture(&["exit", "3"]).restart(restart)).unwrap();
    until(PATIENCE, "the delay after the first run", || process.status() == Status::Pending).await;
    let info = bounded("the restart", process.restart(Duration::from_secs(1))).await.unwrap();
    assert_eq!(info.restarts, 1, "{info:?}");
    assert!(info.started_at.is_some());
    process.kill().unwrap();
    bounded("the end", process.wait()).await;
}

#[tokio::test]
async fn a_restart_racing_a_service_shutdown_starts_nothing() {
    let service = Service::new();
    let process = service.start(fixture(&["ignore-term", "60"])).unwrap();
    wait_for_line(&process, "ready").await;
    let pid = process.pid().unwrap();
    let restarting = tokio::spawn({
        let process = process.clone();
        async move { process.restart(Duration::from_secs(30)).await }
    });
    until(PATIENCE, "the restart's SIGTERM", || {
        String::from_utf8_lossy(&process.output().stdout()).contains("got SIGTERM")
    })
    .await;
    bounded("the shutdown", service.shutdown(Duration::from_millis(200))).await;
    let info = bounded("the restart call", restarting).await.unwrap().unwrap();
    assert_eq!(info.status, Status::Killed, "{info:?}");
    assert_eq!(info.restarts, 0, "no new run: {info:?}");
    assert_eq!(info.pid, Some(pid));
    assert!(!group_alive(pid));
}

#[tokio::test]
async fn the_api_restarts_a_running_process_in_place_and_a_finished_one_as_new() {
    let server = TestServer::start().await;
    let body = fixture_json(&["sleep", "60"]);
    let started = server.call("POST", "/api/v1/processes", Some(body)).await.json();
    let id = started["id"].as_str().unwrap().to_owned();
    let old_pid = started["pid"].as_u64().unwrap() as u32;

    let reply = server
        .call("POST", &format!("/api/v1/processes/{id}/restart"), Some(json!({"grace": "2s"})))
        .await;
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    let info = reply.json();
    assert_eq!(info["id"], id.as_str(), "same id");
    assert_eq!(info["restarts"], 1);
    assert_eq!(info["status"], "running");
    let new_pid = info["pid"].as_u64().unwrap() as u32;
    assert_ne!(new_pid, old_pid);
    assert!(!group_alive(old_pid), "the old group is gone");

    // Finished: a new process with the same options.
    let killed = server.call("POST", &format!("/api/v1/processes/{id}/kill"), None).await.json();
    assert_eq!(killed["status"], "killed");
    let reply = server.call("POST", &format!("/api/v1/processes/{id}/restart"), None).await;
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    let again = reply.json();
    assert_ne!(again["id"], id.as_str(), "a new id");
    assert_eq!(again["command"], started["command"]);
    assert_eq!(again["args"], started["args"]);
    assert_eq!(again["restarts"], 0);
    assert_eq!(again["status"], "running");
    let list = server.call("GET", "/api/v1/processes", None).await.json();
    assert_eq!(list.as_array().unwrap().len(), 2, "the old record stays: {list}");

    let bad = server
        .call("POST", &format!("/api/v1/processes/{id}/restart"), Some(json!({"grace": "soon"})))
        .await;
    assert_eq!((bad.status, bad.code().as_str()), (400, "invalid_request"));
    let missing = server.call("POST", "/api/v1/processes/nope/restart", None).await;
    assert_eq!(missing.status, 404);
    server.service.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn stop_without_a_grace_uses_the_one_the_process_was_started_with() {
    // Started with a 300 ms grace and ignoring SIGTERM: `stop` with no grace must kill it
    // after about 300 ms, not after a fixed 5 s.
    let server = TestServer::start().await;
    let mut body = fixture_json(&["ignore-term", "60"]);
    body["grace"] = json!("300ms");
    let started = server.call("POST", "/api/v1/processes", Some(body)).await.json();
    let id = started["id"].as_str().unwrap().to_owned();
    let process = server.service.get(&id).unwrap();
    wait_for_line(&process, "ready").await;
    let began = Instant::now();
    let stopped = server.call("POST", &format!("/api/v1/processes/{id}/stop"), None).await.json();
    let took = began.elapsed();
    assert_eq!(stopped["status"], "killed", "{stopped}");
    assert!(took < Duration::from_secs(4), "took {took:?}: the fixed 5 s grace, not its own");
    assert!(took >= Duration::from_millis(300), "took {took:?}");
}

/// Restarts within 0–5 ms of each run's start, 50 times: every restart answers well inside
/// the grace (the stop signal ended the run, no SIGKILL), counts one, and starts a run that
/// runs. A run stopped before the program installed its handler dies by the signal's default
/// action without a word (no `started`, no `term` in the timeline): that is the signal doing
/// its job, not a stuck run; the run after it writes its line all the same. (The fixture
/// blocks its stop signal while it installs the handler, `fixture/catch.rs`: a signal in that
/// instant used to be dropped, and the run waited out the whole grace.)
#[tokio::test(flavor = "multi_thread")]
async fn restarts_right_after_each_start_stop_the_run_and_start_one_that_runs() {
    const RESTARTS: u32 = 50;
    let service = Service::new();
    let mut events = service.subscribe();
    let dir = tempfile::tempdir().unwrap();
    let line = dir.path().join("timeline");
    let args = ["serve", "--name", "svc", "--timeline", line.to_str().unwrap()];
    let grace = Duration::from_secs(30);
    let process = service.start(fixture(&args).grace(grace)).unwrap();
    let mut pids = vec![process.pid().unwrap()];
    for attempt in 1..=RESTARTS {
        tokio::time::sleep(Duration::from_millis(u64::from(attempt % 6))).await;
        let began = Instant::now();
        let Ok(info) = tokio::time::timeout(PATIENCE, process.restart(grace)).await else {
            let t = tend_tests::timeline::read(&line).unwrap();
            panic!("restart {attempt} hung: {:?}\n{t:?}", process.info());
        };
        let info = info.unwrap();
        assert!(began.elapsed() < grace / 2, "restart {attempt} waited for the grace: {info:?}");
        assert_eq!((info.restarts, info.status), (attempt, Status::Running), "{info:?}");
        let pid = info.pid.expect("a PID");
        assert!(!pids.contains(&pid), "restart {attempt}: a new run, not {pid} again");
        pids.push(pid);
    }
    // The last run is left alone: it writes its first line.
    let last = *pids.last().unwrap();
    until(PATIENCE, "the last run's `started`", || {
        let t = tend_tests::timeline::read(&line).unwrap();
        t.all("svc", "started").any(|e| e.pid == last)
    })
    .await;
    // Every stopped run ended by the stop signal: by its default action (nothing written
    // yet, or `started` only) or through the handler (`term`, then exit 0).
    let t = tend_tests::timeline::read(&line).unwrap();
    let mut ends = Vec::new();
    bounded("the restarted events", async {
        while ends.len() < RESTARTS as usize {
            if let Some(Received::Event(event)) = events.recv().await
                && let EventKind::Restarted { exit_code, signal, .. } = event.kind
            {
                ends.push((exit_code, signal));
            }
        }
    })
    .await;
    for (run, (pid, end)) in pids.iter().zip(&ends).enumerate() {
        let term = t.all("svc", "term").any(|e| e.pid == *pid);
        match end {
            (Some(0), None) => assert!(term, "run {run} ({pid}) exited 0 without `term`: {t:?}"),
            (None, Some(tend::Signal::TERM)) => {
                assert!(!term, "run {run} ({pid}) handled SIGTERM yet died by it: {t:?}");
            }
            other => panic!("run {run} ({pid}) ended by {other:?}, not by SIGTERM: {t:?}"),
        }
    }
    for pid in &pids[..pids.len() - 1] {
        assert!(!group_alive(*pid), "the group of {pid} is gone");
    }
    process.kill().unwrap();
    bounded("the end", process.wait()).await;
}
