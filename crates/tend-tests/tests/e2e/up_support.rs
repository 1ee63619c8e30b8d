//! Helpers of the `tend up` stack tests (issue 13): a project directory with a stack file whose
//! services are `tend-fixture serve` writing one shared timeline, a running `tend up` whose
//! output goes to files (read while it runs, never blocking it), its JSON report, and the
//! check that nothing it started is left: every process of a test carries a marker variable
//! in its environment, and none may be alive once `tend up` has exited.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::Signal;
use tend_tests::timeline::{self, Timeline};

use crate::support::{FIXTURE, pid_alive, send_signal, tend_bin};

/// Generous bound for one `tend up` of these tests on a loaded machine.
pub(crate) const BOUND: Duration = Duration::from_secs(40);
/// Generous bound for one thing a running `tend up` should do within milliseconds to a
/// second or two (start a service, notice readiness, stop a service).
pub(crate) const SOON: Duration = Duration::from_secs(15);

/// The environment variable every process of one test carries (set on `tend up`, inherited
/// by everything it starts), so the test can find what outlived it.
const MARKER: &str = "TEND_E2E_STACK_MARKER";

/// A port nobody listens on right now: bound to port 0, then released.
pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().unwrap().port()
}

/// A temporary project directory holding a stack file, and the timeline its fixtures write.
pub(crate) struct Project {
    pub(crate) dir: tempfile::TempDir,
    marker: String,
}

impl Project {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let marker = format!("{}-{}", std::process::id(), dir.path().display());
        Project { dir, marker }
    }

    /// A project whose `tend.toml` has `web` after `db`, and `db` never ready (within 30 s).
    pub(crate) fn with_web_after_a_db_never_ready() -> Self {
        let project = Project::new();
        let text = [
            project.service("db", &[], "ready = { log = \"never printed\", timeout = \"30s\" }"),
            project.service("web", &[], "after = [\"db\"]"),
        ]
        .concat();
        project.write("tend.toml", &text);
        project
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The shared timeline file of this project's fixtures.
    pub(crate) fn timeline_path(&self) -> PathBuf {
        self.path().join("timeline")
    }

    /// Writes `name` in the project, creating its directory.
    pub(crate) fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The timeline as it is now.
    pub(crate) fn timeline(&self) -> Timeline {
        timeline::read(&self.timeline_path()).expect("read the timeline")
    }

    /// Waits (bounded by [`SOON`]) until the timeline shows what `done` looks for.
    pub(crate) fn wait_timeline(&self, what: &str, done: impl Fn(&Timeline) -> bool) -> Timeline {
        timeline::wait_for(&self.timeline_path(), SOON, what, done)
    }

    /// `args = [...]` of a fixture `serve` named `name` writing this project's timeline, with
    /// `extra` options after.
    pub(crate) fn serve_args(&self, name: &str, extra: &[&str]) -> String {
        let timeline = self.timeline_path();
        let mut args = vec!["serve", "--name", name, "--timeline", timeline.to_str().unwrap()];
        args.extend_from_slice(extra);
        let quoted: Vec<String> = args.iter().map(|a| toml_string(a)).collect();
        format!("args = [{}]", quoted.join(", "))
    }

    /// A `[services.NAME]` (or `[steps.NAME]` with `kind = "steps"`) table running the fixture
    /// `serve` with `extra` options, plus the TOML lines `keys`.
    pub(crate) fn fixture_table(
        &self,
        kind: &str,
        name: &str,
        extra: &[&str],
        keys: &str,
    ) -> String {
        format!(
            "[{kind}.{name}]\ncommand = {}\n{}\n{keys}\n\n",
            toml_string(FIXTURE),
            self.serve_args(name, extra)
        )
    }

    /// A service running the fixture `serve` (see [`Project::fixture_table`]).
    pub(crate) fn service(&self, name: &str, extra: &[&str], keys: &str) -> String {
        self.fixture_table("services", name, extra, keys)
    }

    /// A step running the fixture `serve` (see [`Project::fixture_table`]).
    pub(crate) fn step(&self, name: &str, extra: &[&str], keys: &str) -> String {
        self.fixture_table("steps", name, extra, keys)
    }

    /// Starts `tend up ARGS` in the project directory.
    pub(crate) fn up(&self, args: &[&str]) -> Up {
        self.up_in(self.path(), args, &[])
    }

    /// Starts `tend up ARGS` in `cwd` with `envs` added to its environment.
    pub(crate) fn up_in(&self, cwd: &Path, args: &[&str], envs: &[(&str, &str)]) -> Up {
        let out = tempfile::tempdir().expect("temporary directory");
        let stdout = std::fs::File::create(out.path().join("stdout")).unwrap();
        let stderr = std::fs::File::create(out.path().join("stderr")).unwrap();
        let child = Command::new(tend_bin())
            .arg("up")
            .args(args)
            .current_dir(cwd)
            .env_remove("NO_COLOR")
            .env(MARKER, &self.marker)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("spawn tend up");
        Up { child: Some(child), out, marker: self.marker.clone() }
    }
}

