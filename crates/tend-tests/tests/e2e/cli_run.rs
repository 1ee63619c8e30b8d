//! `tend run`: streams, stdin, options, exit statuses and `--events`, with the real binary.
//! Signals are in `cli_run_signals`.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{DEADLINE, eventually, fixture_path, pid_alive, tend_bin};

/// What a finished `tend run` left.
struct Ran {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

/// `tend run ARGS…`, with `input` on its stdin (then end-of-file), bounded by [`DEADLINE`].
fn tend_run(args: &[&str], input: &[u8]) -> Ran {
    let output = assert_cmd::Command::new(tend_bin())
        .arg("run")
        .args(args)
        .write_stdin(input)
        .timeout(DEADLINE)
        .output()
        .expect("tend run finishes");
    Ran {
        code: output.status.code(),
        stdout: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `tend run [OPTIONS] -- tend-fixture MODE…`.
fn tend_fixture(options: &[&str], mode: &[&str]) -> Ran {
    let args: Vec<&str> =
        options.iter().copied().chain(["--", fixture_path()]).chain(mode.iter().copied()).collect();
    tend_run(&args, b"")
}

#[test]
fn each_stream_goes_to_its_own() {
    let ran = tend_fixture(&[], &["interleave", "3"]);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(ran.stdout, b"out 1\nout 2\nout 3\n");
    assert_eq!(ran.stderr, "err 1\nerr 2\nerr 3\n");

    let ran = tend_fixture(&[], &["bytes", r"a\r\nb\xff"]);
    assert_eq!(ran.stdout, b"a\r\nb\xff", "bytes pass through untouched");
}

/// A grandchild left holding tend's own stdout is killed after the leak timeout, so neither
/// tend nor a reader of its output waits for it.
#[test]
fn tend_and_its_output_end_promptly_while_a_grandchild_holds_the_pipe() {
    let start = Instant::now();
    let ran = tend_fixture(&[], &["grandchild", "60"]);
    let took = start.elapsed();
    assert_eq!(ran.code, Some(0));
    assert!(took < Duration::from_secs(2), "end of output after {took:?}");
    let mut lines: Vec<&str> = std::str::from_utf8(&ran.stdout).unwrap().lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, ["hi", "ready"], "the parent's `hi`, the grandchild's `ready`");
    let grandchild: u32 =
        ran.stderr.trim_end().strip_prefix("grandchild ").unwrap().parse().unwrap();
    assert!(!pid_alive(grandchild));
}

#[test]
fn stdin_is_forwarded_exactly_and_end_of_file_closes_it() {
    let input = b"one\r\ntwo \xff\nno newline";
    let ran = tend_run(&["--", fixture_path(), "echo"], input);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(ran.stdout, input);
    assert_eq!(ran.stderr, "eof\n");
}

/// An interactive `tend run -- true` must not wait for the user to press Enter: our stdin
/// may never reach end-of-file.
#[test]
fn tend_exits_with_the_program_even_while_its_own_stdin_stays_open() {
    let mut tend = Command::new(tend_bin())
        .args(["run", "--", fixture_path(), "exit", "3"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let _open = tend.stdin.take();
    let start = Instant::now();
    let exited = loop {
        if tend.try_wait().unwrap().is_some() {
            break true;
        }
        if start.elapsed() > Duration::from_secs(5) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // Reap it either way (killing an exited child is a no-op).
    let _ = tend.kill();
    let status = tend.wait().unwrap();
    assert!(exited, "tend still running {:?} after its program exited", start.elapsed());
    assert_eq!(status.code(), Some(3));
}

#[test]
fn directory_and_environment() {
    let dir = tempfile::tempdir().unwrap();
    for flag in ["-C", "--dir"] {
        let ran = tend_fixture(&[flag, dir.path().to_str().unwrap()], &["pwd"]);
        let printed = String::from_utf8(ran.stdout).unwrap();
        assert_eq!(printed.trim_end(), dir.path().canonicalize().unwrap().to_str().unwrap());
    }

    let ran = tend_fixture(&["-e", "A=1", "--env", "TEND_E2E_B=x=y"], &["env", "TEND_E2E_B"]);
    assert_eq!(ran.stdout, b"x=y\n", "the value is everything after the first `=`");
    let ran = tend_fixture(&["-e", "TEND_E2E_EMPTY="], &["env", "TEND_E2E_EMPTY"]);
    assert_eq!(ran.stdout, b"\n");

    // Our own environment is passed on.
    let output = assert_cmd::Command::new(tend_bin())
        .args(["run", "--", fixture_path(), "env", "TEND_E2E_INHERITED"])
        .env("TEND_E2E_INHERITED", "yes")
        .timeout(DEADLINE)
        .output()
        .unwrap();
    assert_eq!(output.stdout, b"yes\n");
}

#[test]
fn the_grace_period_defaults_to_five_seconds() {
    let start = Instant::now();
    let ran = tend_fixture(&["--timeout", "100ms"], &["ignore-term"]);
    let took = start.elapsed();
    assert_eq!(ran.code, Some(124), "{}", ran.stderr);
    // TERM at 0.1 s is ignored; KILL comes 5 s later.
    assert!(took >= Duration::from_secs(5) && took < Duration::from_secs(15), "{took:?}");
}

#[test]
fn exit_status_follows_the_program() {
    assert_eq!(tend_fixture(&[], &["exit", "7"]).code, Some(7));
    assert_eq!(tend_fixture(&[], &["exit", "0"]).code, Some(0));
    assert_eq!(tend_fixture(&[], &["signal", "TERM"]).code, Some(128 + 15));
    assert_eq!(tend_fixture(&[], &["signal", "KILL"]).code, Some(128 + 9));
    assert_eq!(tend_fixture(&[], &["signal", "SEGV"]).code, Some(128 + 11));

    let start = Instant::now();
    let ran = tend_fixture(&["--timeout", "1s"], &["sleep", "30"]);
    assert_eq!(ran.code, Some(124), "timeout: {}", ran.stderr);
    assert!(start.elapsed() >= Duration::from_secs(1));
    assert_eq!(ran.stdout, b"ready\n");
}

#[test]
fn programs_that_cannot_run_give_127_or_126() {
    let ran = tend_run(&["--", "tend-e2e-no-such-program"], b"");
    assert_eq!(ran.code, Some(127));
    assert!(ran.stderr.contains("tend-e2e-no-such-program"), "{}", ran.stderr);

    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("not-executable");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    let ran = tend_run(&["--", script.to_str().unwrap()], b"");
    assert_eq!(ran.code, Some(126), "{}", ran.stderr);
    assert!(ran.stderr.contains("not-executable"), "{}", ran.stderr);

    let ran = tend_run(&["--", dir.path().to_str().unwrap()], b"");
    assert_eq!(ran.code, Some(126), "a directory: {}", ran.stderr);

    // With `--events`, the failure is an event too.
    let ran = tend_run(&["--events", "--", "tend-e2e-no-such-program"], b"");
    assert_eq!(ran.code, Some(127));
    let text = String::from_utf8(ran.stdout).unwrap();
    let events: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), 1, "{text}");
    assert_eq!(
        (events[0]["event"].as_str(), events[0]["status"].as_str()),
        (Some("exited"), Some("failed"))
    );
    assert!(events[0]["error"].as_str().unwrap().contains("tend-e2e-no-such-program"));
}

#[test]
fn usage_errors_exit_2_naming_the_bad_input() {
    for (args, named) in [
        (&["--", "x"][..0], "PROGRAM"),
        (&["--timeout", "soon", "--", "true"], "soon"),
        (&["--grace=later", "--", "true"], "later"),
        (&["-e", "NOEQUALS", "--", "true"], "NOEQUALS"),
        (&["-e", "=v", "--", "true"], "=v"),
        (&["-C", "/nonexistent/tend-e2e", "--", "true"], "/nonexistent/tend-e2e"),
        (&["--bogus", "--", "true"], "--bogus"),
    ] {
        let ran = tend_run(args, b"");
        assert_eq!(ran.code, Some(2), "{args:?}: {}", ran.stderr);
        assert!(ran.stderr.contains(named), "{args:?} should name {named}: {}", ran.stderr);
        assert!(ran.stdout.is_empty());
    }
}

#[test]
fn events_are_json_lines_with_bytes_replaced_only_there() {
    let ran = tend_fixture(&["--events"], &["bytes", r"one\r\ntwo \xff\nlast"]);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(ran.stderr.is_empty(), "{}", ran.stderr);
    let text = String::from_utf8(ran.stdout).expect("JSON lines are UTF-8");
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON value per line"))
        .collect();
    let pid = events[0]["pid"].as_u64().unwrap();
    assert!(pid > 0);
    insta::assert_json_snapshot!("tend_run_events", events, {
        "[].id" => "[id]",
        "[].time" => "[time]",
        "[].pid" => "[pid]",
        "[].duration_ms" => "[duration_ms]",
        "[].command" => "[tend-fixture]",
    });

    // A killed program: `killed` comes before `exited`, and the status is 124.
    let ran = tend_fixture(&["--events", "--timeout", "1s"], &["sleep", "30"]);
    assert_eq!(ran.code, Some(124));
    let kinds: Vec<String> = String::from_utf8(ran.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(kinds, ["started", "output", "killed", "exited"]);
}

#[test]
fn stdin_forwarding_keeps_up_with_a_large_input() {
    // More than any pipe buffer in both directions at once: forwarding must not deadlock.
    let input: Vec<u8> = (0..200_000).flat_map(|i| format!("{i}\n").into_bytes()).collect();
    let mut tend = Command::new(tend_bin())
        .args(["run", "--", fixture_path(), "echo"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = tend.stdin.take().unwrap();
    let expected = input.clone();
    // Both ends on threads, so a deadlock shows up as a timeout here and not as a hung test.
    std::thread::spawn(move || stdin.write_all(&input));
    let mut stdout = tend.stdout.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut bytes);
        let _ = sender.send(bytes);
    });
    let Ok(echoed) = receiver.recv_timeout(DEADLINE) else {
        let _ = tend.kill();
        let _ = tend.wait();
        panic!("the echo did not finish within {DEADLINE:?}");
    };
    assert_eq!(echoed.len(), expected.len());
    assert!(echoed == expected, "the echo differs");
    let mut status = None;
    eventually(DEADLINE, "tend to exit", || {
        status = tend.try_wait().unwrap();
        status.is_some()
    });
    assert!(status.unwrap().success());
}
