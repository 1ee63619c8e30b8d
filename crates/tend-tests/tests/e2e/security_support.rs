//! Shared by the security tests: a `tend daemon` on its own state directory, `tend` client
//! runs with a deadline, and hostile listeners that record what they receive.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::{line_channel, next_line, tend_bin, wait_child};

/// Bound on one `tend` run or daemon start.
pub(crate) const LONG: Duration = Duration::from_secs(30);

/// A temporary HOME, whose `~/.core/daemons` is the registry, where state directories are
/// made.
pub(crate) struct Home {
    pub(crate) dir: tempfile::TempDir,
}

impl Home {
    pub(crate) fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub(crate) fn registry(&self) -> PathBuf {
        self.dir.path().join(".core/daemons")
    }

    /// A state directory path under this home (not created).
    pub(crate) fn state(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `tend ARGS` with this home's environment and nothing else pointing anywhere.
    pub(crate) fn tend(&self, args: &[&str]) -> Command {
        let mut command = Command::new(tend_bin());
        command
            .args(args)
            .env("HOME", self.dir.path())
            .env_remove("TEND_REGISTRY_DIR")
            .env_remove("XDG_STATE_HOME")
            .env_remove("TEND_SERVER")
            .env_remove("TEND_TOKEN")
            .stdin(Stdio::null());
        command
    }

    /// `tend daemon` on a free port with state directory `state`.
    pub(crate) fn daemon_command(&self, state: &Path) -> Command {
        let mut command = self.tend(&["daemon", "--listen", "127.0.0.1:0", "--grace", "2s"]);
        command.arg("--state-dir").arg(state);
        command
    }

    /// Starts a daemon on `state` and waits for its address.
    pub(crate) fn daemon(&self, state: &Path) -> RunningDaemon {
        let mut child = self
            .daemon_command(state)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tend daemon");
        let lines = line_channel(child.stdout.take().expect("stdout"));
        let stderr = child.stderr.take().expect("stderr");
        let stderr = Some(std::thread::spawn(move || read_all(stderr)));
        let line = next_line(&lines, "the daemon's first line");
        let url = line.strip_prefix("listening on http://").unwrap_or_else(|| panic!("{line}"));
        RunningDaemon { child: Some(child), addr: url.to_owned(), stderr }
    }
}

/// Runs `command` to its end within [`LONG`] and returns what it printed.
pub(crate) fn finish(command: &mut Command) -> Output {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let (out, err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out = std::thread::spawn(move || read_all(out));
    let err = std::thread::spawn(move || read_all(err));
    let status = wait_child(&mut child, LONG);
    Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() }
}

fn read_all(mut stream: impl Read) -> Vec<u8> {
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    bytes
}

/// A `tend daemon` child; SIGKILLed on drop if not stopped.
pub(crate) struct RunningDaemon {
    child: Option<Child>,
    /// `127.0.0.1:PORT`.
    pub(crate) addr: String,
    stderr: Option<std::thread::JoinHandle<Vec<u8>>>,
}

impl RunningDaemon {
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// SIGTERM, then the exit status.
    pub(crate) fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        crate::support::send_signal(child.id(), rustix::process::Signal::TERM);
        wait_child(&mut child, LONG)
    }

    /// Everything the daemon wrote on stderr; call after [`stop`](Self::stop).
    pub(crate) fn stderr(&mut self) -> String {
        let bytes = self.stderr.take().expect("read once").join().unwrap();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Drop for RunningDaemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A TCP listener that records every byte it receives, answering each connection with
/// whatever `answer` makes of the request.
pub(crate) struct Recorder {
    pub(crate) addr: String,
    received: Arc<Mutex<Vec<u8>>>,
}

impl Recorder {
    /// A plain listener: it answers every request with a well-formed `200 {}`, which is not
    /// a proof of anything.
    pub(crate) fn plain() -> Self {
        Self::on("127.0.0.1:0", |_| b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".to_vec())
            .expect("bind")
    }

    /// Listens on `addr`, answering each request (its head) with `answer(request)`.
    pub(crate) fn on(
        addr: &str,
        answer: impl Fn(&[u8]) -> Vec<u8> + Send + 'static,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?.to_string();
        let received = Arc::new(Mutex::new(Vec::new()));
        let record = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let request = read_request(&mut stream);
                record.lock().unwrap().extend_from_slice(&request);
                let _ = stream.write_all(&answer(&request));
            }
        });
        Ok(Self { addr, received })
    }

    /// Everything received so far, as text.
    pub(crate) fn received(&self) -> String {
        String::from_utf8_lossy(&self.received.lock().unwrap()).into_owned()
    }
}

/// Reads one request head (and whatever arrives with it) from `stream`, for at most a second.
fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
    }
    request
}

/// Forwards `request` to `target` with its `Host` rewritten to `target`, and returns the
/// answer: a relay to a real daemon.
pub(crate) fn relay(request: &[u8], target: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(request);
    let rewritten: String = text
        .split_inclusive("\r\n")
        .map(|line| {
            if line.to_ascii_lowercase().starts_with("host:") {
                format!("Host: {target}\r\n")
            } else {
                line.to_owned()
            }
        })
        .collect();
    let mut answer = Vec::new();
    if let Ok(mut upstream) = TcpStream::connect(target) {
        let _ = upstream.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = upstream.write_all(rewritten.as_bytes());
        let _ = upstream.read_to_end(&mut answer);
    }
    answer
}
