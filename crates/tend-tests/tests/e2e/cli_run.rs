//! `tend run`: streaming, stdin, options, exit statuses, signals and `--events`, with the real
//! binary.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rustix::process::Signal as Sig;

use crate::support::{
    DEADLINE, Strays, eventually, fixture_path, group_alive, line_channel, next_line, pid_alive,
    send_signal, stat, tend_bin,
};

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

/// A `tend run` left running, with its stdout read line by line; SIGKILLed if still alive
/// when dropped.
struct Live {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Live {
    fn start(options: &[&str], mode: &[&str]) -> Self {
        let mut child = Command::new(tend_bin())
            .arg("run")
            .args(options)
            .arg("--")
            .arg(fixture_path())
            .args(mode)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn tend");
        let lines = line_channel(child.stdout.take().unwrap());
        Live { child, lines }
    }

    fn line(&self) -> String {
        next_line(&self.lines, "tend run's stdout")
    }

    fn wait(&mut self) -> ExitStatus {
        let child = &mut self.child;
        let mut status = None;
        eventually(DEADLINE, "tend run to exit", || {
            status = child.try_wait().unwrap();
            status.is_some()
        });
        status.unwrap()
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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

#[test]
fn output_is_streamed_while_the_program_runs_and_sigterm_stops_its_group() {
    let mut strays = Strays::default();
    let mut tend = Live::start(&[], &["spawn", "2", "30"]);
    let children: Vec<u32> = (0..2).map(|_| strays.watch(pid_line(&tend.line()))).collect();
    assert_eq!(tend.line(), "ready");
    assert!(tend.child.try_wait().unwrap().is_none(), "tend is still running");
    let program = child_of(tend.child.id());

    send_signal(tend.child.id(), Sig::TERM);
    let status = tend.wait();
    assert_eq!(status.code(), Some(128 + 15), "the program died of the SIGTERM we passed on");
    assert!(!pid_alive(program));
    eventually(DEADLINE, "the program's children to die of SIGTERM too", || {
        children.iter().all(|&pid| !pid_alive(pid))
    });
}

#[test]
fn a_second_interrupt_kills_at_once() {
    let mut tend = Live::start(&["--grace", "30s"], &["ignore-term"]);
    assert_eq!(tend.line(), "ready");
    send_signal(tend.child.id(), Sig::INT);
    assert_eq!(tend.line(), "got SIGTERM");
    let start = Instant::now();
    send_signal(tend.child.id(), Sig::INT);
    assert_eq!(tend.wait().code(), Some(128 + 9));
    assert!(start.elapsed() < Duration::from_secs(5), "waited {:?}", start.elapsed());
}

/// The PID in a `pid N` line.
fn pid_line(line: &str) -> u32 {
    line.strip_prefix("pid ").and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("{line:?}"))
}

#[test]
fn sigint_shuts_the_group_down_gracefully() {
    let mut tend = Live::start(&["--grace", "1s"], &["ignore-term"]);
    assert_eq!(tend.line(), "ready");
    let program = child_of(tend.child.id());

    let start = Instant::now();
    send_signal(tend.child.id(), Sig::INT);
    assert_eq!(tend.line(), "got SIGTERM", "SIGINT to tend is SIGTERM to the program");
    let status = tend.wait();
    assert!(start.elapsed() >= Duration::from_secs(1), "no grace: {:?}", start.elapsed());
    assert_eq!(status.code(), Some(128 + 9), "SIGKILL after the grace period");
    assert!(!group_alive(program));
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
    let ran = tend_fixture(&["-C", dir.path().to_str().unwrap()], &["pwd"]);
    let printed = String::from_utf8(ran.stdout).unwrap();
    assert_eq!(printed.trim_end(), dir.path().canonicalize().unwrap().to_str().unwrap());

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

/// `tend run` killed with SIGKILL runs no code at all: its guardian takes the group down.
#[test]
fn sigkill_of_tend_takes_the_whole_group_down_within_a_second() {
    let mut strays = Strays::default();
    let mut tend = Live::start(&[], &["spawn", "3", "60"]);
    let children: Vec<u32> = (0..3).map(|_| strays.watch(pid_line(&tend.line()))).collect();
    assert_eq!(tend.line(), "ready");
    let leader = strays.watch(stat(children[0]).unwrap().ppid);
    assert_eq!(leader, child_of(tend.child.id()));
    assert_eq!(stat(leader).unwrap().pgrp, leader);

    send_signal(tend.child.id(), Sig::KILL);
    let killed = Instant::now();
    tend.wait();
    let family: Vec<u32> = [leader].into_iter().chain(children).collect();
    eventually(Duration::from_secs(1), "the program's group to die with tend", || {
        family.iter().all(|&pid| !pid_alive(pid))
    });
    eprintln!("group gone {:?} after tend's SIGKILL", killed.elapsed());
    assert!(!group_alive(leader));
}

/// The program `tend run` started: its one child that is not the guardian.
fn child_of(tend: u32) -> u32 {
    let all = std::fs::read_dir("/proc").unwrap();
    let programs: Vec<u32> = all
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&pid| stat(pid).is_some_and(|s| s.ppid == tend && s.state != 'Z'))
        .filter(|&pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim_end() != "tend-guardian")
        })
        .collect();
    assert_eq!(programs.len(), 1, "children of tend: {programs:?}");
    programs[0]
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

/// Whenever SIGINT arrives, nothing `tend run` started may outlive it: neither before the
/// program exists, nor while it starts, nor once it runs. A survivor holds tend's stdout, so
/// the pipe not reaching end-of-file shows it.
#[test]
fn an_early_interrupt_never_orphans_the_program() {
    for attempt in 0..40u64 {
        let mut tend = Command::new(tend_bin())
            .args(["run", "--grace", "100ms", "--", fixture_path(), "sleep", "30"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let lines = line_channel(tend.stdout.take().unwrap());
        // From "before tend has done anything" to "the program surely runs".
        std::thread::sleep(Duration::from_micros(attempt * attempt * 10));
        send_signal(tend.id(), Sig::INT);
        let mut status = None;
        eventually(DEADLINE, "tend to exit after SIGINT", || {
            status = tend.try_wait().unwrap();
            status.is_some()
        });
        let end_of_file = Instant::now() + DEADLINE;
        loop {
            match lines.recv_timeout(end_of_file.saturating_duration_since(Instant::now())) {
                Ok(_) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    panic!("attempt {attempt}: something tend started outlived it ({status:?})")
                }
            }
        }
    }
}
