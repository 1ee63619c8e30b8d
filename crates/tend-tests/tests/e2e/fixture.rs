//! The fixture child does what its modes say. Other tests lean on it, so its behaviour is
//! pinned here with plain `std::process` and no tend code in the way.

use std::io::{BufRead, BufReader, Read, Write};
use std::ops::{Deref, DerefMut};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// Generous bound for anything that should take milliseconds.
pub(crate) const DEADLINE: Duration = Duration::from_secs(10);

pub(crate) fn fixture(args: &[&str]) -> Command {
    let mut command = Command::new(crate::support::FIXTURE);
    command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

/// A spawned fixture that is SIGKILLed and reaped when dropped, so a failed assertion leaks
/// no process. (`std` never signals a child it has already reaped, so PID reuse is no risk.)
pub(crate) struct Running(Child);

impl Running {
    pub(crate) fn spawn(mut command: Command) -> Self {
        Running(command.spawn().expect("spawn tend-fixture"))
    }
}

impl Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// SIGKILLs processes that are not our children (the fixture's own children) when dropped,
/// unless a test has already ended them and said so with [`Strays::forget`].
#[derive(Default)]
struct Strays(Vec<u32>);

impl Strays {
    fn watch(&mut self, pid: u32) -> u32 {
        self.0.push(pid);
        pid
    }

    fn forget(&mut self) {
        self.0.clear();
    }
}

impl Drop for Strays {
    fn drop(&mut self) {
        for &pid in &self.0 {
            kill(pid, rustix::process::Signal::KILL);
        }
    }
}

pub(crate) fn kill(pid: u32, signal: rustix::process::Signal) {
    if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
        // Already gone is fine: that is what we wanted.
        let _ = rustix::process::kill_process(pid, signal);
    }
}

/// Whether `pid` is a live process (not gone, not a zombie).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
        .unwrap_or(false)
}

pub(crate) fn wait_bounded(child: &mut Child) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "fixture {} did not exit within {DEADLINE:?}",
            child.id()
        );
        thread::sleep(Duration::from_millis(5));
    }
}

/// Reads a whole stream on a thread, so neither pipe can fill up and block the child.
fn drain(stream: impl Read + Send + 'static) -> Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut stream = stream;
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        let _ = tx.send(bytes);
    });
    rx
}

pub(crate) struct Ran {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
}

/// Runs the fixture to completion (it must leave no descendant holding its pipes).
fn run_with_input(args: &[&str], input: Option<&[u8]>) -> Ran {
    let mut command = fixture(args);
    if input.is_some() {
        command.stdin(Stdio::piped());
    }
    run_command_with_input(command, input)
}

/// Runs a [`fixture`] command (its environment or directory changed) to completion.
pub(crate) fn run_command(command: Command) -> Ran {
    run_command_with_input(command, None)
}

fn run_command_with_input(command: Command, input: Option<&[u8]>) -> Ran {
    let mut child = Running::spawn(command);
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    if let Some(input) = input {
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input).expect("write stdin");
        // Dropping stdin closes it: that is the EOF the child waits for.
    }
    let status = wait_bounded(&mut child);
    let stdout = stdout.recv_timeout(DEADLINE).expect("stdout closed");
    let stderr = stderr.recv_timeout(DEADLINE).expect("stderr closed");
    Ran { status, stdout, stderr }
}

pub(crate) fn run(args: &[&str]) -> Ran {
    run_with_input(args, None)
}

