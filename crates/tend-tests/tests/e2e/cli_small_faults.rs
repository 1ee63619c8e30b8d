//! The smaller CLI faults of issue 14, through the `tend` binary: restarts announced by
//! `tend run`, `tend start`'s restart and grace flags, quiet exits on a closed pipe, one
//! spelling of the restart policies, and `tend stop`'s word for a graceful stop.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::cli_client_commands::DaemonUnderTest;
use crate::support::{FIXTURE, eventually, tend_bin, wait_child};

const LONG: Duration = Duration::from_secs(30);

fn tend(args: &[&str]) -> Output {
    Command::new(tend_bin()).args(args).stdin(Stdio::null()).output().expect("run tend")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn tend_run_announces_each_restart_on_stderr() {
    let out = tend(&[
        "run",
        "--restart",
        "on-failure",
        "--max-restarts",
        "2",
        "--restart-delay",
        "500ms",
        "--",
        FIXTURE,
        "exit",
        "1",
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let notices: Vec<&str> = stderr.lines().filter(|line| line.contains("restart")).collect();
    assert_eq!(
        notices,
        [
            "tend: exited with code 1; restart 1 in 500ms",
            "tend: exited with code 1; restart 2 in 1s"
        ],
        "{stderr}"
    );
}

#[test]
fn tend_start_takes_restart_and_grace_flags() {
    let daemon = DaemonUnderTest::start();
    let id = daemon
        .ok(&[
            "start",
            "--restart",
            "on-failure",
            "--max-restarts",
            "2",
            "--restart-delay",
            "20ms",
            "--",
            FIXTURE,
            "exit",
            "1",
        ])
        .trim()
        .to_owned();
    assert_eq!(daemon.tend(&["wait", &id]).status.code(), Some(1));
    let info: serde_json::Value =
        serde_json::from_str(&daemon.ok(&["kill", "--json", &id])).unwrap();
    assert_eq!(info["restarts"], 2, "{info}");

    // A process that ignores SIGTERM, ended by its timeout: SIGKILL follows after the start's
    // grace, not the default 5s.
    let started = Instant::now();
    let id = daemon
        .ok(&["start", "--grace", "300ms", "--timeout", "200ms", "--", FIXTURE, "ignore-term"])
        .trim()
        .to_owned();
    daemon.tend(&["wait", &id]);
    assert!(started.elapsed() < Duration::from_secs(4), "took {:?}", started.elapsed());
    let info: serde_json::Value =
        serde_json::from_str(&daemon.ok(&["kill", "--json", &id])).unwrap();
    assert_eq!(
        (&info["signal"], &info["reason"]),
        (&"SIGKILL".into(), &"timeout".into()),
        "{info}"
    );
}

/// Spawns `command` with stdout piped, reads one line, closes the pipe, and returns the exit
/// status and stderr: the command must notice the closed pipe on its next write.
fn close_after_one_line(mut command: Command) -> (Option<i32>, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tend");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(!first.is_empty(), "no output at all");
    drop(stdout);
    let status = wait_child(&mut child, LONG);
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    (status.code(), stderr)
}

#[test]
fn output_commands_exit_quietly_on_a_closed_pipe() {
    let mut run = Command::new(tend_bin());
    run.args(["run", "--events", "--", FIXTURE, "lines", "100000"]);
    assert_eq!(close_after_one_line(run), (Some(0), String::new()));

    let daemon = DaemonUnderTest::start();
    let id = daemon.ok(&["start", "--", FIXTURE, "lines", "60000"]).trim().to_owned();
    assert_eq!(daemon.tend(&["wait", &id]).status.code(), Some(0));
    for args in [vec!["logs", id.as_str()], vec!["logs", "--json", id.as_str()]] {
        let (code, stderr) = close_after_one_line(daemon.command(&args));
        assert_eq!((code, stderr.as_str()), (Some(0), ""), "tend {args:?}");
    }
}

#[test]
fn restart_policies_are_spelled_one_way() {
    for command in ["run", "start"] {
        let help = text(&tend(&[command, "-h"]).stdout);
        assert!(help.contains("[possible values: never, on-failure, always]"), "{help}");
        let long_help = text(&tend(&[command, "--help"]).stdout);
        assert!(!long_help.contains("on_failure"), "{long_help}");
        let bad = tend(&[command, "--restart", "sometimes", "--", FIXTURE, "exit", "0"]);
        assert_eq!(bad.status.code(), Some(2));
        let stderr = text(&bad.stderr);
        assert!(stderr.contains("sometimes") && stderr.contains("on-failure"), "{stderr}");
        assert!(!stderr.contains("on_failure"), "{stderr}");
    }
    // The API's spelling and any case are accepted too.
    for policy in ["on_failure", "On-Failure"] {
        let out = tend(&[
            "run",
            "--restart",
            policy,
            "--max-restarts",
            "1",
            "--restart-delay",
            "300ms",
            "--",
            FIXTURE,
            "exit",
            "1",
        ]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("restart 1 in 300ms"), "{}", text(&out.stderr));
    }
}

#[test]
fn stop_says_stopped_for_a_process_that_ends_on_its_stop_signal() {
    let daemon = DaemonUnderTest::start();
    let id = daemon.ok(&["start", "--", FIXTURE, "sleep", "30"]).trim().to_owned();
    eventually(LONG, "the fixture runs", || daemon.ok(&["logs", &id]).contains("ready"));
    assert_eq!(daemon.ok(&["stop", "--grace", "20s", &id]), "stopped\n");

    let id = daemon.ok(&["start", "--", FIXTURE, "ignore-term"]).trim().to_owned();
    eventually(LONG, "the fixture ignores SIGTERM", || daemon.ok(&["logs", &id]).contains("ready"));
    assert_eq!(daemon.ok(&["stop", "--grace", "200ms", &id]), "killed\n");
}
