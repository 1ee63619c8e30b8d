//! The real `tend daemon` binary and the client commands, as a user types them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::server_support::FIXTURE;
use crate::support::{eventually, tend_bin, wait_child};

const LONG: Duration = Duration::from_secs(20);

/// A `tend daemon` on a free port with its own state and registry directories (also used by
/// the `terminal`, `soak` and `durations_*` tests).
pub(crate) struct DaemonUnderTest {
    child: Option<Child>,
    pub(crate) url: String,
    dir: tempfile::TempDir,
}

impl DaemonUnderTest {
    pub(crate) fn start() -> Self {
        Self::start_with(&[])
    }

    /// Started with `tend daemon --grace GRACE`.
    pub(crate) fn start_with_grace(grace: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let command = daemon_command_with_grace(dir.path(), grace);
        Self::spawn(dir, command)
    }

    /// [`start`](Self::start) with more `tend daemon` options.
    pub(crate) fn start_with(options: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut command = daemon_command(dir.path());
        command.args(options);
        Self::spawn(dir, command)
    }

    fn spawn(dir: tempfile::TempDir, mut command: Command) -> Self {
        let mut child = command.stdout(Stdio::piped()).spawn().expect("spawn tend daemon");
        let url = crate::real_daemon::listening_url(&mut child, LONG);
        Self { child: Some(child), url, dir }
    }

    pub(crate) fn state_dir(&self) -> PathBuf {
        self.dir.path().join("xdg/tend")
    }

    fn registry_dir(&self) -> PathBuf {
        self.dir.path().join("registry")
    }

    /// `tend ARGS` against this daemon, with the token from its state dir.
    pub(crate) fn tend(&self, args: &[&str]) -> Output {
        self.tend_with_stdin(args, b"")
    }

    /// The `tend ARGS` command, pointed at this daemon as a user's environment would.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(tend_bin());
        command
            .args(args)
            .env("TEND_SERVER", &self.url)
            // The client finds the token where the daemon put it: $XDG_STATE_HOME/tend.
            .env("XDG_STATE_HOME", self.dir.path().join("xdg"))
            .env("TEND_REGISTRY_DIR", self.registry_dir())
            .env_remove("TEND_TOKEN");
        command
    }

    fn tend_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut command = self.command(args);
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().expect("spawn tend");
        use std::io::Write;
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let deadline = Instant::now() + LONG;
        loop {
            if child.try_wait().unwrap().is_some() {
                return child.wait_with_output().unwrap();
            }
            assert!(Instant::now() < deadline, "tend {args:?} hung");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let output = self.tend(args);
        assert!(output.status.success(), "tend {args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    }

    /// The daemon's stderr (its log), to read while it runs.
    pub(crate) fn take_stderr(&mut self) -> std::process::ChildStderr {
        self.child.as_mut().expect("running").stderr.take().expect("stderr not taken yet")
    }

    /// The daemon's PID.
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub(crate) fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        signal(child.id(), "TERM");
        wait_child(&mut child, LONG)
    }
}

