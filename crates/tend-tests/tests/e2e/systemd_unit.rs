//! `tend daemon` under systemd (issue 14): `--print-systemd-unit` prints a unit that
//! `systemd-analyze verify` accepts, without starting a daemon; the daemon tells a
//! `NOTIFY_SOCKET` `READY=1` once it serves and `STOPPING=1` as soon as it begins to stop.
//!
//! `systemd-analyze` must be installed (Debian package `systemd`; `scripts/test.sh` installs
//! it): the verify test fails, never skips, without it.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::daemon_support::port_open;
use crate::real_daemon::listening_url;
use crate::support::{FIXTURE, eventually, pid_alive, send_signal, tend_bin, wait_child};

const LONG: Duration = Duration::from_secs(20);

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `tend ARGS` in `cwd`, to its end.
fn tend_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(tend_bin())
        .args(args)
        .current_dir(cwd)
        .env_remove("NOTIFY_SOCKET")
        .stdin(Stdio::null())
        .output()
        .expect("run tend")
}

/// The built `tend` as `current_exe` names it (symlinks resolved).
fn tend_path() -> PathBuf {
    std::fs::canonicalize(tend_bin()).expect("the tend binary")
}

/// `systemd-analyze verify UNIT`, with the unit saved as `tend.service` in `dir`.
fn verify(dir: &Path, unit: &str) -> Output {
    let path = dir.join("tend.service");
    std::fs::write(&path, unit).unwrap();
    Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        // No manager to ask: read the unit and the files it names, nothing else.
        .env("SYSTEMD_LOG_LEVEL", "notice")
        .output()
        .expect("systemd-analyze is not installed: scripts/test.sh installs Debian's `systemd`")
}

/// `systemd-analyze verify` accepts `unit` without a word.
fn assert_verified(dir: &Path, unit: &str) {
    let verified = verify(dir, unit);
    assert!(
        verified.status.success() && verified.stderr.is_empty(),
        "systemd-analyze verify:\n{}{}\n{unit}",
        text(&verified.stdout),
        text(&verified.stderr)
    );
}

/// The unit's `KEY=` line's value (exactly one such line).
fn value<'a>(unit: &'a str, key: &str) -> &'a str {
    let prefix = format!("{key}=");
    let mut values = unit.lines().filter_map(|line| line.strip_prefix(&prefix));
    let found = values.next().unwrap_or_else(|| panic!("no {key}= in\n{unit}"));
    assert!(values.next().is_none(), "{key}= twice in\n{unit}");
    found
}

