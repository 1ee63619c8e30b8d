//! What each managed process costs the real `tend daemon` in descriptors: its two output
//! pipes and its pidfd, and its log file only while it prints (opened at its first output,
//! closed after 2 s of quiet): the open-file limit bounds how many processes a daemon can
//! hold, and 20,000 descriptors allow about 6,600 of them.

use std::time::Duration;

use crate::cli_client_commands::DaemonUnderTest;
use crate::support::eventually;

const LONG: Duration = Duration::from_secs(40);
/// Silent processes started.
const SILENT: usize = 30;

/// Descriptors the daemon holds now.
fn descriptors(daemon: &DaemonUnderTest) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", daemon.pid())).unwrap().count()
}

#[test]
fn a_silent_managed_process_costs_the_daemon_three_descriptors_and_no_log_file() {
    let mut daemon = DaemonUnderTest::start();
    // One start first: the runtime's and the guardian's own descriptors are open by then.
    let first = daemon.ok(&["start", "--no-stdin", "--", "sleep", "600"]).trim().to_owned();
    let before = descriptors(&daemon);
    let ids: Vec<String> = (0..SILENT)
        .map(|_| daemon.ok(&["start", "--no-stdin", "--", "sleep", "600"]).trim().to_owned())
        .collect();
    let added = descriptors(&daemon) - before;
    // 3 each (two pipes, a pidfd; `tend start` without `--no-stdin` adds a stdin pipe); a log
    // file open for each would make it 4 each.
    assert!(added <= 3 * SILENT + 5, "{added} descriptors for {SILENT} silent processes");
    let logs = daemon.state_dir().join("logs");
    for id in ids.iter().chain([&first]) {
        assert!(!logs.join(format!("{id}.log")).exists(), "no log file for silent {id}");
    }

    // One that prints: its file holds exactly what it printed, once it has printed.
    let before = descriptors(&daemon);
    let chatty =
        daemon.ok(&["start", "--no-stdin", "--", "sh", "-c", "printf 'one\\ntwo'; exec sleep 600"]);
    let path = logs.join(format!("{}.log", chatty.trim()));
    eventually(LONG, "the output in its log file", || {
        std::fs::read(&path).is_ok_and(|bytes| bytes == b"one\n")
    });
    // Quiet for 2 s, its log file is closed: 3 again (the held partial line kept in memory).
    eventually(LONG, "its log file closed once it is quiet", || descriptors(&daemon) - before <= 3);
    let printed = daemon.ok(&["logs", chatty.trim()]);
    assert_eq!(printed, "one\ntwo", "tend logs: the exact output, the partial line included");
    assert!(daemon.terminate().success());
}