impl Drop for DaemonUnderTest {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn daemon_command(dir: &Path) -> Command {
    daemon_command_with_grace(dir, "2s")
}

fn daemon_command_with_grace(dir: &Path, grace: &str) -> Command {
    let mut command = Command::new(tend_bin());
    command
        .args(["daemon", "--listen", "127.0.0.1:0", "--grace", grace, "--state-dir"])
        .arg(dir.join("xdg/tend"))
        .arg("--registry-dir")
        .arg(dir.join("registry"))
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    command
}

fn signal(pid: u32, name: &str) {
    let status =
        Command::new("kill").arg(format!("-{name}")).arg(pid.to_string()).status().unwrap();
    assert!(status.success());
}

fn alive(pid: u32) -> bool {
    // A zombie is not alive for this purpose: read its state.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
        .unwrap_or(false)
}

#[test]
fn client_commands_end_to_end() {
    let daemon = DaemonUnderTest::start();
    let id = daemon.ok(&[
        "start",
        "--name",
        "greeter",
        "--label",
        "team=core",
        "-C",
        "/",
        "-e",
        "WHO=you",
        "--",
        "sh",
        "-c",
        "echo hello $WHO; pwd; echo oops >&2",
    ]);
    let id = id.trim();
    assert_eq!(id.len(), 36, "a full id: {id}");
    assert_eq!(daemon.tend(&["wait", "greeter"]).status.code(), Some(0));
    // Two pipes: the order within a stream is kept, the order across them is not defined.
    let logs = daemon.ok(&["logs", "greeter"]);
    let stdout: Vec<&str> = logs.lines().filter(|l| *l != "oops").collect();
    assert_eq!(stdout, ["hello you", "/"], "{logs:?}");
    assert_eq!(logs.lines().filter(|l| *l == "oops").count(), 1, "{logs:?}");

    let table = daemon.ok(&["ps", "--all"]);
    let header = table.lines().next().unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["ID", "NAME", "PROJECT", "PID", "STATUS", "RESTARTS", "CPU", "MEM", "UPTIME", "COMMAND"],
        "{table}"
    );
    let row = table.lines().find(|l| l.contains("greeter")).expect("greeter row");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        (cells[1], cells[2], cells[4], cells[5]),
        ("greeter", "-", "exited(0)", "0"),
        "{row}"
    );
    assert!(cells[3].parse::<u32>().is_ok(), "PID: {row}");
    // Not running: no CPU or memory figure.
    assert_eq!((cells[6], cells[7]), ("-", "-"), "{row}");
    assert!(cells[8].chars().next().is_some_and(|c| c.is_ascii_digit()), "UPTIME: {row}");
    assert!(row.contains("sh -c"), "{row}");
    let short = row.split_whitespace().next().unwrap();
    assert!(id.starts_with(short), "short id {short} is a prefix of {id}");
    let json: serde_json::Value =
        serde_json::from_str(&daemon.ok(&["ps", "--all", "--json"])).unwrap();
    assert_eq!(json[0]["labels"]["team"], "core");
    assert!(!daemon.ok(&["ps"]).contains("greeter"), "finished ones only with --all");

    // Exit statuses as `tend run` gives them.
    daemon.ok(&["start", "--name", "three", "--", FIXTURE, "exit", "3"]);
    assert_eq!(daemon.tend(&["wait", "three"]).status.code(), Some(3));
    daemon.ok(&["start", "--name", "slow", "--timeout", "300ms", "--", FIXTURE, "sleep", "30"]);
    assert_eq!(daemon.tend(&["wait", "slow"]).status.code(), Some(124));

    // stdin through `input` and `close-stdin`.
    daemon.ok(&["start", "--name", "echo", "--", FIXTURE, "echo"]);
    daemon.ok(&["input", "echo", "first"]);
    daemon.tend_with_stdin(&["input", "echo", "-"], b"second\n");
    // Echoed before stdin closes, so `eof` (on the other pipe) surely comes after.
    eventually(LONG, "both lines echoed", || daemon.ok(&["logs", "echo"]) == "first\nsecond\n");
    daemon.ok(&["close-stdin", "echo"]);
    assert_eq!(daemon.tend(&["wait", "echo"]).status.code(), Some(0));
    assert_eq!(daemon.ok(&["logs", "echo"]), "first\nsecond\neof\n");

    // signal, stop, kill, rm.
    daemon.ok(&["start", "--name", "victim", "--", FIXTURE, "sleep", "30"]);
    eventually(LONG, "victim ready", || daemon.ok(&["logs", "victim"]) == "ready\n");
    daemon.ok(&["signal", "victim", "USR1"]);
    assert_eq!(daemon.tend(&["wait", "victim"]).status.code(), Some(128 + 10));
    daemon.ok(&["start", "--name", "stubborn", "--", FIXTURE, "ignore-term", "30"]);
    eventually(LONG, "stubborn ready", || daemon.ok(&["logs", "stubborn"]).contains("ready"));
    assert_eq!(daemon.ok(&["stop", "stubborn", "--grace", "200ms"]).trim(), "killed");
    daemon.ok(&["start", "--name", "sleeper", "--", FIXTURE, "sleep", "30"]);
    let refused = daemon.tend(&["rm", "sleeper"]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("still running"));
    daemon.ok(&["kill", "sleeper"]);
    assert_eq!(daemon.tend(&["wait", "sleeper"]).status.code(), Some(128 + 9));
    daemon.ok(&["rm", "sleeper"]);
    let gone = daemon.tend(&["logs", "sleeper"]);
    assert_eq!(gone.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&gone.stderr).contains("no process `sleeper`"));

    // Usage errors exit 2 and name the input.
    let bad = daemon.tend(&["start", "--label", "nokey", "--", "true"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("nokey"));
    let bad_signal = daemon.tend(&["signal", "victim", "NOPE"]);
    assert_eq!(bad_signal.status.code(), Some(2));
}