#[test]
fn the_printed_user_unit_runs_this_binary_with_the_state_dir_and_passes_systemd_analyze() {
    let dir = tempfile::tempdir().unwrap();
    let output = tend_in(
        dir.path(),
        &[
            "daemon",
            "--print-systemd-unit",
            "--user",
            "--state-dir",
            "relative state",
            "--registry-dir",
            "reg",
            "--listen",
            "127.0.0.1:7499",
            "--grace",
            "45s",
            "--max-running",
            "3",
            "--log-max-size",
            "1MiB",
            "--log-keep",
            "2",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let unit = text(&output.stdout);

    // No daemon: nothing created, nothing listening.
    assert!(!dir.path().join("relative state").exists(), "the state dir was not created");
    assert!(!port_open("127.0.0.1:7499"), "no daemon was started");

    let state = dir.path().join("relative state");
    let expected_exec = format!(
        "{} daemon --state-dir \"{}\" --registry-dir {} --listen 127.0.0.1:7499 --grace 45000ms \
         --max-running 3 --log-max-size 1048576B --log-keep 2",
        tend_path().display(),
        state.display(),
        dir.path().join("reg").display()
    );
    assert_eq!(value(&unit, "ExecStart"), expected_exec, "{unit}");
    assert_eq!(value(&unit, "Type"), "notify");
    assert_eq!(value(&unit, "NotifyAccess"), "main");
    assert_eq!(value(&unit, "KillMode"), "mixed", "the daemon stops its children itself");
    assert_eq!(value(&unit, "TimeoutStopSec"), "75", "--grace and 30 s more");
    assert_eq!(value(&unit, "Restart"), "on-failure");
    assert_eq!(value(&unit, "WantedBy"), "default.target");
    assert!(!unit.contains("\nUser="), "a user unit runs as its user: {unit}");

    assert_verified(dir.path(), &unit);
}

#[test]
fn the_system_unit_is_wanted_by_multi_user_and_verify_rejects_a_broken_one() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let output = tend_in(
        dir.path(),
        &["daemon", "--print-systemd-unit", "--state-dir", state.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let unit = text(&output.stdout);
    assert_eq!(value(&unit, "WantedBy"), "multi-user.target");
    assert_eq!(value(&unit, "TimeoutStopSec"), "40", "the default --grace 10s and 30 s");
    let exec = value(&unit, "ExecStart");
    let head = format!("{} daemon --state-dir {} ", tend_path().display(), state.display());
    assert!(exec.starts_with(&head), "{exec}");
    assert!(!exec.contains("--listen"), "the default address is the daemon's own default: {exec}");
    assert_verified(dir.path(), &unit);

    // The check is real: the same unit with a binary that does not exist is refused.
    let missing = dir.path().join("no-such-tend");
    let broken = unit.replace(&tend_path().display().to_string(), missing.to_str().unwrap());
    let refused = verify(dir.path(), &broken);
    assert!(!refused.status.success(), "verify accepted a missing binary:\n{broken}");

    // `--user` alone is a usage error.
    let alone = tend_in(dir.path(), &["daemon", "--user"]);
    assert_eq!(alone.status.code(), Some(2), "{}", text(&alone.stderr));
}

/// The next datagram on `socket` within `within`, as text.
fn next_notification(socket: &UnixDatagram, within: Duration) -> Option<String> {
    socket.set_read_timeout(Some(within)).unwrap();
    let mut buffer = [0u8; 4096];
    socket.recv(&mut buffer).ok().map(|n| text(&buffer[..n]))
}

#[test]
fn the_daemon_says_ready_once_serving_and_stopping_as_soon_as_it_begins_to_stop() {
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("bind the notify socket");
    let state = dir.path().join("state");
    let registry = dir.path().join("registry");
    // The daemon as the printed unit runs it: its ExecStart (no `$` or `%` in these paths, so
    // `sh` reads it as systemd does).
    let printed = tend_in(
        dir.path(),
        &[
            "daemon",
            "--print-systemd-unit",
            "--listen",
            "127.0.0.1:0",
            "--grace",
            "3s",
            "--state-dir",
            state.to_str().unwrap(),
            "--registry-dir",
            registry.to_str().unwrap(),
        ],
    );
    assert_eq!(printed.status.code(), Some(0), "{}", text(&printed.stderr));
    let exec_start = value(&text(&printed.stdout), "ExecStart").to_owned();
    let mut daemon = Command::new("sh")
        .arg("-c")
        .arg(format!("exec {exec_start}"))
        .env("NOTIFY_SOCKET", &socket_path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tend daemon");
    let url = listening_url(&mut daemon, LONG);
    let addr = url.trim_start_matches("http://").to_owned();

    let ready = next_notification(&socket, LONG).expect("READY=1 within 20 s");
    assert_eq!(ready, "READY=1");
    assert!(port_open(&addr), "ready means serving");

    // A process that ignores SIGTERM keeps the stop going for the whole grace (3 s).
    let started = Command::new(tend_bin())
        .args(["start", "--name", "stubborn", "--json", "--", FIXTURE, "ignore-term", "60"])
        .env("TEND_SERVER", &url)
        .env("XDG_STATE_HOME", dir.path().join("unused"))
        .env("TEND_TOKEN", std::fs::read_to_string(state.join("token")).unwrap().trim())
        .output()
        .unwrap();
    assert!(started.status.success(), "{}", text(&started.stderr));
    let info: serde_json::Value = serde_json::from_slice(&started.stdout).unwrap();
    let child = u32::try_from(info["pid"].as_u64().expect("pid")).unwrap();
    // The fixture reports it ignores SIGTERM only once it does: give it that moment.
    eventually(LONG, "the stubborn child runs", || pid_alive(child));
    std::thread::sleep(Duration::from_millis(300));

    let term_sent = Instant::now();
    send_signal(daemon.id(), rustix::process::Signal::TERM);
    let stopping = next_notification(&socket, LONG).expect("STOPPING=1 after SIGTERM");
    assert_eq!(stopping, "STOPPING=1");
    assert!(
        pid_alive(child),
        "STOPPING=1 came {:?} after SIGTERM, once the children were already stopped: \
         it must come as the stop begins",
        term_sent.elapsed()
    );
    let status = wait_child(&mut daemon, LONG);
    assert!(status.success(), "the daemon stops cleanly: {status:?}");
    assert!(!pid_alive(child), "the grace ran out and the child was killed");
    assert_eq!(
        next_notification(&socket, Duration::from_millis(200)),
        None,
        "nothing more (STOPPING=1 once)"
    );
}
