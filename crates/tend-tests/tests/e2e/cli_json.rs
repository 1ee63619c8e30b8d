//! The CLI conventions of issue 11, through the `tend` binary: the program may follow `tend
//! run` and `tend start` without `--`; `--json` on every command that prints something;
//! `tend --version` names the commit and the features.

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::real_daemon::RealDaemon;
use crate::support::{FIXTURE, line_channel, next_line, tend_bin, wait_child};

const LONG: Duration = Duration::from_secs(30);

/// `tend ARGS` pointed at `daemon` through the environment, so the arguments end with the
/// program's own.
fn client(daemon: &RealDaemon, args: &[&str]) -> Command {
    let mut command = Command::new(tend_bin());
    command
        .args(args)
        .env("TEND_SERVER", &daemon.url)
        .env("TEND_TOKEN", &daemon.token)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs `command` to the end (failing after [`LONG`]).
fn finish(mut command: Command) -> Output {
    let mut child = command.spawn().expect("spawn tend");
    wait_child(&mut child, LONG);
    child.wait_with_output().expect("output")
}

/// `tend ARGS` against `daemon`, which must succeed.
fn ok(daemon: &RealDaemon, args: &[&str]) -> Output {
    let output = finish(client(daemon, args));
    assert!(output.status.success(), "tend {args:?}: {output:?}");
    output
}

/// `tend ARGS` against `daemon`, which must succeed; its stdout as JSON.
fn json(daemon: &RealDaemon, args: &[&str]) -> Value {
    let output = ok(daemon, args);
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("tend {args:?} printed no JSON ({e}): {output:?}"))
}

/// `tend ARGS` with no daemon.
fn tend(args: &[&str]) -> Output {
    let mut command = Command::new(tend_bin());
    command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    finish(command)
}

/// One line of `tend logs --json`, without its `seq`.
fn line_object(line: String) -> Value {
    let mut value = object(&line);
    assert!(value.as_object_mut().unwrap().remove("seq").is_some_and(|seq| seq.is_u64()), "{line}");
    value
}

