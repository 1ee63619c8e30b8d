//! Queueing: starts beyond `ServiceConfig::max_running` (`tend daemon --max-running N`) or a
//! queue group's limit are `queued` records, started in submission order as running ones
//! end; a queued one can be stopped, killed or removed without ever starting, and a service
//! shutdown ends queued ones without starting them.

use std::time::Duration;

use serde_json::Value;
use tend::{EventKind, Process, Reason, Received, Service, ServiceConfig, Status};

use crate::cli_client_commands::DaemonUnderTest;
use crate::host_proctable::PATIENCE;
use crate::server_support::FIXTURE;
use crate::support::{eventually, fixture, until, wait_for_line};

fn service_running_at_most(max: usize) -> Service {
    Service::with_config(ServiceConfig { max_running: Some(max), ..ServiceConfig::default() })
}

fn sleeper(name: &str) -> tend::StartOptions {
    fixture(&["sleep", "60"]).name(name)
}

async fn bounded<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out after {PATIENCE:?} waiting for {what}"))
}

fn assert_queued(process: &Process) {
    let info = process.info();
    assert_eq!(info.status, Status::Queued, "{info:?}");
    assert!(!info.status.is_finished());
    assert_eq!((info.pid, info.started_at), (None, None), "{info:?}");
    assert!(process.output().is_empty(), "no output while queued");
}

#[tokio::test]
async fn starts_beyond_max_running_wait_and_start_in_submission_order() {
    let service = service_running_at_most(2);
    let mut events = service.subscribe();
    let [one, two, three, four] =
        ["one", "two", "three", "four"].map(|name| service.start(sleeper(name)).unwrap());
    for running in [&one, &two] {
        wait_for_line(running, "ready").await;
    }
    assert_queued(&three);
    assert_queued(&four);
    let listed: Vec<_> = service.list().iter().map(|i| i.status).collect();
    assert_eq!(listed, [Status::Running, Status::Running, Status::Queued, Status::Queued]);
    assert_eq!(service.running().len(), 4, "queued ones are not finished");

    one.kill().unwrap();
    wait_for_line(&three, "ready").await;
    assert_queued(&four);
    two.kill().unwrap();
    wait_for_line(&four, "ready").await;
    for process in [&three, &four] {
        process.kill().unwrap();
        bounded("the end", process.wait()).await;
    }
    // No event of a queued process before its `started`.
    let mut first_of = std::collections::HashMap::new();
    while let Ok(Some(Received::Event(event))) =
        tokio::time::timeout(Duration::from_millis(200), events.recv()).await
    {
        first_of.entry(event.id).or_insert(event.kind);
    }
    for process in [&three, &four] {
        let first = &first_of[&process.id()];
        assert!(matches!(first, EventKind::Started { .. }), "first event: {first:?}");
    }
}

#[tokio::test]
async fn a_queue_group_bounds_its_members_only() {
    let service = Service::new();
    let grouped = |name| sleeper(name).queue_group("batch", 1);
    let first = service.start(grouped("first")).unwrap();
    let second = service.start(grouped("second")).unwrap();
    let other = service.start(sleeper("other")).unwrap();
    let elsewhere = service.start(sleeper("elsewhere").queue_group("other", 1)).unwrap();
    for running in [&first, &other, &elsewhere] {
        wait_for_line(running, "ready").await;
    }
    assert_queued(&second);
    first.shutdown(Duration::from_secs(5)).await.unwrap();
    wait_for_line(&second, "ready").await;
    service.shutdown(Duration::from_secs(5)).await;

    let zero = service.start(sleeper("zero").queue_group("batch", 0)).unwrap_err();
    assert!(matches!(&zero, tend::Error::InvalidOption { option: "queue_group", .. }), "{zero:?}");
}

#[tokio::test]
async fn a_queued_process_stopped_killed_or_removed_ends_without_starting() {
    let service = service_running_at_most(1);
    let holder = service.start(sleeper("holder")).unwrap();
    let stopped = service.start(sleeper("stopped")).unwrap();
    let killed = service.start(sleeper("killed")).unwrap();
    let removed = service.start(sleeper("removed")).unwrap();
    let last = service.start(sleeper("last")).unwrap();
    wait_for_line(&holder, "ready").await;

    let error = stopped.restart(Duration::from_secs(1)).await.unwrap_err();
    assert!(matches!(error, tend::Error::NotRunning(_)), "a queued one has no run: {error:?}");
    let info = bounded("stop", stopped.shutdown(Duration::from_secs(5))).await.unwrap();
    assert_eq!((info.status, info.reason), (Status::Killed, Some(Reason::Shutdown)));
    killed.kill().unwrap();
    let info = bounded("wait after kill", killed.wait()).await;
    assert_eq!((info.status, info.reason), (Status::Killed, Some(Reason::Killed)));
    let info = service.remove(&removed.id().to_string()).unwrap();
    assert_eq!(info.status, Status::Killed);
    assert!(service.get(&removed.id().to_string()).is_err(), "removed");
    for never in [&stopped, &killed, &removed] {
        let info = never.info();
        assert_eq!((info.pid, info.started_at, info.exit_code), (None, None, None), "{info:?}");
    }

    // The slot goes to the one still queued, not to those that ended.
    holder.kill().unwrap();
    wait_for_line(&last, "ready").await;
    assert_eq!(stopped.info().started_at, None);
    last.kill().unwrap();
    bounded("the end", last.wait()).await;
}