/// Sends each line of a stream as it arrives; the channel disconnects at EOF.
pub(crate) fn lines(stream: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

pub(crate) fn next_line(rx: &Receiver<String>) -> String {
    rx.recv_timeout(DEADLINE).expect("a line within the deadline")
}

#[test]
fn lines_prints_numbered_lines_on_the_chosen_stream() {
    let ran = run(&["lines", "3"]);
    assert!(ran.status.success());
    assert_eq!(ran.stdout, b"line 1\nline 2\nline 3\n");
    assert!(ran.stderr.is_empty());

    let ran = run(&["lines", "--stream", "stderr", "2", "--prefix", "e"]);
    assert_eq!((ran.stdout.as_slice(), ran.stderr.as_slice()), (&b""[..], &b"e1\ne2\n"[..]));

    let ran = run(&["lines", "2", "--stream", "both"]);
    assert_eq!(ran.stdout, b"line 1\nline 2\n");
    assert_eq!(ran.stderr, b"line 1\nline 2\n");
}

#[test]
fn bytes_writes_decoded_escapes_and_nothing_else() {
    let ran = run(&["bytes", r"a\r\n\x00\xff\tb\\"]);
    assert!(ran.status.success());
    assert_eq!(ran.stdout, b"a\r\n\x00\xff\tb\\");

    let ran = run(&["bytes", "--stderr", r"no newline\xC3\xA9"]);
    assert_eq!(ran.stderr, "no newlineé".as_bytes());
    assert!(ran.stdout.is_empty());

    let ran = run(&["bytes", r"\xZZ"]);
    assert_eq!(ran.status.code(), Some(2));
}

#[test]
fn flood_and_long_write_exact_sizes() {
    let ran = run(&["flood", "1050", "--line-len", "100"]);
    assert!(ran.status.success());
    assert_eq!(ran.stdout.len(), 1050);
    let lines: Vec<&[u8]> = ran.stdout.split_inclusive(|&b| b == b'\n').collect();
    assert_eq!(lines.len(), 11);
    assert!(lines[..10].iter().all(|l| l.len() == 100 && l.ends_with(b"\n")));
    assert_eq!(lines[10].len(), 50);

    let ran = run(&["flood", "3000000"]);
    assert_eq!(ran.stdout.len(), 3_000_000);
    assert_eq!(ran.stdout.iter().filter(|&&b| b == b'\n').count(), 30_000);

    let ran = run(&["long", "1048577"]);
    assert!(ran.status.success());
    assert_eq!(ran.stdout.len(), 1_048_577);
    assert!(ran.stdout.iter().all(|&b| b == b'x'));
}

#[test]
fn interleave_alternates_streams() {
    let ran = run(&["interleave", "3"]);
    assert!(ran.status.success());
    assert_eq!(ran.stdout, b"out 1\nout 2\nout 3\n");
    assert_eq!(ran.stderr, b"err 1\nerr 2\nerr 3\n");
}

#[test]
fn exit_codes_and_usage_errors() {
    assert_eq!(run(&["exit", "7"]).status.code(), Some(7));
    assert_eq!(run(&["exit", "0"]).status.code(), Some(0));

    let ran = run(&["no-such-mode"]);
    assert_eq!(ran.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&ran.stderr).contains("unknown mode `no-such-mode`"));

    for bad in [&["lines", "many"][..], &["lines"], &["sleep", "-1"], &["exit", "1", "2"], &[]] {
        let ran = run(bad);
        assert_eq!(ran.status.code(), Some(2), "{bad:?}");
        assert!(!ran.stderr.is_empty(), "{bad:?}");
    }
}

#[test]
fn signal_mode_dies_by_that_signal() {
    for (name, number) in [("TERM", 15), ("KILL", 9), ("SIGINT", 2), ("hup", 1), ("SEGV", 11)] {
        let ran = run(&["signal", name]);
        assert_eq!(ran.status.signal(), Some(number), "signal {name}: {:?}", ran.status);
    }
    assert_eq!(run(&["signal", "NOPE"]).status.code(), Some(2));
}

#[test]
fn echo_copies_stdin_exactly_until_eof() {
    let input = b"one\r\ntwo \xff\n\nlast without newline";
    let ran = run_with_input(&["echo"], Some(input));
    assert!(ran.status.success());
    assert_eq!(ran.stdout, input);
    assert_eq!(ran.stderr, b"eof\n");
}