#[test]
fn logs_follow_streams_until_the_process_ends() {
    let daemon = DaemonUnderTest::start();
    daemon.ok(&["start", "--name", "chat", "--", FIXTURE, "echo"]);
    daemon.ok(&["input", "chat", "before"]);
    let mut follower = daemon
        .command(&["logs", "-f", "chat"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tend logs -f");
    let stdout = follower.stdout.take().unwrap();
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    assert_eq!(received.recv_timeout(LONG).unwrap(), "before", "what was printed before");
    // Live: a line sent after `logs -f` started arrives while it keeps running.
    daemon.ok(&["input", "chat", "during"]);
    assert_eq!(received.recv_timeout(LONG).unwrap(), "during");
    assert!(follower.try_wait().unwrap().is_none(), "still following a running process");
    daemon.ok(&["close-stdin", "chat"]);
    let status = wait_child(&mut follower, LONG);
    assert!(status.success(), "{status:?}");
    // Like `tend logs`, -f prints the captured bytes of both streams in order on stdout.
    assert_eq!(received.recv_timeout(LONG).unwrap(), "eof", "its stderr, in capture order");
    assert!(received.recv_timeout(LONG).is_err(), "nothing more on stdout");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut follower.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(stderr, "", "nothing was dropped, so nothing to say");
    assert_eq!(daemon.ok(&["logs", "chat"]), "before\nduring\neof\n", "the same as logs");
}

#[test]
fn files_second_daemon_and_graceful_stop() {
    use std::os::unix::fs::PermissionsExt;
    let mut daemon = DaemonUnderTest::start();
    let token = daemon.state_dir().join("token");
    assert_eq!(std::fs::metadata(&token).unwrap().permissions().mode() & 0o777, 0o600);
    let files: Vec<PathBuf> = std::fs::read_dir(daemon.registry_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(files.len(), 1, "one registry entry: {files:?}");
    let entry: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    assert_eq!(entry["code"].as_str(), Some("tend"));
    let name = entry["daemon"].as_str().unwrap();
    assert!(
        name.starts_with("supervisor.") && name.len() == 43,
        "named after the state dir: {name}"
    );
    let canonical = daemon.state_dir().canonicalize().unwrap();
    assert_eq!(entry["state_dir"].as_str(), canonical.to_str());
    assert_eq!(format!("http://{}", entry["health"].as_str().unwrap()), daemon.url);
    let daemon_pid = daemon.child.as_ref().unwrap().id();

    let second = daemon_command(daemon.dir.path()).stdout(Stdio::piped()).output().unwrap();
    assert_eq!(second.status.code(), Some(1));
    let message = String::from_utf8_lossy(&second.stderr);
    assert!(message.contains(&format!("PID {daemon_pid}")), "{message}");

    // Managed processes with children of their own; SIGTERM ends them all.
    daemon.ok(&["start", "--name", "family", "--", FIXTURE, "spawn", "2", "60"]);
    daemon.ok(&["start", "--name", "stubborn", "--", FIXTURE, "ignore-term", "60"]);
    eventually(LONG, "family ready", || daemon.ok(&["logs", "family"]).contains("ready"));
    eventually(LONG, "stubborn ready", || daemon.ok(&["logs", "stubborn"]).contains("ready"));
    let ps: serde_json::Value = serde_json::from_str(&daemon.ok(&["ps", "--json"])).unwrap();
    let mut pids: Vec<u32> =
        ps.as_array().unwrap().iter().map(|i| i["pid"].as_u64().unwrap() as u32).collect();
    for line in daemon.ok(&["logs", "family"]).lines() {
        if let Some(pid) = line.strip_prefix("pid ") {
            pids.push(pid.parse().unwrap());
        }
    }
    assert_eq!(pids.len(), 4, "two leaders and two grandchildren: {pids:?}");

    let status = daemon.terminate();
    assert_eq!(status.code(), Some(0), "clean exit on SIGTERM");
    eventually(LONG, "every managed process gone", || pids.iter().all(|&pid| !alive(pid)));
    let left = std::fs::read_dir(daemon.registry_dir())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|e| e == "json"))
        .count();
    assert_eq!(left, 0, "unregistered");

    // The PID file was released: a new daemon starts in the same state dir, same token.
    let mut child = daemon_command(daemon.dir.path()).stdout(Stdio::piped()).spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with("listening on http://127.0.0.1:"), "{first}");
    signal(child.id(), "INT");
    assert_eq!(wait_child(&mut child, LONG).code(), Some(0), "clean exit on SIGINT");
}

