//! Helpers shared by every e2e module: the one home of where the binaries are (the fixture,
//! `tend`, the daemon example) and of bounded polling, sync ([`eventually`],
//! [`eventually_some`]) and async ([`until`], [`until_some`], [`holds_within`]); also what
//! `/proc` says about a process or a group, and a guard that kills strays.
//!
//! Every wait here has a deadline and fails the test with a message naming what it waited for
//! ([`holds_within`] instead answers whether it held, for tests with their own message);
//! nothing sleeps blindly. Async tests use the async variants: the sync ones block the thread,
//! and with it a current-thread runtime's other tasks.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use tend::{Process, StartOptions};

/// Generous bound for anything that should take milliseconds.
pub(crate) const DEADLINE: Duration = Duration::from_secs(10);

/// The fixture child binary of this package.
pub(crate) const FIXTURE: &str = env!("CARGO_BIN_EXE_tend-fixture");

/// The fixture child binary of this package ([`FIXTURE`], for call sites that read better
/// as a call).
pub(crate) fn fixture_path() -> &'static str {
    FIXTURE
}

/// Start options for the fixture in `mode` with `args`.
pub(crate) fn fixture(args: &[&str]) -> StartOptions {
    StartOptions::new(fixture_path()).args(args.iter().copied())
}

/// The `tend` binary, built for this test run.
pub(crate) fn tend_bin() -> PathBuf {
    built_binaries().join("tend")
}

/// The `daemon` example of the library crate, built for this test run.
pub(crate) fn example_bin() -> PathBuf {
    built_binaries().join("examples").join("daemon")
}

/// The profile directory (`target/debug`), after making sure `tend` and the example exist.
/// They belong to other packages, so Cargo does not build them for this test binary;
/// `scripts/test.sh` builds them before the tests start. When they are missing under nextest
/// (which holds no Cargo lock while tests run) this builds them once; running `cargo build`
/// in every test process instead costs a second each on a busy machine.
fn built_binaries() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // …/target/<profile>/deps/e2e-<hash> → …/target/<profile>
        let exe = std::env::current_exe().expect("test binary path");
        let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
        let binaries = [profile_dir.join("tend"), profile_dir.join("examples/daemon")];
        if std::env::var_os("NEXTEST").is_some() && !binaries.iter().all(|b| b.exists()) {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut build = Command::new(cargo);
            build
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .args(["build", "--quiet", "-p", "tend-cli", "--bin", "tend"])
                .args(["-p", "tend", "--example", "daemon"]);
            if profile_dir.file_name().is_some_and(|name| name == "release") {
                build.arg("--release");
            }
            let output = build.output().expect("run cargo build");
            assert!(
                output.status.success(),
                "cargo build failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        for binary in binaries {
            assert!(
                binary.exists(),
                "{} is missing: cargo build -p tend-cli --bin tend -p tend --example daemon",
                binary.display()
            );
        }
        profile_dir.to_path_buf()
    })
    .clone()
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

/// Time between two polls of a condition.
const POLL: Duration = Duration::from_millis(5);

/// Polls `check` until it returns `Some` and returns the value; fails the test naming `what`
/// once `within` has passed. Blocks the thread between polls: in async tests use
/// [`until_some`], which lets the runtime's other tasks run.
pub(crate) fn eventually_some<T>(
    within: Duration,
    what: &str,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(start.elapsed() < within, "timed out after {within:?} waiting for {what}");
        std::thread::sleep(POLL);
    }
}

/// Polls `condition` until it holds and returns how long that took; fails the test naming
/// `what` once `within` has passed. Blocking, like [`eventually_some`]; async tests use
/// [`until`].
pub(crate) fn eventually(
    within: Duration,
    what: &str,
    mut condition: impl FnMut() -> bool,
) -> Duration {
    let start = Instant::now();
    eventually_some(within, what, || condition().then_some(()));
    start.elapsed()
}

/// [`eventually_some`] for async tests: sleeps on the runtime's timer between polls.
pub(crate) async fn until_some<T>(
    within: Duration,
    what: &str,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(start.elapsed() < within, "timed out after {within:?} waiting for {what}");
        tokio::time::sleep(POLL).await;
    }
}

/// [`eventually`] for async tests: sleeps on the runtime's timer between polls.
pub(crate) async fn until(
    within: Duration,
    what: &str,
    mut condition: impl FnMut() -> bool,
) -> Duration {
    let start = Instant::now();
    until_some(within, what, || condition().then_some(())).await;
    start.elapsed()
}

/// Whether `condition` comes to hold within `within` (polled as [`until`] does), for tests
/// that assert with their own message.
pub(crate) async fn holds_within(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if condition() {
            return true;
        }
        if start.elapsed() >= within {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits for a child to exit within `timeout`, else kills it (so nothing leaks) and fails
/// the test.
pub(crate) fn wait_child(child: &mut Child, timeout: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if start.elapsed() >= timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("process {} still running after {timeout:?}", child.id());
        }
        std::thread::sleep(POLL);
    }
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
