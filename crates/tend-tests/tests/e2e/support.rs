//! Helpers shared by the managed-process and `tend run` tests: where the binaries are, bounded
//! polling, what `/proc` says about a process or a group, and a guard that kills strays.
//!
//! Every wait here has a deadline and fails the test with a message naming what it waited for;
//! nothing sleeps blindly.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use tend::{Process, StartOptions};

/// Generous bound for anything that should take milliseconds.
pub(crate) const DEADLINE: Duration = Duration::from_secs(10);

/// The fixture child binary of this package.
pub(crate) fn fixture_path() -> &'static str {
    env!("CARGO_BIN_EXE_tend-fixture")
}

/// Start options for the fixture in `mode` with `args`.
pub(crate) fn fixture(args: &[&str]) -> StartOptions {
    StartOptions::new(fixture_path()).args(args.iter().copied())
}

/// The `tend` binary of this build. It belongs to another package, so Cargo does not build it
/// for this test binary: `cargo nextest run --workspace` (and `scripts/test.sh`) do, and a
/// run limited to this package needs `cargo build -p tend-cli` first.
pub(crate) fn tend_bin() -> PathBuf {
    // …/target/<profile>/deps/e2e-<hash> → …/target/<profile>/tend
    let exe = std::env::current_exe().expect("path of the test binary");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>/deps");
    let tend = profile_dir.join("tend");
    assert!(
        tend.is_file(),
        "{} is missing: build it first with `cargo build -p tend-cli` (scripts/test.sh does)",
        tend.display()
    );
    tend
}

/// A multi-thread runtime like the one the `tend` binary uses, for tests that need to step
/// outside `async` (dropping a service, reading runtime metrics around a workload).
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("build a Tokio runtime")
}

/// Polls `condition` every 5 ms until it holds and returns how long that took; fails the
/// test naming `what` once `within` has passed.
pub(crate) fn eventually(
    within: Duration,
    what: &str,
    mut condition: impl FnMut() -> bool,
) -> Duration {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < within, "timed out after {within:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
    start.elapsed()
}

/// [`eventually`] for async tests: sleeps on the runtime's timer between polls.
pub(crate) async fn until(
    within: Duration,
    what: &str,
    mut condition: impl FnMut() -> bool,
) -> Duration {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < within, "timed out after {within:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    start.elapsed()
}

/// Waits until the captured stdout of `process` contains the line `line`.
pub(crate) async fn wait_for_line(process: &Process, line: &str) {
    let wanted = format!("{line}\n");
    until(DEADLINE, &format!("`{line}` from {}", process.id()), || {
        let stdout = process.output().stdout();
        String::from_utf8_lossy(&stdout).split_inclusive('\n').any(|l| l == wanted)
    })
    .await;
}

/// The PIDs in `pid N` lines (what `tend-fixture spawn` prints).
pub(crate) fn pids_in(text: &str) -> Vec<u32> {
    text.lines().filter_map(|line| line.strip_prefix("pid ")?.parse().ok()).collect()
}

/// The fields of `/proc/PID/stat` the tests look at.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stat {
    pub(crate) state: char,
    pub(crate) ppid: u32,
    pub(crate) pgrp: u32,
    pub(crate) session: u32,
}

/// `/proc/PID/stat`, or `None` when there is no such process.
pub(crate) fn stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: the fields start after the last `)`.
    let (_, rest) = text.rsplit_once(") ")?;
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    let mut number = || fields.next()?.parse().ok();
    Some(Stat { state, ppid: number()?, pgrp: number()?, session: number()? })
}

/// Whether `pid` is a live process: it exists and is not a zombie.
pub(crate) fn pid_alive(pid: u32) -> bool {
    stat(pid).is_some_and(|s| s.state != 'Z')
}

/// Every process on the system with its stat (processes that vanish meanwhile are skipped).
fn all_processes() -> Vec<(u32, Stat)> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, stat(pid)?)))
        .collect()
}

/// Live (non-zombie) members of process group `pgid`.
pub(crate) fn group_members(pgid: u32) -> Vec<u32> {
    all_processes()
        .into_iter()
        .filter(|(_, s)| s.pgrp == pgid && s.state != 'Z')
        .map(|(pid, _)| pid)
        .collect()
}

/// Whether process group `pgid` has a live member.
pub(crate) fn group_alive(pgid: u32) -> bool {
    !group_members(pgid).is_empty()
}

/// Children of this process that are zombies (exited, never reaped).
pub(crate) fn zombie_children() -> Vec<u32> {
    let me = std::process::id();
    all_processes()
        .into_iter()
        .filter(|(_, s)| s.ppid == me && s.state == 'Z')
        .map(|(pid, _)| pid)
        .collect()
}

/// Live children of `parent`.
pub(crate) fn children_of(parent: u32) -> Vec<u32> {
    all_processes()
        .into_iter()
        .filter(|(_, s)| s.ppid == parent && s.state != 'Z')
        .map(|(pid, _)| pid)
        .collect()
}

/// Sends `signal` to `pid`; a process that is already gone is fine.
pub(crate) fn send_signal(pid: u32, signal: rustix::process::Signal) {
    if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
        let _ = rustix::process::kill_process(pid, signal);
    }
}

/// SIGKILLs, when dropped, processes a test started outside tend's control (grandchildren,
/// detached children), so a failed assertion leaks nothing.
#[derive(Debug, Default)]
pub(crate) struct Strays(Vec<u32>);

impl Strays {
    /// Adds `pid` to the list and returns it.
    pub(crate) fn watch(&mut self, pid: u32) -> u32 {
        self.0.push(pid);
        pid
    }
}

impl Drop for Strays {
    fn drop(&mut self) {
        for &pid in &self.0 {
            // Only while it is still the process we saw: a dead PID may have been reused.
            if pid_alive(pid) {
                send_signal(pid, rustix::process::Signal::KILL);
            }
        }
    }
}

/// Sends each line of `stream` as it arrives; the channel disconnects at end-of-file.
pub(crate) fn line_channel(stream: impl Read + Send + 'static) -> Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// The next line from `lines`, failing the test after [`DEADLINE`].
pub(crate) fn next_line(lines: &Receiver<String>, what: &str) -> String {
    lines
        .recv_timeout(DEADLINE)
        .unwrap_or_else(|e| panic!("no line ({what}) within {DEADLINE:?}: {e}"))
}