/// `text` as a TOML basic string.
pub(crate) fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A running `tend up`. Dropped before it ended, it is SIGKILLed (its containment takes its
/// processes down) and whatever still carries the marker is killed too.
pub(crate) struct Up {
    child: Option<Child>,
    out: tempfile::TempDir,
    marker: String,
}

/// What a finished `tend up` left.
#[derive(Debug)]
pub(crate) struct Ran {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Ran {
    /// The `--json` report on stdout.
    pub(crate) fn report(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not one JSON document ({e}):\n{}\n{}", self.stdout, self.stderr)
        })
    }

    /// Both streams, for assertion messages.
    pub(crate) fn both(&self) -> String {
        format!("exit {:?}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }

    /// The lines `NAME | TEXT` of service or step `name`, as TEXT (the prefix is padded to
    /// the longest name).
    pub(crate) fn lines_of(&self, name: &str) -> Vec<&str> {
        prefixed_lines(&self.stdout, name)
    }
}

/// The lines `NAME | TEXT` of `name` in `stdout`, as TEXT.
pub(crate) fn prefixed_lines<'a>(stdout: &'a str, name: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .filter_map(|line| {
            let (prefix, text) = line.split_once(" | ")?;
            (prefix.trim_end() == name).then_some(text)
        })
        .collect()
}

/// The service `name` of a `--json` report.
pub(crate) fn service<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["services"]
        .as_array()
        .unwrap_or_else(|| panic!("no `services` list in {report:#}"))
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no service `{name}` in {report:#}"))
}

/// The step `name` of a `--json` report.
pub(crate) fn step<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("no `steps` list in {report:#}"))
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step `{name}` in {report:#}"))
}

impl Up {
    fn child(&mut self) -> &mut Child {
        self.child.as_mut().expect("tend up is running")
    }

    /// The PID of `tend up`.
    pub(crate) fn pid(&mut self) -> u32 {
        self.child().id()
    }

    /// Sends `signal` to `tend up`.
    pub(crate) fn signal(&mut self, signal: Signal) {
        let pid = self.pid();
        send_signal(pid, signal);
    }

    /// What `tend up` printed on stdout so far.
    pub(crate) fn stdout(&self) -> String {
        std::fs::read_to_string(self.out.path().join("stdout")).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.out.path().join("stderr")).unwrap_or_default()
    }

    /// Waits (bounded by [`SOON`]) until stdout holds `count` lines of `name` satisfying
    /// `matches`, and returns stdout.
    pub(crate) fn wait_lines(
        &mut self,
        name: &str,
        count: usize,
        what: &str,
        matches: impl Fn(&str) -> bool,
    ) -> String {
        let start = Instant::now();
        loop {
            let stdout = self.stdout();
            if prefixed_lines(&stdout, name).into_iter().filter(|l| matches(l)).count() >= count {
                return stdout;
            }
            if let Some(status) = self.child().try_wait().unwrap() {
                panic!("tend up ended ({status}) before {what}:\n{stdout}\n{}", self.stderr());
            }
            assert!(
                start.elapsed() < SOON,
                "no {what} within {SOON:?}:\n{stdout}\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for `tend up` to exit within `within` (else kills it and fails), then checks
    /// that nothing it started is still alive, and returns what it printed.
    pub(crate) fn finish_within(mut self, within: Duration) -> Ran {
        let mut child = self.child.take().expect("tend up is running");
        let deadline = Instant::now() + within;
        let code = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status.code();
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "tend up did not finish within {within:?}:\n{}\n{}",
                    self.stdout(),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let ran = Ran { code, stdout: self.stdout(), stderr: self.stderr() };
        assert_nothing_left(&self.marker, &ran);
        ran
    }

    /// [`Up::finish_within`] with [`BOUND`].
    pub(crate) fn finish(self) -> Ran {
        self.finish_within(BOUND)
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for pid in marked_processes(&self.marker) {
            send_signal(pid, Signal::KILL);
        }
    }
}

/// Fails the test if a process carrying `marker` is alive a moment after `tend up` exited
/// (a moment: the kernel may still be delivering the group's SIGKILL).
fn assert_nothing_left(marker: &str, ran: &Ran) {
    let start = Instant::now();
    loop {
        let left = marked_processes(marker);
        if left.is_empty() {
            return;
        }
        if start.elapsed() > Duration::from_secs(2) {
            let described: Vec<String> = left.iter().map(|pid| describe(*pid)).collect();
            for pid in left {
                send_signal(pid, Signal::KILL);
            }
            panic!("left running after tend up exited: {described:?}\n{}", ran.both());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Live processes whose environment holds `MARKER=marker`.
pub(crate) fn marked_processes(marker: &str) -> Vec<u32> {
    let wanted = format!("{MARKER}={marker}");
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|b| *b == 0).any(|var| var == wanted.as_bytes()))
        })
        .filter(|pid| pid_alive(*pid))
        .collect()
}

fn describe(pid: u32) -> String {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    format!("{pid}: {}", String::from_utf8_lossy(&cmdline).replace('\0', " "))
}

/// Nanoseconds as milliseconds, for messages.
pub(crate) fn ms(nanos: u64) -> f64 {
    nanos as f64 / 1e6
}