#[test]
fn env_and_pwd_report_what_the_child_got() {
    let ran = run_with_input(&["env", "TEND_FIXTURE_PROBE"], None);
    assert_eq!(ran.stdout, b"<unset>\n");

    let dir = tempfile::tempdir().unwrap();
    let mut command = fixture(&["pwd"]);
    command.current_dir(dir.path());
    let mut child = Running::spawn(command);
    let out = drain(child.stdout.take().unwrap());
    assert!(wait_bounded(&mut child).success());
    let printed = String::from_utf8(out.recv_timeout(DEADLINE).unwrap()).unwrap();
    assert_eq!(printed.trim_end(), dir.path().canonicalize().unwrap().to_str().unwrap());

    let mut command = fixture(&["env", "TEND_FIXTURE_PROBE"]);
    command.env("TEND_FIXTURE_PROBE", "a value");
    let mut child = Running::spawn(command);
    let out = drain(child.stdout.take().unwrap());
    assert!(wait_bounded(&mut child).success());
    assert_eq!(out.recv_timeout(DEADLINE).unwrap(), b"a value\n");
}

#[test]
fn sleep_says_ready_then_sleeps() {
    let start = Instant::now();
    let ran = run(&["sleep", "0.3"]);
    assert!(ran.status.success());
    assert_eq!(ran.stdout, b"ready\n");
    assert!(start.elapsed() >= Duration::from_millis(300));
}

#[test]
fn ignore_term_survives_sigterm_and_reports_it() {
    let mut child = Running::spawn(fixture(&["ignore-term", "30"]));
    let pid = child.id();
    let out = lines(child.stdout.take().unwrap());
    assert_eq!(next_line(&out), "ready");

    kill(pid, rustix::process::Signal::TERM);
    assert_eq!(next_line(&out), "got SIGTERM");
    kill(pid, rustix::process::Signal::TERM);
    assert_eq!(next_line(&out), "got SIGTERM");
    assert!(child.try_wait().unwrap().is_none(), "SIGTERM ended the fixture");

    kill(pid, rustix::process::Signal::KILL);
    assert_eq!(wait_bounded(&mut child).signal(), Some(9));
}

#[test]
fn grandchild_holds_the_pipe_after_its_parent_exits() {
    let mut strays = Strays::default();
    let mut child = Running::spawn(fixture(&["grandchild", "30"]));
    let out = lines(child.stdout.take().unwrap());
    let err = lines(child.stderr.take().unwrap());
    let grandchild: u32 = next_line(&err)
        .strip_prefix("grandchild ")
        .and_then(|pid| pid.parse().ok())
        .expect("`grandchild PID` on stderr");
    strays.watch(grandchild);

    assert!(wait_bounded(&mut child).success(), "the parent exits at once");
    let mut seen = vec![next_line(&out), next_line(&out)];
    seen.sort();
    assert_eq!(seen, ["hi", "ready"], "the parent's `hi`, the grandchild's `ready`");
    assert!(alive(grandchild));
    // The grandchild still holds stdout, so no EOF yet.
    assert_eq!(out.recv_timeout(Duration::from_millis(200)), Err(RecvTimeoutError::Timeout));

    kill(grandchild, rustix::process::Signal::KILL);
    strays.forget();
    assert_eq!(out.recv_timeout(DEADLINE), Err(RecvTimeoutError::Disconnected), "EOF once it dies");
}

#[test]
fn spawn_starts_children_and_names_them() {
    let mut strays = Strays::default();
    let mut child = Running::spawn(fixture(&["spawn", "2", "30"]));
    let parent = child.id();
    let out = lines(child.stdout.take().unwrap());
    let mut pids = Vec::new();
    for _ in 0..2 {
        let line = next_line(&out);
        let pid: u32 = line.strip_prefix("pid ").and_then(|p| p.parse().ok()).expect(&line);
        pids.push(strays.watch(pid));
    }
    assert_eq!(next_line(&out), "ready");
    for &pid in &pids {
        assert!(alive(pid), "child {pid} is running");
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let ppid: u32 =
            stat.rsplit_once(") ").unwrap().1.split(' ').nth(1).unwrap().parse().unwrap();
        assert_eq!(ppid, parent);
    }
    // The children do not hold the pipe (stdio null): killing the parent alone gives EOF.
    kill(parent, rustix::process::Signal::KILL);
    assert_eq!(wait_bounded(&mut child).signal(), Some(9));
    assert_eq!(out.recv_timeout(DEADLINE), Err(RecvTimeoutError::Disconnected));
    assert!(pids.iter().all(|&pid| alive(pid)), "the orphans live on until killed");
    for &pid in &pids {
        kill(pid, rustix::process::Signal::KILL);
    }
    strays.forget();
}