#[test]
fn start_with_a_restart_policy() {
    let daemon = DaemonUnderTest::start();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().to_str().unwrap();
    // Fails on its first run, succeeds on the second.
    let script = "if [ -f ran ]; then echo second; exit 0; fi; touch ran; echo first; exit 1";
    daemon.ok(&[
        "start",
        "--name",
        "flaky",
        "--restart",
        "on_failure",
        "-C",
        dir,
        "--",
        "sh",
        "-c",
        script,
    ]);
    assert_eq!(daemon.tend(&["wait", "flaky"]).status.code(), Some(0));
    let list: serde_json::Value =
        serde_json::from_str(&daemon.ok(&["ps", "--all", "--json"])).unwrap();
    assert_eq!(
        (list[0]["status"].as_str(), list[0]["restarts"].as_u64()),
        (Some("exited"), Some(1))
    );
    let bad = daemon.tend(&["start", "--restart", "sometimes", "--", "true"]);
    assert_eq!(bad.status.code(), Some(2), "an invalid option is a usage error: {bad:?}");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("restart"));
}

#[test]
fn no_daemon_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    // A port nobody listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let output = Command::new(tend_bin())
        .args(["ps", "--token", "x", "--server", &format!("http://127.0.0.1:{port}")])
        .env("TEND_REGISTRY_DIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let message = String::from_utf8(output.stderr).unwrap();
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains("tend daemon"), "says how to start it: {message}");

    let remote = Command::new(tend_bin())
        .args(["daemon", "--listen", "0.0.0.0:0", "--state-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(remote.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&remote.stderr).contains("--allow-remote"));
}

#[test]
fn a_client_before_any_daemon_says_how_to_start_one() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(tend_bin())
        .arg("ps")
        .env("XDG_STATE_HOME", dir.path())
        .env("TEND_REGISTRY_DIR", dir.path().join("registry"))
        .env_remove("TEND_SERVER")
        .env_remove("TEND_TOKEN")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("start one with `tend daemon`"), "{stderr}");
    assert!(stderr.contains(&dir.path().join("tend").display().to_string()), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
}