#[tokio::test]
async fn a_service_shutdown_ends_queued_processes_without_starting_them() {
    let service = service_running_at_most(1);
    let holder = service.start(sleeper("holder")).unwrap();
    let queued = service.start(sleeper("queued").detach(true)).unwrap();
    wait_for_line(&holder, "ready").await;
    bounded("the shutdown", service.shutdown(Duration::from_secs(5))).await;
    let info = bounded("the queued one", queued.wait()).await;
    assert_eq!(
        (info.status, info.reason, info.pid),
        (Status::Killed, Some(Reason::Shutdown), None)
    );
    assert_eq!(holder.info().status, Status::Killed);
}

#[tokio::test]
async fn a_run_waits_for_its_turn_and_a_failed_start_frees_the_slot() {
    let service = service_running_at_most(1);
    let holder = service.start(sleeper("holder")).unwrap();
    let broken = service.start(tend::StartOptions::new("/nonexistent/program")).unwrap();
    assert_eq!(broken.status(), Status::Queued);
    let running = tokio::spawn({
        let service = service.clone();
        async move { service.run(tend::StartOptions::new("sh").args(["-c", "echo turn"])).await }
    });
    until(PATIENCE, "the run's queued record", || service.list().len() == 3).await;
    assert_eq!(service.list()[2].status, Status::Queued);
    holder.kill().unwrap();
    // The broken one's turn comes first; it fails to start and hands the slot on.
    let done = bounded("the run", running).await.unwrap().unwrap();
    assert_eq!(done.info.status, Status::Exited, "{:?}", done.info);
    assert_eq!(done.output.to_string_lossy(), "turn\n");
    let broken = broken.info();
    assert_eq!(broken.status, Status::Failed, "{broken:?}");
    assert!(broken.error.is_some());
}

#[tokio::test]
async fn the_actions_answer_a_queued_process_restart_with_wrong_state_and_stop_it() {
    use tend::actions::{Actions, json, register_process_actions};
    let actions = Actions::new();
    register_process_actions(&actions, service_running_at_most(1));
    let start = |name: &str| json!({"command": FIXTURE, "args": ["sleep", "60"], "name": name});
    let holder = actions.dispatch("process.start", start("holder")).await.unwrap();
    let queued = actions.dispatch("process.start", start("queued")).await.unwrap();
    assert_eq!(queued["status"], "queued", "{queued}");
    assert_eq!(queued["pid"], Value::Null);
    let id = queued["id"].clone();
    let refused = actions.dispatch("process.restart", json!({"id": id})).await.unwrap_err();
    assert_eq!(refused.code(), "wrong_state", "{refused}");
    let listed = actions.dispatch("process.list", json!({"status": "queued"})).await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let stopped = actions.dispatch("process.stop", json!({"id": id})).await.unwrap();
    assert_eq!((&stopped["status"], &stopped["reason"]), (&json!("killed"), &json!("shutdown")));
    assert_eq!(stopped["started_at"], Value::Null, "never started: {stopped}");
    actions.dispatch("process.kill", json!({"id": holder["id"]})).await.unwrap();
}

/// `tend ps --json` as (name, status) pairs, in start order.
fn statuses(daemon: &DaemonUnderTest) -> Vec<(String, String)> {
    let list: Value = serde_json::from_str(&daemon.ok(&["ps", "--json"])).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|info| {
            (info["name"].as_str().unwrap().to_owned(), info["status"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn the_daemon_queues_starts_beyond_max_running() {
    let daemon = DaemonUnderTest::start_with(&["--max-running", "2"]);
    let mut ids = Vec::new();
    for name in ["a", "b", "c", "d"] {
        let id = daemon.ok(&["start", "--name", name, "--", FIXTURE, "sleep", "60"]);
        ids.push(id.trim().to_owned());
    }
    let pair = |name: &str, status: &str| (name.to_owned(), status.to_owned());
    let want = |statuses: [&str; 4]| {
        ["a", "b", "c", "d"].into_iter().zip(statuses).map(|(n, s)| pair(n, s)).collect::<Vec<_>>()
    };
    assert_eq!(statuses(&daemon), want(["running", "running", "queued", "queued"]));
    let table = daemon.ok(&["ps"]);
    assert_eq!(table.matches("queued").count(), 2, "{table}");

    // `ps` without `-a` leaves the finished ones out.
    daemon.ok(&["kill", &ids[0]]);
    let after_a = vec![pair("b", "running"), pair("c", "running"), pair("d", "queued")];
    eventually(PATIENCE, "c to start", || statuses(&daemon) == after_a);
    daemon.ok(&["kill", &ids[1]]);
    let after_b = vec![pair("c", "running"), pair("d", "running")];
    eventually(PATIENCE, "d to start", || statuses(&daemon) == after_b);
    for id in &ids[2..] {
        daemon.ok(&["kill", id]);
    }

    let refused = daemon.tend(&["daemon", "--max-running", "0"]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
}
