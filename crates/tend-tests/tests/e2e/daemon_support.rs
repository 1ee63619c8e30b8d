//! Helpers for the daemon tests: helper processes and a raw HTTP client. Binary paths and
//! bounded polling are in `support`.
//!
//! A test that needs a second real process re-runs this very test binary, filtered to itself,
//! with [`HELPER_ENV`] naming a role; the test checks [`helper_role`] first and plays that role
//! instead. Helpers talk to the parent in lines starting with [`MARK`], which sets them apart
//! from the test harness's own output.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use tend::http::{HttpError, Request};

// The binaries and the polling helpers live in `support`; `server_daemons` still imports
// these two from here.
use crate::support::until;
pub(crate) use crate::support::{eventually as wait_until, wait_child};

/// Names the role a re-run test binary plays.
pub(crate) const HELPER_ENV: &str = "TEND_E2E_DAEMON_HELPER";
/// Prefix of every line a helper says to its parent.
pub(crate) const MARK: &str = "@tend-helper ";
/// The unprivileged user that root-only scenarios switch to.
pub(crate) const NOBODY: u32 = 65534;

/// The role this process was started to play, if it is a helper.
pub(crate) fn helper_role() -> Option<String> {
    std::env::var(HELPER_ENV).ok()
}

/// Says one line to the parent.
pub(crate) fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{MARK}{line}");
    let _ = out.flush();
}

/// Reads one line from the parent; `None` at end of input.
pub(crate) fn hear() -> Option<String> {
    let mut line = String::new();
    match std::io::stdin().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end().to_owned()),
    }
}

/// Whether this process runs as root (then permission bits do not stop it).
pub(crate) fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

/// A helper process: this test binary re-run in a role.
pub(crate) struct Helper {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

/// How to start a helper.
pub(crate) struct HelperSpec<'a> {
    pub(crate) test: &'a str,
    pub(crate) role: &'a str,
    pub(crate) env: Vec<(&'a str, String)>,
    pub(crate) uid: Option<u32>,
}

impl<'a> HelperSpec<'a> {
    pub(crate) fn new(test: &'a str, role: &'a str) -> Self {
        Self { test, role, env: Vec::new(), uid: None }
    }

    pub(crate) fn env(mut self, name: &'a str, value: impl Into<String>) -> Self {
        self.env.push((name, value.into()));
        self
    }

    /// Runs the helper as `uid` (group the same number).
    pub(crate) fn user(mut self, uid: u32) -> Self {
        self.uid = Some(uid);
        self
    }

    pub(crate) fn spawn(self) -> Helper {
        let exe = std::env::current_exe().expect("test binary path");
        let mut command = Command::new(exe);
        command
            .args([self.test, "--exact", "--nocapture", "--test-threads", "1"])
            .env(HELPER_ENV, self.role)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (name, value) in &self.env {
            command.env(name, value);
        }
        if let Some(uid) = self.uid {
            command.uid(uid).gid(uid);
        }
        let mut child = command.spawn().expect("spawn helper");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // The harness may have printed part of a line before the helper spoke.
                if let Some(at) = line.find(MARK)
                    && sender.send(line[at + MARK.len()..].to_owned()).is_err()
                {
                    break;
                }
            }
        });
        Helper { child, stdin, lines }
    }
}

impl Helper {
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The helper's next line, waiting at most `timeout`.
    pub(crate) fn next_line(&self, timeout: Duration) -> String {
        match self.lines.recv_timeout(timeout) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => panic!("helper said nothing within {timeout:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("helper ended without saying more"),
        }
    }

    pub(crate) fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{line}").expect("write to helper");
        stdin.flush().expect("flush helper stdin");
    }

    pub(crate) fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for the helper to exit, killing it (and failing) after `timeout`.
    pub(crate) fn wait(mut self, timeout: Duration) -> ExitStatus {
        self.close_stdin();
        wait_child(&mut self.child, timeout)
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One `GET` over a fresh connection (no time bound of its own): status and body.
pub(crate) async fn http_get(addr: &str, path: &str) -> Result<(u16, String), HttpError> {
    let answer = Request::get(path).timeout(tend::FOREVER).send(addr).await?;
    Ok((answer.status(), answer.text()))
}

/// Like [`http_get`], failing the test on a connection error or after ten seconds.
pub(crate) async fn must_get(addr: &str, path: &str) -> (u16, String) {
    tokio::time::timeout(Duration::from_secs(10), http_get(addr, path))
        .await
        .unwrap_or_else(|_| panic!("GET {addr}{path} hung"))
        .unwrap_or_else(|e| panic!("GET {addr}{path}: {e}"))
}

/// Waits (at most ten seconds) until `flag` is set: a check raises it when a request has
/// reached it, so a test can stop a server with that request surely in flight.
pub(crate) async fn wait_for_flag(flag: &std::sync::atomic::AtomicBool) {
    until(Duration::from_secs(10), "the request to reach the check", || {
        flag.load(std::sync::atomic::Ordering::SeqCst)
    })
    .await;
}

/// Whether something accepts connections on `addr`.
pub(crate) fn port_open(addr: &str) -> bool {
    let addr = addr.parse().expect("socket address");
    std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
}

/// Makes a directory usable by every user, for scenarios run as [`NOBODY`].
pub(crate) fn open_to_all(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).expect("chmod 777");
}
