//! `tend run --restart`: run counts, exit status, events, stdin forwarded to each run, and
//! bad values rejected naming them.

use std::process::Command;

use crate::host_proctable::PATIENCE;
use crate::support::{FIXTURE, tend_bin};

fn tend(args: &[&str]) -> std::process::Output {
    Command::new(tend_bin()).args(args).output().expect("run tend")
}

#[test]
fn tend_run_restarts_and_exits_with_the_last_status() {
    let out = tend(&[
        "run",
        "--restart",
        "on-failure",
        "--max-restarts",
        "3",
        "--restart-delay",
        "10ms",
        "--",
        FIXTURE,
        "lines",
        "1",
        "--prefix",
        "run",
    ]);
    // Success on the first run: no restart.
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "run1\n");

    let out = tend(&[
        "run",
        "--events",
        "--restart",
        "on-failure",
        "--max-restarts",
        "3",
        "--restart-delay",
        "10ms",
        "--",
        FIXTURE,
        "exit",
        "3",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let events: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    let mut want = vec!["started"];
    for _ in 0..3 {
        want.extend(["restarted", "started"]);
    }
    want.push("exited");
    assert_eq!(kinds, want);
    let attempts: Vec<_> = events.iter().filter_map(|e| e["attempt"].as_u64()).collect();
    assert_eq!(attempts, [1, 2, 3]);
    assert_eq!(events.last().unwrap()["exit_code"], 3);
}

#[test]
fn tend_run_always_with_a_plain_program() {
    let out = tend(&[
        "run",
        "--restart",
        "always",
        "--max-restarts",
        "2",
        "--restart-delay",
        "10ms",
        "--",
        FIXTURE,
        "lines",
        "1",
        "--prefix",
        "run",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "run1\n".repeat(3));
}

#[test]
fn tend_run_rejects_bad_restart_values() {
    for (args, named) in [
        (["--restart", "sometimes"], "sometimes"),
        (["--max-restarts", "-1"], "-1"),
        (["--max-restarts", "lots"], "lots"),
        (["--restart-delay", "soon"], "soon"),
    ] {
        let out = Command::new(tend_bin())
            .arg("run")
            .args(args)
            .args(["--", FIXTURE, "exit", "0"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(named), "{args:?}: {stderr}");
    }
}

#[test]
fn tend_run_forwards_stdin_to_each_run() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    use std::sync::mpsc;

    // Each run reads one line, closes its stdin, says so, and lingers: input sent after a
    // run's answer fails on that run (EPIPE) and must be sent again to the next run.
    let script = "read x; exec 0<&-; echo got $x; sleep 0.2";
    let child = Command::new(tend_bin())
        .args(["run", "--events", "--restart", "always", "--max-restarts", "2"])
        .args(["--restart-delay", "10ms", "--", "sh", "-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let mut stdin = child.0.stdin.take().unwrap();
    let stdout = BufReader::new(child.0.stdout.take().unwrap());
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            let event: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
            if lines.send(event).is_err() {
                return;
            }
        }
    });
    let mut kinds = Vec::new();
    let mut next_output = || loop {
        let event = received.recv_timeout(PATIENCE).expect("an event from tend run");
        kinds.push(event["event"].as_str().unwrap().to_owned());
        match event["event"].as_str().unwrap() {
            "output" => return Some(event["line"].as_str().unwrap().to_owned()),
            "exited" => return None,
            _ => {}
        }
    };
    let mut got = Vec::new();
    for input in ["one", "two", "three"] {
        stdin.write_all(format!("{input}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
        got.push(next_output().expect("an answer"));
    }
    drop(stdin);
    assert_eq!(next_output(), None, "nothing more after the third run");
    assert_eq!(got, ["got one", "got two", "got three"]);
    assert_eq!(child.0.wait().unwrap().code(), Some(0));
}

/// A `tend` child that a failing test must not leave behind.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        // SIGKILL to tend takes its children down too (its guardian); already reaped is fine.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