fn object(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_program_may_follow_run_and_start_without_a_double_dash() {
    // tend's options before the program, the program's own (even `--timeout`) after it.
    let run = tend(&[
        "run",
        "--timeout",
        "20s",
        "sh",
        "-c",
        "echo \"$@\"; exit 3",
        "sh",
        "--timeout",
        "-x",
    ]);
    assert_eq!(run.status.code(), Some(3), "{run:?}");
    assert_eq!(text(&run.stdout), "--timeout -x\n");
    // `--` still works, and is how a program whose name starts with `-` is given.
    let dashed = tend(&["run", "--", "sh", "-c", "exit 4"]);
    assert_eq!(dashed.status.code(), Some(4), "{dashed:?}");
    let missing = tend(&["run", "--timeout", "1s"]);
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
    assert!(text(&missing.stderr).contains("PROGRAM"), "{}", text(&missing.stderr));

    let daemon = RealDaemon::start();
    let started =
        finish(client(&daemon, &["start", "--name", "plain", "sh", "-c", "echo hi $0", "x"]));
    assert!(started.status.success(), "{started:?}");
    assert_eq!(text(&started.stdout).trim().len(), 36, "a full id: {started:?}");
    assert_eq!(finish(client(&daemon, &["wait", "plain"])).status.code(), Some(0));
    let logs = finish(client(&daemon, &["logs", "plain"]));
    assert_eq!(text(&logs.stdout), "hi x\n", "{logs:?}");
}

#[test]
fn start_signal_wait_stop_kill_and_rm_print_the_info_as_json() {
    let daemon = RealDaemon::start();
    let started = json(
        &daemon,
        &["start", "--json", "--name", "napper", "--label", "k=v", FIXTURE, "sleep", "30"],
    );
    let id = started["id"].as_str().expect("id").to_owned();
    assert_eq!(id.len(), 36, "{started}");
    assert_eq!(
        (started["name"].as_str(), started["labels"]["k"].as_str()),
        (Some("napper"), Some("v"))
    );
    assert!(matches!(started["status"].as_str(), Some("running" | "pending")), "{started}");

    let signalled = json(&daemon, &["signal", "--json", "napper", "USR1"]);
    assert_eq!(signalled["id"], started["id"], "{signalled}");
    let waited = finish(client(&daemon, &["wait", "--json", "napper"]));
    assert_eq!(waited.status.code(), Some(128 + 10), "the exit status stays: {waited:?}");
    let waited: Value = serde_json::from_slice(&waited.stdout).expect("wait --json");
    assert_eq!(
        (waited["id"].as_str(), waited["signal"].as_str()),
        (Some(id.as_str()), Some("SIGUSR1"))
    );
    assert_eq!(waited["status"], "failed", "{waited}");

    ok(&daemon, &["start", "--name", "stubborn", FIXTURE, "ignore-term", "30"]);
    let stopped = json(&daemon, &["stop", "--json", "--grace", "200ms", "stubborn"]);
    assert_eq!(stopped["name"], "stubborn", "{stopped}");
    assert!(!matches!(stopped["status"].as_str(), Some("running" | "pending")), "{stopped}");

    ok(&daemon, &["start", "--name", "victim", FIXTURE, "sleep", "30"]);
    let killed = json(&daemon, &["kill", "--json", "victim"]);
    assert_eq!(
        (killed["name"].as_str(), killed["signal"].as_str()),
        (Some("victim"), Some("SIGKILL"))
    );

    let removed = json(&daemon, &["rm", "--json", &id]);
    assert_eq!(removed["id"], started["id"], "{removed}");
    // Without --json these print nothing, as before.
    let quiet = finish(client(&daemon, &["rm", "victim"]));
    assert!(quiet.status.success() && quiet.stdout.is_empty(), "{quiet:?}");
}

#[test]
fn logs_json_prints_one_object_per_line_with_its_stream() {
    let daemon = RealDaemon::start();
    ok(&daemon, &["start", "--name", "both", "sh", "-c", "echo out; echo err >&2; printf tail"]);
    assert_eq!(finish(client(&daemon, &["wait", "both"])).status.code(), Some(0));
    let logs = finish(client(&daemon, &["logs", "--json", "both"]));
    assert!(logs.status.success(), "{logs:?}");
    let mut lines: Vec<Value> = text(&logs.stdout).lines().map(object).collect();
    // Numbered in the log's order.
    let seqs: Vec<u64> = lines.iter().map(|line| line["seq"].as_u64().expect("seq")).collect();
    assert!(seqs.is_sorted() && seqs[0] > 0, "{seqs:?}");
    lines.iter_mut().for_each(|line| drop(line.as_object_mut().unwrap().remove("seq")));
    // The order across the two pipes is not defined; within one it is.
    lines.sort_by_key(|line| line["stream"].as_str().map(str::to_owned));
    assert_eq!(
        lines,
        [
            serde_json::json!({"stream": "stderr", "line": "err"}),
            serde_json::json!({"stream": "stdout", "line": "out"}),
            serde_json::json!({"stream": "stdout", "line": "tail"}),
        ],
        "{}",
        text(&logs.stdout)
    );
}

#[test]
fn logs_follow_json_prints_each_line_as_it_arrives_until_the_end() {
    let daemon = RealDaemon::start();
    ok(&daemon, &["start", "--name", "chat", FIXTURE, "echo"]);
    let mut follower: Child =
        client(&daemon, &["logs", "-f", "--json", "chat"]).spawn().expect("spawn");
    let lines = line_channel(follower.stdout.take().expect("stdout"));
    assert!(finish(client(&daemon, &["input", "chat", "first"])).status.success());
    // Printed while the process still runs: the second line is not written yet.
    let first = line_object(next_line(&lines, "the first line, live"));
    assert_eq!(first, serde_json::json!({"stream": "stdout", "line": "first"}));
    assert!(finish(client(&daemon, &["input", "chat", "second"])).status.success());
    assert_eq!(
        line_object(next_line(&lines, "the second line")),
        serde_json::json!({"stream": "stdout", "line": "second"})
    );
    assert!(finish(client(&daemon, &["close-stdin", "chat"])).status.success());
    assert_eq!(
        line_object(next_line(&lines, "eof")),
        serde_json::json!({"stream": "stderr", "line": "eof"})
    );
    // The process ended: the follower ends too, with nothing more.
    let status = wait_child(&mut follower, LONG);
    assert!(status.success(), "{status:?}");
    assert!(lines.recv_timeout(LONG).is_err(), "nothing after the last line");
    let mut stderr = String::new();
    follower.stderr.take().expect("stderr").read_to_string(&mut stderr).unwrap();
    assert!(stderr.is_empty(), "nothing was dropped: {stderr}");
}

#[test]
fn health_json_says_the_outcome_either_way() {
    let daemon = RealDaemon::start();
    let addr = daemon.addr.to_string();
    let healthy = tend(&["health", "--json", &addr]);
    assert!(healthy.status.success(), "{healthy:?}");
    let healthy: Value = serde_json::from_slice(&healthy.stdout).expect("JSON");
    assert_eq!(healthy, serde_json::json!({"addr": addr, "check": "health", "ok": true}));

    // Nothing listens there once the listener is dropped.
    let closed =
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let down = tend(&["health", "--json", "--ready", "--timeout", "300ms", &closed]);
    assert_eq!(down.status.code(), Some(1), "{down:?}");
    let down: Value = serde_json::from_slice(&down.stdout).expect("JSON on failure too");
    assert_eq!(
        (down["check"].as_str(), down["ok"].as_bool()),
        (Some("ready"), Some(false)),
        "{down}"
    );
    assert!(!down["message"].as_str().unwrap_or_default().is_empty(), "{down}");
}

#[test]
fn version_names_the_commit_and_the_features() {
    let output = tend(&["--version"]);
    assert!(output.status.success(), "{output:?}");
    let version = text(&output.stdout);
    // `tend 0.1.0 (commit 1a2b3c4[-dirty], features: yaml)`
    let rest = version
        .trim()
        .strip_prefix(&format!("tend {} (commit ", env!("CARGO_PKG_VERSION")))
        .unwrap_or_else(|| panic!("{version}"));
    let (commit, features) = rest.split_once(", features: ").unwrap_or_else(|| panic!("{version}"));
    assert!(features.ends_with(')'), "{version}");
    // The binary is built with tend-cli's default features.
    assert!(features.trim_end_matches(')').split(',').any(|f| f == "yaml"), "{version}");
    let hash = commit.trim_end_matches("-dirty");
    let repository = env!("CARGO_MANIFEST_DIR");
    let in_git = Command::new("git").args(["-C", repository, "rev-parse", "HEAD"]).output();
    if in_git.is_ok_and(|output| output.status.success()) {
        // A commit of this repository (the binary may predate the newest one).
        assert!(hash.len() >= 7 && hash.chars().all(|c| c.is_ascii_hexdigit()), "{version}");
        let commit_object = format!("{hash}^{{commit}}");
        let known =
            Command::new("git").args(["-C", repository, "cat-file", "-e", &commit_object]).status();
        assert!(known.is_ok_and(|status| status.success()), "{hash} is no commit here");
    } else {
        assert_eq!(hash, "unknown", "{version}");
    }
    // Every subcommand says the same.
    let run = text(&tend(&["run", "--version"]).stdout);
    assert!(run.contains(&format!("(commit {commit}, features: {features}")), "{run}");
}
