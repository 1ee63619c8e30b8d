//! Projects on the daemon through the `tend` binary: `up -d` (starting a daemon in the
//! background when none runs), `--no-wait`, a service failing readiness, `down`, `down
//! --all`, `reload`, and `daemon --detach`.
//!
//! Each test has its own temporary state and registry directories and a free port (never the
//! default 7420); every daemon it started is stopped at the end by [`Home`]'s drop, which
//! reads the PID file.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{eventually, pid_alive, send_signal, tend_bin};

/// Bound on one `tend` command (`up -d` waits for a daemon to start and services to be
/// ready on a loaded machine).
const COMMAND_DEADLINE: Duration = Duration::from_secs(40);

/// A user's world: a state directory, a registry, a free port, and project directories.
struct Home {
    dir: tempfile::TempDir,
    url: String,
}

impl Home {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Self { dir, url: format!("http://127.0.0.1:{port}") }
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("xdg/tend")
    }

    /// A project directory `name` holding `file` with `text`.
    fn project(&self, name: &str, file: &str, text: &str) -> PathBuf {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(file), text).unwrap();
        dir
    }

    /// `tend ARGS` in `cwd`, pointed at this home's state directory, registry and port.
    fn tend(&self, cwd: &Path, args: &[&str]) -> Output {
        let mut command = Command::new(tend_bin());
        command
            .args(args)
            .current_dir(cwd)
            .env("TEND_SERVER", &self.url)
            .env("XDG_STATE_HOME", self.dir.path().join("xdg"))
            .env("TEND_REGISTRY_DIR", self.dir.path().join("registry"))
            .env_remove("TEND_TOKEN");
        run(command)
    }

    /// [`tend`](Self::tend), which must succeed; its stdout.
    fn ok(&self, cwd: &Path, args: &[&str]) -> String {
        let output = self.tend(cwd, args);
        assert!(output.status.success(), "tend {args:?}: {}", shown(&output));
        String::from_utf8(output.stdout).unwrap()
    }

    /// The daemon's managed processes (`tend ps --json`).
    fn processes(&self) -> Vec<Value> {
        let json = self.ok(self.dir.path(), &["ps", "--json"]);
        serde_json::from_str::<Value>(&json).unwrap().as_array().unwrap().clone()
    }

    /// The PID of the running process named `name` of project `project`.
    fn pid_of(&self, project: &str, name: &str) -> u64 {
        let processes = self.processes();
        let found =
            processes.iter().find(|p| p["name"] == name && p["labels"]["project"] == project);
        let found = found.unwrap_or_else(|| panic!("no {project}/{name} in {processes:#?}"));
        found["pid"].as_u64().unwrap_or_else(|| panic!("no pid: {found:#?}"))
    }

    /// The PID in the daemon's PID file, if a live daemon holds it.
    fn daemon_pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.state_dir().join("tend.pid")).ok()?;
        text.trim().parse().ok().filter(|pid| pid_alive(*pid))
    }
}

impl Drop for Home {
    /// Stops the daemon this test started: SIGTERM (its services are stopped with it), then
    /// SIGKILL if it is still there after 20 s.
    fn drop(&mut self) {
        let Some(pid) = self.daemon_pid() else { return };
        send_signal(pid, rustix::process::Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(20);
        while pid_alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if pid_alive(pid) {
            send_signal(pid, rustix::process::Signal::KILL);
        }
    }
}

/// Runs `command` to its end within [`COMMAND_DEADLINE`], its output captured. The deadline
/// covers the end of output too: a daemon started in the background that kept the command's
/// stdout or stderr would hold the pipe open, and fails the test here instead of hanging it.
fn run(mut command: Command) -> Output {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn tend");
    let read_all = |mut stream: Box<dyn Read + Send>| {
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = stream.read_to_end(&mut bytes);
            let _ = sender.send(bytes);
        });
        receiver
    };
    let stdout = read_all(Box::new(child.stdout.take().unwrap()));
    let stderr = read_all(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + COMMAND_DEADLINE;
    let status = crate::support::wait_child(&mut child, COMMAND_DEADLINE);
    let rest = || deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(1);
    let stdout = stdout.recv_timeout(rest()).expect("stdout closed when tend exited");
    let stderr = stderr.recv_timeout(rest()).expect("stderr closed when tend exited");
    Output { status, stdout, stderr }
}

