//! A real `tend daemon` process for tests that measure it from outside (its memory, its
//! answers on the wire) and drive it with the real `tend` client.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::server_support::{Reply, send};
use crate::support::{line_channel, tend_bin};

const START: Duration = Duration::from_secs(20);

/// A `tend daemon` on a free port with its own state and registry directories; killed (with
/// its children, by its guardian) when dropped.
pub(crate) struct RealDaemon {
    child: Child,
    pub(crate) addr: SocketAddr,
    pub(crate) url: String,
    pub(crate) token: String,
    /// The temporary directory of state and registry, unless the test keeps them itself.
    _dir: Option<tempfile::TempDir>,
}

impl RealDaemon {
    pub(crate) fn start() -> Self {
        Self::start_with(None, &[])
    }

    /// Started with more `tend daemon` flags, and by `sh` after `ulimit -n LIMIT` when given
    /// a limit (soft and hard: the daemon cannot raise it again).
    pub(crate) fn start_with(fd_limit: Option<u32>, flags: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (state, registry) = (dir.path().join("state"), dir.path().join("registry"));
        let mut daemon = Self::launch(fd_limit, &state, &registry, flags, Stdio::null());
        daemon._dir = Some(dir);
        daemon
    }

    /// Started on the state directory `state` (registry `state/registry`), which the test
    /// keeps, so another daemon can start on it after this one; stderr (the daemon's log) to
    /// `stderr`.
    pub(crate) fn start_in(state: &Path, flags: &[&str], stderr: Stdio) -> Self {
        Self::launch(None, state, &state.join("registry"), flags, stderr)
    }

    fn launch(
        fd_limit: Option<u32>,
        state: &Path,
        registry: &Path,
        flags: &[&str],
        stderr: Stdio,
    ) -> Self {
        let ulimit = fd_limit.map(|n| format!("ulimit -n {n} && ")).unwrap_or_default();
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("{ulimit}exec \"$0\" \"$@\""))
            .arg(tend_bin())
            .args(["daemon", "--listen", "127.0.0.1:0", "--grace", "2s", "--state-dir"])
            .arg(state)
            .arg("--registry-dir")
            .arg(registry)
            .args(flags)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn tend daemon");
        let url = listening_url(&mut child, START);
        let addr = url.trim_start_matches("http://").parse().expect("address");
        let token = std::fs::read_to_string(state.join("token")).expect("token").trim().to_owned();
        Self { child, addr, url, token, _dir: None }
    }

    /// Stops the daemon with `signal` and waits (at most 30 s) until it has exited.
    pub(crate) fn stop_with(mut self, signal: rustix::process::Signal) -> std::process::ExitStatus {
        crate::support::send_signal(self.child.id(), signal);
        crate::support::wait_child(&mut self.child, Duration::from_secs(30))
    }

    /// The `Host` header line for this daemon.
    pub(crate) fn host(&self) -> String {
        format!("Host: {}\r\n", self.addr)
    }

    /// `GET /health`, failing the test unless it answers `ok` within `within`; how long it took.
    pub(crate) async fn health_within(&self, within: Duration) -> Duration {
        let began = Instant::now();
        let reply = tokio::time::timeout(
            within,
            send(self.addr, "GET", "/health", &self.addr.to_string(), &[], b""),
        )
        .await
        .unwrap_or_else(|_| panic!("/health did not answer within {within:?}"));
        assert_eq!((reply.status, reply.body.as_slice()), (200, b"ok".as_slice()));
        began.elapsed()
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// One authenticated API request (`path` from `/api/v1`).
    pub(crate) async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let auth = format!("Bearer {}", self.token);
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut headers = vec![("Authorization", auth.as_str())];
        if !body.is_empty() {
            headers.push(("Content-Type", "application/json"));
        }
        let host = self.addr.to_string();
        send(self.addr, method, &format!("/api/v1{path}"), &host, &headers, body.as_bytes()).await
    }

    /// Starts `sh -c SCRIPT` through the API; returns its id.
    pub(crate) async fn start_sh(&self, script: &str) -> String {
        let body = serde_json::json!({ "command": "sh", "args": ["-c", script] });
        let reply = self.call("POST", "/processes", Some(body)).await;
        assert_eq!(reply.status, 201, "start {script}: {}", String::from_utf8_lossy(&reply.body));
        reply.json()["id"].as_str().expect("id").to_owned()
    }

    /// Waits (up to `within`) until process `id` has ended; returns its info.
    pub(crate) async fn wait_ended(&self, id: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let info = self.call("GET", &format!("/processes/{id}"), None).await.json();
            if matches!(info["status"].as_str(), Some("exited" | "failed" | "killed")) {
                return info;
            }
            assert!(Instant::now() < deadline, "{id} still running after {within:?}: {info}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The `tend ARGS` client command, pointed at this daemon.
    pub(crate) fn tend_command(&self, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(tend_bin());
        command.args(args).args(["--server", &self.url, "--token", &self.token]);
        command.stdin(Stdio::null()).kill_on_drop(true);
        command
    }

    /// Runs `tend ARGS` to the end (failing after 30 s).
    pub(crate) async fn tend(&self, args: &[&str]) -> Output {
        let run = self.tend_command(args).output();
        tokio::time::timeout(Duration::from_secs(30), run)
            .await
            .unwrap_or_else(|_| panic!("tend {args:?} hung"))
            .expect("run tend")
    }
}

impl Drop for RealDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads the first line a starting daemon prints, `listening on URL`; returns URL. Later
/// lines are drained so the daemon never blocks on its stdout.
pub(crate) fn listening_url(child: &mut Child, within: Duration) -> String {
    let lines = line_channel(child.stdout.take().expect("stdout piped"));
    let line = lines.recv_timeout(within).expect("the daemon's first line");
    line.strip_prefix("listening on ").unwrap_or_else(|| panic!("first line: {line}")).to_owned()
}

/// A value in kB from `/proc/PID/status` (`VmRSS`, `VmHWM`).
pub(crate) fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}
