//! The life of a managed process: start options, status, the info snapshot, failures to
//! start, timeouts, the prompt exit report, and the one-shot `run`.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use tend::{Error, Process, ProcessInfo, Reason, Service, Signal, StartOptions, Status, StdinMode};

use crate::support::{DEADLINE, fixture, fixture_path};

async fn finished(process: &Process) -> ProcessInfo {
    tokio::time::timeout(DEADLINE, process.wait()).await.expect("the process ends in time")
}

/// Runs the fixture to the end and returns its stdout as text.
async fn stdout_of(service: &Service, options: StartOptions) -> String {
    let process = service.start(options).unwrap();
    let info = finished(&process).await;
    assert_eq!(info.status, Status::Exited, "{info:?}: {}", process.output().to_string_lossy());
    String::from_utf8(process.output().stdout()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_then_exited_with_a_complete_serialisable_snapshot() {
    let service = Service::new();
    let dir = tempfile::tempdir().unwrap();
    let process = service
        .start(
            fixture(&["echo"])
                .stdin(StdinMode::Piped)
                .dir(dir.path())
                .name("echoer")
                .label("team", "core")
                .label("tier", "1"),
        )
        .unwrap();

    // `echo` runs until its stdin closes, so it is surely running now.
    let running = process.info();
    assert_eq!(running.status, Status::Running);
    assert_eq!(process.status(), Status::Running);
    assert_eq!(running.id, process.id());
    assert_eq!(running.name.as_deref(), Some("echoer"));
    assert_eq!(running.command, fixture_path());
    assert_eq!(running.args, ["echo"]);
    assert_eq!(running.dir.as_deref(), Some(dir.path()));
    assert!(running.pid.is_some() && running.pid == process.pid());
    assert!(running.started_at.is_some());
    assert_eq!(
        (running.ended_at, running.exit_code, running.signal, running.reason),
        (None, None, None, None)
    );
    assert!(running.duration_ms.is_some(), "duration counts up while running");
    assert_eq!(running.labels.get("team").map(String::as_str), Some("core"));
    assert_eq!(running.labels.len(), 2);
    assert_eq!(running.restarts, 0);
    assert_eq!(running.error, None);

    process.send_input(b"bye\n").await.unwrap();
    process.close_stdin().await.unwrap();
    let done = finished(&process).await;
    assert_eq!(done.status, Status::Exited);
    assert_eq!((done.exit_code, done.signal, done.reason), (Some(0), None, None));
    assert_eq!(done.pid, running.pid, "the PID is kept after the end");
    let (started, ended) = (done.started_at.unwrap(), done.ended_at.unwrap());
    assert!(ended >= started);
    let duration = done.duration_ms.unwrap();
    let span = ended.duration_since(started).as_secs_f64() * 1000.0;
    assert!((duration - span).abs() < 1e-6, "duration_ms {duration} is ended - started {span}");
    assert_eq!(done.shell_status(), 0);
    assert_eq!(process.info(), done, "the final snapshot no longer changes");

    let json = serde_json::to_value(&done).unwrap();
    let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = [
        "id",
        "name",
        "command",
        "args",
        "dir",
        "pid",
        "status",
        "exit_code",
        "signal",
        "reason",
        "started_at",
        "ended_at",
        "duration_ms",
        "restarts",
        "labels",
        "error",
        "cpu_percent",
        "cpu_seconds",
        "memory_bytes",
        "log_path",
        "log_error",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(json["status"], "exited");
    assert_eq!(json["id"], done.id.to_string());
    assert!(json["started_at"].as_str().unwrap().ends_with('Z'), "RFC 3339 UTC: {json}");
    let back: ProcessInfo = serde_json::from_value(json).unwrap();
    assert_eq!(
        (back.id, back.status, back.pid, back.labels),
        (done.id, done.status, done.pid, done.labels)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_zero_exit_and_unsent_signals_are_failures() {
    let service = Service::new();
    let info = finished(&service.start(fixture(&["exit", "3"])).unwrap()).await;
    assert_eq!(info.status, Status::Failed);
    assert_eq!(
        (info.exit_code, info.signal, info.reason, info.shell_status()),
        (Some(3), None, None, 3)
    );

    for (name, signal) in [("TERM", Signal::TERM), ("SEGV", "SIGSEGV".parse().unwrap())] {
        let info = finished(&service.start(fixture(&["signal", name])).unwrap()).await;
        assert_eq!(info.status, Status::Failed, "{name}: a signal we did not send is a failure");
        assert_eq!(
            (info.exit_code, info.signal, info.reason),
            (None, Some(signal), None),
            "{name}"
        );
        assert_eq!(info.shell_status(), 128 + signal.number());
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(json["signal"], signal.to_string());
        assert!(json["exit_code"].is_null());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_that_cannot_start_is_named_with_the_os_reason_and_leaves_a_failed_record() {
    let service = Service::new();
    let mut events = service.subscribe();
    let missing = "/nonexistent/tend-e2e-no-such-program";
    let error = service.start(StartOptions::new(missing).name("ghost")).unwrap_err();
    let Error::Spawn { command, source } = &error else { panic!("not a spawn error: {error:?}") };
    assert_eq!(command, missing);
    assert_eq!(source.kind(), ErrorKind::NotFound);
    let message = error.to_string();
    assert!(message.contains(missing) && message.contains("No such file"), "{message}");

    let record = service.get("ghost").expect("a record is left").info();
    assert_eq!(record.status, Status::Failed);
    assert_eq!((record.pid, record.started_at, record.exit_code), (None, None, None));
    assert!(record.ended_at.is_some());
    assert!(record.error.as_deref().is_some_and(|e| e.contains(missing)), "{record:?}");
    assert_eq!(service.list().len(), 1);
    assert!(service.running().is_empty());

    let Some(tend::Received::Event(event)) = events.recv().await else { panic!("no event") };
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!((json["event"].as_str(), json["status"].as_str()), (Some("exited"), Some("failed")));
    assert!(json["error"].as_str().unwrap().contains(missing));

    // A missing working directory reads like a missing program to the OS; the error says
    // which it was.
    let error = service.start(fixture(&["pwd"]).dir("/nonexistent/tend-e2e-dir")).unwrap_err();
    let message = error.to_string();
    assert!(message.contains(crate::support::fixture_path()), "{message}");
    assert!(message.contains("working directory `/nonexistent/tend-e2e-dir`"), "{message}");
    assert!(matches!(&error, Error::Spawn { source, .. } if source.kind() == ErrorKind::NotFound));
    assert_eq!(service.list().len(), 2);

    // A file without execute permission: the OS says "permission denied".
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("not-executable");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    let error = service.start(StartOptions::new(script.to_str().unwrap())).unwrap_err();
    assert!(
        matches!(&error, Error::Spawn { source, .. } if source.kind() == ErrorKind::PermissionDenied),
        "{error:?}"
    );
    assert_eq!(service.list().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_is_inherited_and_extended_or_started_empty() {
    let service = Service::new();
    let path = std::env::var("PATH").expect("the test runs with a PATH");
    let env = |name: &str| fixture(&["env", name]);

    let added = stdout_of(&service, env("TEND_E2E_PROBE").env("TEND_E2E_PROBE", "a b=c")).await;
    assert_eq!(added, "a b=c\n");
    let inherited = stdout_of(&service, env("PATH").env("TEND_E2E_PROBE", "x")).await;
    assert_eq!(inherited, format!("{path}\n"), "adding a variable keeps the rest");
    let overridden = stdout_of(&service, env("PATH").env("PATH", "/override")).await;
    assert_eq!(overridden, "/override\n");

    let cleared = stdout_of(&service, env("PATH").clear_env()).await;
    assert_eq!(cleared, "<unset>\n");
    let only = stdout_of(&service, env("ONLY").clear_env().env("ONLY", "1")).await;
    assert_eq!(only, "1\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn working_directory_and_null_stdin() {
    let service = Service::new();
    let dir = tempfile::tempdir().unwrap();
    let pwd = stdout_of(&service, fixture(&["pwd"]).dir(dir.path())).await;
    assert_eq!(pwd.trim_end(), dir.path().canonicalize().unwrap().to_str().unwrap());

    // The default stdin is /dev/null: `echo` sees end-of-file at once.
    let process = service.start(fixture(&["echo"])).unwrap();
    assert_eq!(finished(&process).await.exit_code, Some(0));
    assert_eq!(process.output().stderr(), b"eof\n");
    assert!(process.output().stdout().is_empty());
    assert!(!process.stdin_open());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_ends_the_process_gracefully_with_reason_timeout() {
    let service = Service::new();
    let start = Instant::now();
    let process =
        service.start(fixture(&["sleep", "30"]).timeout(Duration::from_millis(300))).unwrap();
    let info = finished(&process).await;
    let took = start.elapsed();
    assert_eq!(info.status, Status::Killed);
    assert_eq!(
        (info.reason, info.signal, info.exit_code),
        (Some(Reason::Timeout), Some(Signal::TERM), None)
    );
    assert!(took >= Duration::from_millis(300), "ended after {took:?}");
    assert!(took < Duration::from_secs(5), "SIGTERM suffices, no grace wait: {took:?}");

    // A child that ignores SIGTERM gets SIGKILL once the grace period is over, and what it
    // prints during the grace period is still captured.
    let start = Instant::now();
    let stubborn = service
        .start(
            // The timeout leaves the (debug-built) fixture ample time to install its handler.
            fixture(&["ignore-term"]).timeout(Duration::from_secs(1)).grace(Duration::from_secs(1)),
        )
        .unwrap();
    let info = finished(&stubborn).await;
    let took = start.elapsed();
    assert_eq!(
        (info.status, info.reason, info.signal),
        (Status::Killed, Some(Reason::Timeout), Some(Signal::KILL))
    );
    assert!(took >= Duration::from_secs(2), "timeout + grace, then KILL: {took:?}");
    assert_eq!(stubborn.output().stdout(), b"ready\ngot SIGTERM\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exit_is_reported_promptly_while_a_grandchild_holds_the_pipe() {
    let service = Service::new();
    let start = Instant::now();
    let process =
        service.start(StartOptions::new("sh").args(["-c", "sleep 100 & echo hi"])).unwrap();
    let info = finished(&process).await;
    let took = start.elapsed();
    assert!(took < Duration::from_secs(1), "reported after {took:?}");
    assert_eq!(info.status, Status::Exited);
    assert_eq!(process.output().stdout(), b"hi\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_returns_how_it_ended_and_run_checked_an_error_that_still_carries_it() {
    let service = Service::new();
    let done = service.run(fixture(&["interleave", "2"])).await.unwrap();
    assert_eq!(done.info.status, Status::Exited);
    assert_eq!(done.output.stdout(), b"out 1\nout 2\n");
    assert_eq!(done.output.stderr(), b"err 1\nerr 2\n");
    let mut combined = done.output.to_string_lossy().lines().map(str::to_owned).collect::<Vec<_>>();
    combined.sort();
    assert_eq!(combined, ["err 1", "err 2", "out 1", "out 2"], "both streams, combined");

    // `sleep -1` is a usage error: the fixture complains on stderr and exits 2.
    let ended = service.run(fixture(&["sleep", "-1"])).await.unwrap();
    assert_eq!((ended.info.status, ended.info.exit_code), (Status::Failed, Some(2)));
    assert!(!ended.success());
    let error = service.run_checked(fixture(&["sleep", "-1"])).await.unwrap_err();
    let Error::Failed(failed) = &error else { panic!("not a failed run: {error:?}") };
    assert_eq!((failed.info.status, failed.info.exit_code), (Status::Failed, Some(2)));
    assert!(String::from_utf8_lossy(&failed.output.stderr()).contains("usage: tend-fixture"));
    assert!(error.to_string().contains("exited with code 2"), "{error}");

    let timeout = fixture(&["sleep", "30"]).timeout(Duration::from_secs(1));
    let error = service.run(timeout).await.unwrap().checked().unwrap_err();
    let Error::Failed(failed) = &error else { panic!("not a failed run: {error:?}") };
    assert_eq!(failed.info.reason, Some(Reason::Timeout));
    assert_eq!(failed.output.stdout(), b"ready\n");
    assert!(error.to_string().contains("timeout"), "{error}");

    let error = service.run(StartOptions::new("/nonexistent/tend-e2e")).await.unwrap_err();
    assert!(matches!(error, Error::Spawn { .. }), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_needs_a_runtime_and_a_command() {
    let service = Service::new();
    let error = service.start(StartOptions::new("")).unwrap_err();
    assert!(matches!(error, Error::InvalidOption { option: "command", .. }), "{error:?}");
    let outside = std::thread::spawn(move || service.start(fixture(&["exit", "0"])).unwrap_err());
    assert!(matches!(outside.join().unwrap(), Error::NoRuntime));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_info_json_snapshot() {
    let service = Service::new();
    let options = StartOptions::new("sh")
        .args(["-c", "exit 3"])
        .dir("/")
        .name("snapshot")
        .label("team", "core");
    let info = finished(&service.start(options).unwrap()).await;
    insta::assert_json_snapshot!("process_info_failed", info, {
        ".id" => "[id]",
        ".pid" => "[pid]",
        ".started_at" => "[time]",
        ".ended_at" => "[time]",
        ".duration_ms" => "[duration_ms]",
    });
}