fn shown(output: &Output) -> String {
    format!(
        "{}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The row of `name` in a status table, split in cells.
fn row<'a>(table: &'a str, name: &str) -> Vec<&'a str> {
    let line = table.lines().find(|line| line.split_whitespace().next() == Some(name));
    line.unwrap_or_else(|| panic!("no row {name} in\n{table}")).split_whitespace().collect()
}

/// The session id of `pid` (field 6 of `/proc/PID/stat`).
fn session_of(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
    fields[3].parse().unwrap()
}

const TWO_SERVICES: &str = r#"
[services.db]
command = "sleep"
args = ["300"]

[services.web]
run = "exec sleep 301"
after = ["db"]
ready = { exec = "true", interval = "50ms" }
"#;

#[test]
fn up_d_starts_a_daemon_in_the_background_when_none_runs() {
    let home = Home::new();
    let shop = home.project("shop", "tend.toml", TWO_SERVICES);
    assert_eq!(home.daemon_pid(), None);

    let output = home.tend(&shop, &["up", "-d"]);
    assert!(output.status.success(), "{}", shown(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("project shop: created"), "{stdout}");
    let header: Vec<&str> = stdout.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(header[..4], ["NAME", "STATE", "PID", "RESTARTS"], "{stdout}");
    for name in ["db", "web"] {
        let cells = row(&stdout, name);
        assert_eq!(cells[1], "ready", "{stdout}");
        assert!(cells[2].parse::<u32>().is_ok(), "a PID: {stdout}");
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("started one on http://127.0.0.1:"), "{stderr}");

    // The daemon runs on in a session of its own, on the client's address, logging to
    // STATE_DIR/daemon.log.
    let daemon = home.daemon_pid().expect("a daemon holds the PID file");
    assert_ne!(session_of(daemon), session_of(std::process::id()));
    let log = std::fs::read_to_string(home.state_dir().join("daemon.log")).unwrap();
    let listening = format!("listening on {}", home.url);
    assert!(log.lines().any(|line| line == listening), "{log}");

    // `ps` lists the services with their project.
    let table = home.ok(&shop, &["ps"]);
    for name in ["db", "web"] {
        let line = table.lines().find(|l| l.split_whitespace().nth(1) == Some(name));
        let cells: Vec<&str> =
            line.unwrap_or_else(|| panic!("{name}: {table}")).split_whitespace().collect();
        assert_eq!(cells[2], "shop", "PROJECT: {table}");
    }
    // A second `up -d` finds the daemon running, and the same file changes nothing.
    let again = home.ok(&shop, &["up", "-d"]);
    assert!(again.contains("project shop: updated"), "{again}");
    assert!(again.contains("unchanged db") && again.contains("unchanged web"), "{again}");
    assert_eq!(home.daemon_pid(), Some(daemon));
}

#[test]
fn up_d_no_wait_returns_before_the_services_are_ready() {
    let home = Home::new();
    let slow = home.project(
        "slow",
        "tend.toml",
        "[services.web]\nrun = \"exec sleep 300\"\nready = { tcp = \"127.0.0.1:1\", timeout = \"60s\" }\n",
    );
    let started = Instant::now();
    let stdout = home.ok(&slow, &["up", "-d", "--no-wait", "-p", "quick"]);
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
    assert!(stdout.contains("project quick: created"), "{stdout}");
    let state = row(&stdout, "web")[1];
    assert!(["waiting", "starting"].contains(&state), "{stdout}");
    // The daemon goes on starting it.
    eventually(Duration::from_secs(10), "the service to be started", || {
        home.processes().len() == 1
    });
}

#[test]
fn up_d_exits_1_naming_a_service_that_failed_readiness() {
    let home = Home::new();
    let dir = home.project(
        "broken",
        "tend.toml",
        "[services.ok]\ncommand = \"sleep\"\nargs = [\"300\"]\n\n\
         [services.bad]\nrun = \"exec sleep 300\"\nready = { tcp = \"127.0.0.1:1\", timeout = \"1s\", interval = \"50ms\" }\n",
    );
    let output = home.tend(&dir, &["up", "-d"]);
    assert_eq!(output.status.code(), Some(1), "{}", shown(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(row(&stdout, "bad")[1], "failed", "{stdout}");
    assert_eq!(row(&stdout, "ok")[1], "ready", "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("service `bad` failed: "), "{stderr}");
    assert!(stderr.contains("127.0.0.1:1"), "the probe's reason: {stderr}");
    assert!(!stderr.contains("`ok`"), "{stderr}");
}

#[test]
fn down_stops_the_project_and_forgets_it() {
    let home = Home::new();
    let shop = home.project("shop", "tend.toml", TWO_SERVICES);
    home.ok(&shop, &["up", "-d"]);
    let pids = [home.pid_of("shop", "db"), home.pid_of("shop", "web")];

    let stdout = home.ok(&shop, &["down"]);
    // Reverse dependency order: web runs after db, so it stops first.
    let stopped: Vec<&str> = stdout.lines().filter(|l| l.starts_with("stopped ")).collect();
    assert_eq!(stopped.len(), 2, "{stdout}");
    assert!(
        stopped[0].starts_with("stopped web") && stopped[1].starts_with("stopped db"),
        "{stdout}"
    );
    assert!(stdout.contains("project shop: down"), "{stdout}");
    for pid in pids {
        eventually(Duration::from_secs(10), "the service to be gone", || !pid_alive(pid as u32));
    }
    assert!(!home.ok(&shop, &["ps"]).contains("shop"));

    let again = home.tend(&shop, &["down"]);
    assert_eq!(again.status.code(), Some(1), "{}", shown(&again));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("`shop`"), "names the project: {stderr}");
}

#[test]
fn down_all_takes_every_project_down() {
    let home = Home::new();
    for name in ["alpha", "beta"] {
        let dir = home.project(
            name,
            "tend.toml",
            "[services.s]\ncommand = \"sleep\"\nargs = [\"300\"]\n",
        );
        home.ok(&dir, &["up", "-d"]);
    }
    assert_eq!(home.processes().len(), 2);
    let stdout = home.ok(home.dir.path(), &["down", "--all"]);
    assert!(
        stdout.contains("project alpha: down") && stdout.contains("project beta: down"),
        "{stdout}"
    );
    eventually(Duration::from_secs(10), "no process left", || home.processes().is_empty());
    assert!(home.ok(home.dir.path(), &["down", "--all"]).contains("no projects"));
}

#[test]
fn reload_applies_the_difference_and_leaves_unchanged_services_alone() {
    let home = Home::new();
    let first = "[services.db]\ncommand = \"sleep\"\nargs = [\"300\"]\n\n\
                 [services.web]\ncommand = \"sleep\"\nargs = [\"301\"]\n\n\
                 [services.worker]\ncommand = \"sleep\"\nargs = [\"302\"]\n";
    let dir = home.project("app", "stack.toml", first);
    let file = dir.join("stack.toml");
    let file = file.to_str().unwrap();
    home.ok(home.dir.path(), &["up", "-d", file, "-p", "shop"]);
    let db = home.pid_of("shop", "db");
    let web = home.pid_of("shop", "web");

    let second = "[services.db]\ncommand = \"sleep\"\nargs = [\"300\"]\n\n\
                  [services.web]\ncommand = \"sleep\"\nargs = [\"303\"]\n\n\
                  [services.cache]\ncommand = \"sleep\"\nargs = [\"304\"]\n";
    std::fs::write(file, second).unwrap();
    let stdout = home.ok(home.dir.path(), &["reload", file, "-p", "shop"]);
    let mut lines: Vec<&str> = stdout.lines().collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        ["added cache", "removed worker", "restarted web (changed)", "unchanged db"],
        "{stdout}"
    );

    assert_eq!(home.pid_of("shop", "db"), db, "the unchanged service keeps its process");
    assert_ne!(home.pid_of("shop", "web"), web, "the changed one was restarted");
    home.pid_of("shop", "cache");
    eventually(Duration::from_secs(10), "worker to be stopped", || {
        home.processes().iter().all(|p| p["name"] != "worker")
    });

    let unknown = home.tend(home.dir.path(), &["reload", file, "-p", "nosuch"]);
    assert_eq!(unknown.status.code(), Some(1), "{}", shown(&unknown));
}

#[test]
fn daemon_detach_starts_one_daemon_in_the_background() {
    let home = Home::new();
    let listen = home.url.trim_start_matches("http://");
    let state = home.state_dir();
    let args = ["daemon", "--detach", "--listen", listen, "--state-dir", state.to_str().unwrap()];
    let stdout = home.ok(home.dir.path(), &args);
    assert_eq!(stdout, format!("listening on {}\n", home.url));
    let daemon = home.daemon_pid().expect("a daemon holds the PID file");
    assert_ne!(session_of(daemon), session_of(std::process::id()));
    // It serves: a client finds it.
    home.ok(home.dir.path(), &["ps"]);

    let second = home.tend(home.dir.path(), &args);
    assert_eq!(second.status.code(), Some(1), "{}", shown(&second));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("already runs") && stderr.contains(&daemon.to_string()), "{stderr}");
    assert_eq!(home.daemon_pid(), Some(daemon));
}

#[test]
fn foreground_flags_are_refused_with_detach() {
    let home = Home::new();
    let dir = home.project("shop", "tend.toml", TWO_SERVICES);
    for flag in ["--fail-fast", "--exit-after-steps", "--quiet", "--mode=parallel"] {
        let output = home.tend(&dir, &["up", "-d", flag]);
        assert_eq!(output.status.code(), Some(2), "{flag}: {}", shown(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        let name = flag.split('=').next().unwrap();
        assert!(stderr.contains(name), "{flag}: {stderr}");
    }
    let output = home.tend(&dir, &["up", "--no-wait"]);
    assert_eq!(output.status.code(), Some(2), "{}", shown(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--detach"));
    // Nothing was started.
    assert_eq!(home.daemon_pid(), None);
}

#[test]
fn a_procfile_runs_on_the_daemon_with_its_port() {
    let home = Home::new();
    let dir =
        home.project("web-app", "Procfile", "web: echo port=$PORT $GREETING; exec sleep 300\n");
    std::fs::write(dir.join(".env"), "GREETING=hi\n").unwrap();
    home.ok(&dir, &["up", "-d", "Procfile"]);
    home.pid_of("web-app", "web");
    eventually(Duration::from_secs(10), "the service's first line", || {
        home.ok(&dir, &["logs", "web"]) == "port=5000 hi\n"
    });
}

#[test]
fn a_daemon_that_cannot_start_is_an_error_naming_its_log() {
    let home = Home::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let state = home.state_dir();
    let args = ["daemon", "--detach", "--listen", &listen, "--state-dir", state.to_str().unwrap()];
    let output = home.tend(home.dir.path(), &args);
    assert_eq!(output.status.code(), Some(1), "{}", shown(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the daemon exited at once"), "{stderr}");
    assert!(stderr.contains(&format!("cannot listen on {listen}")), "quotes the log: {stderr}");
    assert!(stderr.contains(&state.join("daemon.log").display().to_string()), "{stderr}");
}

#[test]
fn two_up_d_at_once_share_one_daemon() {
    let home = Home::new();
    let service = "[services.s]\ncommand = \"sleep\"\nargs = [\"300\"]\n";
    let dirs =
        [home.project("alpha", "tend.toml", service), home.project("beta", "tend.toml", service)];
    std::thread::scope(|scope| {
        let runs: Vec<_> =
            dirs.iter().map(|dir| scope.spawn(|| home.tend(dir, &["up", "-d"]))).collect();
        for run in runs {
            let output = run.join().unwrap();
            assert!(output.status.success(), "{}", shown(&output));
        }
    });
    let projects: Vec<Value> =
        home.processes().iter().map(|p| p["labels"]["project"].clone()).collect();
    assert_eq!(projects.len(), 2, "{projects:?}");
    assert!(
        projects.contains(&"alpha".into()) && projects.contains(&"beta".into()),
        "{projects:?}"
    );
}

#[test]
fn up_d_with_a_token_of_its_own_starts_no_daemon() {
    let home = Home::new();
    let shop = home.project("shop", "tend.toml", TWO_SERVICES);
    let output = home.tend(&shop, &["up", "-d", "--token", "mine"]);
    assert_eq!(output.status.code(), Some(1), "{}", shown(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("would not take the --token"), "{stderr}");
    assert!(!home.state_dir().join("tend.pid").exists(), "no daemon was started");
}
