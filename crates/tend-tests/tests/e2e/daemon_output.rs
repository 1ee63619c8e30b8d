//! Output through the real daemon after eviction (issue 10, defect 6): `dropped` still counts
//! a quiet process's lines once a flood evicted them and its `exited`; `tend logs -f` prints
//! byte for byte what `tend logs` prints; what the capture ring dropped is said, in a header
//! and on stderr, never silently.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::AsyncReadExt;

use crate::real_daemon::RealDaemon;
use crate::server_support::send;

const LONG: Duration = Duration::from_secs(40);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_process_keeps_its_dropped_count_and_its_logs_after_a_flood() {
    let daemon = RealDaemon::start();
    let quiet = daemon.start_sh("echo one; echo two").await;
    daemon.wait_ended(&quiet, LONG).await;
    // Its two lines reached the event log before the flood.
    let path = format!("/processes/{quiet}/output");
    let deadline = Instant::now() + LONG;
    while daemon.call("GET", &path, None).await.json()["lines"].as_array().unwrap().len() < 2 {
        assert!(Instant::now() < deadline, "the quiet lines never reached the log");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let loud = daemon.start_sh("seq 1 1000000").await;
    daemon.wait_ended(&loud, LONG).await;

    // A million lines through a log of 100,000 events evict the quiet lines and `exited`.
    let deadline = Instant::now() + LONG;
    let page = loop {
        let page = daemon.call("GET", &path, None).await.json();
        if page["lines"].as_array().unwrap().is_empty() {
            break page;
        }
        assert!(Instant::now() < deadline, "the quiet lines were never evicted: {page}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(page["dropped"], 2, "both evicted lines are counted: {page}");

    let logs = daemon.tend(&["logs", &quiet]).await;
    assert!(logs.status.success(), "{logs:?}");
    assert_eq!(logs.stdout, b"one\ntwo\n");
    let follow = daemon.tend(&["logs", "-f", &quiet]).await;
    assert!(follow.status.success(), "{follow:?}");
    assert_eq!(follow.stdout, logs.stdout, "logs -f prints what logs prints");
    assert!(follow.stderr.is_empty(), "nothing was dropped: {follow:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_follow_prints_binary_output_byte_for_byte() {
    let daemon = RealDaemon::start();
    // \377 is 0xFF (not UTF-8), a NUL, CR LF kept, and a last line without a newline, written
    // in two goes so the follower sees part of it live.
    let id = daemon.start_sh(r"printf '\377\000a\r\n'; sleep 0.5; printf b").await;
    let follow = daemon.tend_command(&["logs", "-f", &id]).output();
    let follow = tokio::time::timeout(LONG, follow).await.expect("logs -f ends").unwrap();
    assert!(follow.status.success(), "{follow:?}");
    let logs = daemon.tend(&["logs", &id]).await;
    assert_eq!(logs.stdout, b"\xff\x00a\r\nb", "logs prints the bytes exactly");
    assert_eq!(follow.stdout, logs.stdout, "logs -f prints what logs prints");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_dropped_by_the_ring_are_said_before_what_is_shown() {
    // Log files that keep less than the ring (64 KiB, no rotated file): the ring's MiB is
    // the most the daemon still has.
    let daemon = RealDaemon::start_with(None, &["--log-max-size", "64KiB", "--log-keep", "0"]);
    // 300,000 numbered lines: 1,988,895 bytes through a ring of 1 MiB.
    let id = daemon.start_sh("seq 1 300000").await;
    daemon.wait_ended(&id, LONG).await;
    let total: u64 = (1..=300_000u64).map(|n| n.to_string().len() as u64 + 1).sum();

    let reply = daemon.call("GET", &format!("/processes/{id}/output?format=text"), None).await;
    let header = |name: &str| reply.header(name).unwrap_or_else(|| panic!("no {name}"));
    let dropped: u64 = header("x-tend-dropped-bytes").parse().unwrap();
    assert_eq!(dropped, total - (1 << 20), "everything but the last MiB was dropped");
    assert_eq!(header("x-tend-offset"), dropped.to_string());
    assert_eq!(header("x-tend-ended"), "true");
    // The head is cut unless the byte before it was a newline; the header says which.
    let all: Vec<u8> = (1..=300_000u64).flat_map(|n| format!("{n}\n").into_bytes()).collect();
    let cut = all[dropped as usize - 1] != b'\n';
    assert_eq!(header("x-tend-cut-line"), cut.to_string());
    assert_eq!(reply.body, all[dropped as usize..]);

    // The CLI says the same on stderr, and prints the bytes held.
    let logs = daemon.tend(&["logs", &id]).await;
    assert!(logs.status.success(), "{logs:?}");
    assert_eq!(logs.stdout, reply.body);
    let note = String::from_utf8_lossy(&logs.stderr);
    assert!(note.contains(&format!("{dropped} byte(s)")) && note.contains(&id), "{note}");
    assert_eq!(note.contains("cut"), cut, "{note}");
    // Following from the start says it too, and ends with the same bytes.
    let follow = daemon.tend(&["logs", "-f", &id]).await;
    assert_eq!((follow.stdout, follow.stderr), (logs.stdout, logs.stderr));

    // Asking from an offset inside what is held: nothing dropped before it.
    let from = dropped + 10;
    let reply = daemon
        .call("GET", &format!("/processes/{id}/output?format=text&offset={from}"), None)
        .await;
    assert_eq!(reply.header("x-tend-dropped-bytes"), Some("0"));
    assert_eq!(reply.body, all[from as usize..]);
}

/// Waits until the daemon's metric `name` satisfies `done`, failing with `what` after `LONG`.
async fn until_metric(daemon: &RealDaemon, name: &str, done: impl Fn(u64) -> bool, what: &str) {
    let deadline = Instant::now() + LONG;
    loop {
        let host = daemon.addr.to_string();
        let metrics = send(daemon.addr, "GET", "/metrics", &host, &[], b"").await;
        let text = String::from_utf8_lossy(&metrics.body).into_owned();
        let value =
            text.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok());
        if value.is_some_and(&done) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {name} is {value:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts `sh -c SCRIPT` with its stdin piped, for a script that reads `go` from it.
async fn start_waiting_for_go(daemon: &RealDaemon, script: &str) -> String {
    let body = json!({ "command": "sh", "args": ["-c", script], "stdin": "piped" });
    let reply = daemon.call("POST", "/processes", Some(body)).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    reply.json()["id"].as_str().unwrap().to_owned()
}

/// Sends `go` to the stdin of process `id`.
async fn say_go(daemon: &RealDaemon, id: &str) {
    let input = Some(json!({ "data": "go\n" }));
    let reply = daemon.call("POST", &format!("/processes/{id}/input"), input).await;
    assert_eq!(reply.status, 200, "{reply:?}");
}

/// The sockets process `pid` holds (their inodes).
fn sockets_of(pid: u32) -> BTreeSet<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|entries| {
            entries
                .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
                .map(|target| target.to_string_lossy().into_owned())
                .filter(|target| target.starts_with("socket:"))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_follow_waits_on_the_events_socket_without_asking_again() {
    follows_on_the_socket(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_follow_json_waits_on_the_events_socket_without_asking_again() {
    follows_on_the_socket(true).await;
}

/// `tend logs -f` (with `--json` when `json`) holds the events WebSocket and asks nothing
/// while its process is silent, then prints the next line and ends with the process.
async fn follows_on_the_socket(json: bool) {
    let daemon = RealDaemon::start();
    let id = start_waiting_for_go(&daemon, "echo first; read go; echo second").await;
    let mut args = vec!["logs", "-f", &id];
    if json {
        args.push("--json");
    }
    let mut follower = daemon.tend_command(&args).stdout(Stdio::piped()).spawn().unwrap();
    let pid = follower.id().unwrap();
    let mut stdout = follower.stdout.take().unwrap();
    let mut printed = Vec::new();
    let mut buffer = [0; 256];
    while !printed.ends_with(b"\n") {
        let n = tokio::time::timeout(LONG, stdout.read(&mut buffer)).await.expect("first").unwrap();
        assert!(n > 0, "logs -f ended early: {printed:?}");
        printed.extend_from_slice(&buffer[..n]);
    }

    // Following a silent process is one open connection, the events WebSocket ...
    let deadline = Instant::now() + LONG;
    until_metric(
        &daemon,
        "tend_websocket_clients",
        |n| n == 1,
        "logs -f never opened the events WebSocket",
    )
    .await;
    // ... and no new request (each would be a new connection) while it stays silent for 3 s,
    // once the request that follows the subscription is done.
    let mut held = sockets_of(pid);
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = sockets_of(pid);
        if now == held {
            break;
        }
        assert!(Instant::now() < deadline, "logs -f keeps opening connections");
        held = now;
    }
    let silent = Instant::now();
    while silent.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(sockets_of(pid), held, "logs -f opened another connection while waiting");
    }

    // Its next line is printed as soon as the process writes it; then it ends.
    say_go(&daemon, &id).await;
    tokio::time::timeout(LONG, stdout.read_to_end(&mut printed)).await.expect("ends").unwrap();
    let printed = String::from_utf8(printed).unwrap();
    if json {
        let lines: Vec<serde_json::Value> =
            printed.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        let texts: Vec<&str> = lines.iter().map(|line| line["line"].as_str().unwrap()).collect();
        assert_eq!(texts, ["first", "second"], "{printed}");
    } else {
        assert_eq!(printed, "first\nsecond\n");
    }
    let status = tokio::time::timeout(LONG, follower.wait()).await.expect("exits").unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_follow_stays_exact_when_its_events_lag() {
    // A log of 50 events: a burst of lines leaves the follower behind at once.
    let daemon = RealDaemon::start_with(None, &["--log-events", "50"]);
    let id = start_waiting_for_go(&daemon, "read go; seq 1 100000").await;
    let follow = tokio::spawn(daemon.tend_command(&["logs", "-f", &id]).output());
    until_metric(&daemon, "tend_websocket_clients", |n| n == 1, "not following").await;
    say_go(&daemon, &id).await;
    let follow = tokio::time::timeout(LONG, follow).await.expect("logs -f ends").unwrap().unwrap();
    assert!(follow.status.success(), "{follow:?}");
    let all: Vec<u8> = (1..=100_000u64).flat_map(|n| format!("{n}\n").into_bytes()).collect();
    assert!(follow.stdout == all, "every byte, in order ({} bytes)", follow.stdout.len());
    assert!(
        follow.stderr.is_empty(),
        "nothing dropped: {}",
        String::from_utf8_lossy(&follow.stderr)
    );
    // The follower was told it lagged (and asked for the bytes then).
    until_metric(&daemon, "tend_websocket_missed_events_total", |n| n > 0, "never lagged").await;
}
