//! [`ProcessList::write_json`] writes, record for record, what `serde_json` writes for the
//! infos of that instant, and no record shows a state it has left: every answer here is
//! compared, byte for byte, with the infos serialised the way the list was before it kept
//! any JSON.

use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::logfile::{LogFileOptions, SharedLogFile};
use crate::wire::ListQuery;
use crate::{Process, Service, StartOptions, Status};

/// Generous: the suite runs on a loaded two-core machine.
const PATIENCE: Duration = Duration::from_secs(20);

fn filter(status: Option<Status>, label: Option<&str>) -> crate::wire::ListFilter {
    let query = ListQuery { status, label: label.map(str::to_owned) };
    query.list_filter().unwrap()
}

/// The answer as it was written before records kept their JSON: every record's info, read
/// at `now`, filtered, then serialised as one value.
fn the_old_way(service: &Service, query: &crate::wire::ListFilter, now: Timestamp) -> String {
    let infos: Vec<_> = service
        .table()
        .all()
        .map(|record| record.info_of(&record.state(), now))
        .filter(|info| query.admits(info.status, &info.labels))
        .collect();
    serde_json::to_string(&infos).unwrap()
}

/// The new answer and the old one at the same instant (after every start seen so far, so no
/// duration is counted from a later clock reading).
fn both_ways(service: &Service, query: &crate::wire::ListFilter) -> (String, String) {
    let now = Timestamp::now();
    let mut body = Vec::new();
    service.list_filtered(query.clone()).write_json_at(now, &mut body);
    (String::from_utf8(body).unwrap(), the_old_way(service, query, now))
}

/// Compares every filter the records below can tell apart; returns the unfiltered answer.
#[track_caller]
fn assert_same(service: &Service) -> String {
    let queries = [
        filter(None, None),
        filter(Some(Status::Running), None),
        filter(Some(Status::Exited), None),
        filter(Some(Status::Failed), None),
        filter(Some(Status::Killed), None),
        filter(None, Some("tier=web")),
        filter(Some(Status::Running), Some("tier=web")),
        filter(None, Some("tier=")),
    ];
    for query in &queries {
        let (new, old) = both_ways(service, query);
        assert_eq!(new, old, "filter {query:?}");
    }
    both_ways(service, &queries[0]).0
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "waited {PATIENCE:?} for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn sleeper(name: &str) -> StartOptions {
    StartOptions::new("sleep").arg("30").name(name)
}

#[tokio::test]
async fn every_kind_of_record_is_written_as_its_info_serialises() {
    let service = Service::new();
    let dir = tempfile::tempdir().unwrap();
    // Strings that need escaping, and one that looks like a live field's `null`.
    let odd = StartOptions::new("sh")
        .args(["-c", "sleep 30", "\"duration_ms\":null", "ünï\ncode\t\\"])
        .dir(dir.path())
        .label("tier", "web")
        .label("quote\"key", "back\\slash")
        .label("duration_ms", "null")
        .name("odd \"one\"");
    let odd = service.start(odd).unwrap();
    let web = service.start(sleeper("web").label("tier", "web")).unwrap();
    let plain = service.start(sleeper("plain")).unwrap();
    service.start(StartOptions::new("true")).unwrap().wait().await;
    service.start(StartOptions::new("sh").args(["-c", "exit 3"])).unwrap().wait().await;
    let missing = service.start(StartOptions::new("/nonexistent/tend-list-test"));
    assert!(missing.is_err(), "a program that does not exist leaves a failed record");
    let killed = service.start(sleeper("killed").label("tier", "web")).unwrap();
    killed.kill().unwrap();
    killed.wait().await;
    // A usage sample on a running one: its CPU and memory fields are not null.
    let pid = plain.pid().unwrap();
    plain.record_usage(pid, 7, 1 << 20, 100, Instant::now());
    assert!(plain.info().memory_bytes.is_some());
    // A log that cannot be written: `log_error` moves without any change to the state.
    let full = LogFileOptions::new().open("/dev/full").unwrap();
    let logged =
        StartOptions::new("sh").args(["-c", "echo to-a-full-disk; sleep 30"]).name("logged");
    let logged = service.start(logged.log_file(SharedLogFile::new(full))).unwrap();
    until("the log's error", || logged.info().log_error.is_some()).await;

    let first = assert_same(&service);
    assert!(first.contains("\"log_error\":\"log file"), "{first}");
    assert!(first.contains("\"start_failure\":\"not_found\""), "{first}");
    // Again, now from the records' kept JSON.
    assert_same(&service);

    for process in [&odd, &web, &plain, &logged] {
        process.kill().unwrap();
        process.wait().await;
    }
    assert_same(&service);
}

#[tokio::test]
async fn a_change_to_a_record_shows_in_the_next_answer() {
    let service = Service::new();
    let web = service.start(sleeper("web").label("tier", "web")).unwrap();
    let other = service.start(sleeper("other")).unwrap();
    let running = filter(Some(Status::Running), None);
    let written = |query: &crate::wire::ListFilter| {
        let mut body = Vec::new();
        service.list_filtered(query.clone()).write_json(&mut body);
        serde_json::from_slice::<Vec<crate::ProcessInfo>>(&body).unwrap()
    };
    assert_same(&service);
    assert_eq!(written(&running).len(), 2);

    // A restart: same record, a new PID and one restart more.
    let before = web.pid();
    let restarted = web.restart(Duration::from_secs(5)).await.unwrap();
    assert_eq!(restarted.restarts, 1);
    assert_same(&service);
    let listed = written(&filter(None, Some("tier=web")));
    assert_eq!((listed[0].restarts, listed[0].pid), (1, web.pid()));
    assert_ne!(listed[0].pid, before);

    // An exit: out of the running ones, killed in the full list.
    other.kill().unwrap();
    other.wait().await;
    assert_same(&service);
    assert_eq!(written(&running).len(), 1);
    let killed = written(&filter(Some(Status::Killed), None));
    assert_eq!((killed.len(), killed[0].reason), (1, Some(crate::Reason::Killed)));

    // A new labelled record, started again from the finished one's options.
    service.start(other.shared().options.clone().label("tier", "web")).unwrap();
    assert_same(&service);
    assert_eq!(written(&filter(Some(Status::Running), Some("tier=web"))).len(), 2);

    // A log file's error: it moves without a write to any state.
    let full = SharedLogFile::new(LogFileOptions::new().open("/dev/full").unwrap());
    let logged = StartOptions::new("sh").args(["-c", "read _; echo to-a-full-disk; sleep 30"]);
    let logged = service.start(logged.stdin(crate::StdinMode::Piped).log_file(full)).unwrap();
    let listed = assert_same(&service);
    assert!(!listed.contains("\"log_error\":\"log file"), "{listed}");
    logged.send_input(b"go\n").await.unwrap();
    until("the log's error", || logged.info().log_error.is_some()).await;
    let listed = assert_same(&service);
    assert!(listed.contains("\"log_error\":\"log file"), "{listed}");

    // A record removed: gone from the next answer.
    let removed = service.remove(&other.id().to_string()).unwrap();
    assert!(!assert_same(&service).contains(&removed.id.to_string()));

    for process in service.running() {
        process.kill().unwrap();
        process.wait().await;
    }
    assert_same(&service);
    assert!(written(&running).is_empty());
}

#[tokio::test]
async fn any_write_to_the_state_drops_the_kept_json() {
    let service = Service::new();
    let process: Process = service.start(sleeper("nap")).unwrap();
    let changes = || service.inner.list_cache.changes().count();
    let mut body = Vec::new();
    service.list_filtered(filter(None, None)).write_json(&mut body);
    assert!(process.shared().guarded().json.is_some());
    // A read keeps it; a write, even one the JSON does not show, drops it and is counted
    // (once per lock).
    let before = changes();
    let _ = process.shared().state().status;
    assert!(process.shared().guarded().json.is_some());
    assert_eq!(changes(), before);
    {
        let mut state = process.shared().state();
        state.restart_asked = false;
        state.restart_asked = false;
    }
    assert!(process.shared().guarded().json.is_none());
    assert_eq!(changes(), before + 1);
    process.kill().unwrap();
    process.wait().await;
}

#[tokio::test]
async fn a_list_that_went_through_json_writes_the_same_bytes() {
    let service = Service::new();
    service.start(StartOptions::new("sh").args(["-c", "exit 4"]).label("k", "v")).unwrap();
    let live = service.list_filtered(filter(None, None));
    until("the exit", || live.infos().iter().all(|info| info.status.is_finished())).await;
    let decoded: crate::ProcessList =
        serde_json::from_value(serde_json::to_value(&live).unwrap()).unwrap();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    live.write_json(&mut a);
    decoded.write_json(&mut b);
    assert_eq!(String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap());
}
