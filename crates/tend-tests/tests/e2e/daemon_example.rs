//! The `daemon` example, `tend daemons` and `tend health`, run as a user would run them.

use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use tend::daemon::HealthServer;

use crate::daemon_support::port_open;
use crate::support::{eventually, example_bin, runtime, tend_bin, wait_child};

const WAIT: Duration = Duration::from_secs(20);

/// A running example daemon, killed if the test fails.
struct Example {
    child: Child,
    addr: String,
    _stdout: Receiver<String>,
}

impl Example {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(example_bin());
        command.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start example");
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        let first = lines.recv_timeout(WAIT).expect("the example prints its first line");
        let addr = first.strip_prefix("health: ").expect("first line is `health: ADDR`").to_owned();
        Self { child, addr, _stdout: lines }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn signal(&self, name: &str) {
        let mut kill = Command::new("kill");
        kill.args([format!("-{name}"), self.pid().to_string()]);
        assert!(run(kill).status.success(), "kill -{name}");
    }

    /// Waits for exit; returns the exit code and stderr.
    fn finish(mut self) -> (Option<i32>, String) {
        let status = wait_child(&mut self.child, WAIT);
        let mut stderr = String::new();
        use std::io::Read;
        self.child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        (status.code(), stderr)
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(mut command: Command) -> Output {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    wait_child(&mut child, WAIT);
    child.wait_with_output().expect("output")
}

fn tend(args: &[&str]) -> Output {
    let mut command = Command::new(tend_bin());
    command.args(args).env_remove("TEND_REGISTRY_DIR");
    run(command)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn example_args<'a>(pid: &'a str, registry: &'a str) -> Vec<&'a str> {
    vec!["--pid-file", pid, "--registry-dir", registry, "--code", "core", "--name", "api"]
}

#[test]
fn example_serves_registers_and_stops_cleanly_on_sigterm_and_sigint() {
    for signal in ["TERM", "INT"] {
        let dir = tempfile::tempdir().unwrap();
        let pid_path = dir.path().join("api.pid");
        let registry = dir.path().join("daemons");
        let (pid_arg, registry_arg) =
            (pid_path.display().to_string(), registry.display().to_string());
        let example = Example::start(&example_args(&pid_arg, &registry_arg), &[]);
        let addr = example.addr.clone();

        let ready = tend(&["health", &addr, "--ready", "--timeout", "10s"]);
        assert!(ready.status.success(), "ready: {}", text(&ready.stderr));
        assert_eq!(std::fs::read_to_string(&pid_path).unwrap(), format!("{}\n", example.pid()));
        let listed = tend(&["daemons", "--json", "--registry-dir", &registry_arg]);
        let entries: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
        assert_eq!(entries[0]["code"], "core");
        assert_eq!(entries[0]["daemon"], "api");
        assert_eq!(entries[0]["pid"], example.pid());
        assert_eq!(entries[0]["health"], addr.as_str());
        assert_eq!(entries[0]["binary"], "daemon");

        example.signal(signal);
        let (code, stderr) = example.finish();
        assert_eq!(code, Some(0), "SIG{signal}: clean exit; stderr: {stderr}");
        assert!(!pid_path.exists(), "SIG{signal}: PID file removed");
        assert!(!port_open(&addr), "SIG{signal}: port closed");
        let listed = tend(&["daemons", "--json", "--registry-dir", &registry_arg]);
        assert_eq!(text(&listed.stdout).trim(), "[]", "SIG{signal}: unregistered");
    }
}

#[test]
fn a_second_example_exits_1_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let pid_path = dir.path().join("api.pid").display().to_string();
    let registry = dir.path().join("daemons").display().to_string();
    let first = Example::start(&example_args(&pid_path, &registry), &[]);
    let mut second = Command::new(example_bin());
    second.args(example_args(&pid_path, &registry));
    let output = run(second);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains(&format!("held by PID {}", first.pid())), "{stderr}");
    assert!(stderr.contains(&pid_path), "{stderr}");
    assert!(text(&output.stdout).is_empty(), "no health line from the loser");
    // The first instance is unaffected.
    let health = tend(&["health", &first.addr, "--timeout", "5s"]);
    assert!(health.status.success(), "{}", text(&health.stderr));
}

#[test]
fn example_tells_systemd_ready_and_stopping() {
    use std::os::linux::net::SocketAddrExt;
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("daemons").display().to_string();
    let socket_path = dir.path().join("notify.sock");
    let abstract_name = format!("tend-e2e-notify-{}", std::process::id());
    let abstract_addr =
        std::os::unix::net::SocketAddr::from_abstract_name(abstract_name.as_bytes()).unwrap();
    // systemd passes either a path or, with a leading `@`, an abstract socket name.
    let variants = [
        (UnixDatagram::bind(&socket_path).unwrap(), socket_path.display().to_string()),
        (UnixDatagram::bind_addr(&abstract_addr).unwrap(), format!("@{abstract_name}")),
    ];
    for (socket, notify) in variants {
        socket.set_read_timeout(Some(WAIT)).unwrap();
        let example =
            Example::start(&["--registry-dir", &registry], &[("NOTIFY_SOCKET", notify.as_str())]);
        let mut buf = [0u8; 256];
        let n = socket.recv(&mut buf).expect("READY=1 arrives");
        assert_eq!(&buf[..n], b"READY=1", "{notify}");
        example.signal("TERM");
        let n = socket.recv(&mut buf).expect("STOPPING=1 arrives");
        assert_eq!(&buf[..n], b"STOPPING=1", "{notify}");
        let (code, stderr) = example.finish();
        assert_eq!(code, Some(0), "{notify}: {stderr}");
    }
}

#[test]
fn tend_health_exit_codes_and_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("daemons").display().to_string();
    let example =
        Example::start(&["--registry-dir", &registry, "--unhealthy-after", "1500ms"], &[]);
    let addr = example.addr.clone();

    let healthy = tend(&["health", &addr]);
    assert_eq!(healthy.status.code(), Some(0), "{}", text(&healthy.stderr));
    assert_eq!(text(&healthy.stdout).trim(), format!("{addr}: healthy"));

    // Poll until the check starts failing; each probe is short and bounded.
    let mut failed = None;
    eventually(WAIT, "the example to turn unhealthy", || {
        let output = tend(&["health", &addr, "--timeout", "100ms"]);
        let done = output.status.code() == Some(1);
        failed = Some(output);
        done
    });
    let stderr = text(&failed.unwrap().stderr);
    assert!(stderr.contains("unhealthy: uptime: failing since 1s 500ms after start"), "{stderr}");
    assert!(stderr.contains(&addr), "{stderr}");

    let ready = tend(&["health", &addr, "--ready", "--timeout", "1s"]);
    assert_eq!(ready.status.code(), Some(0), "readiness is separate from health");

    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    let refused = tend(&["health", &closed, "--timeout", "300ms"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).to_lowercase().contains("refused"), "{}", text(&refused.stderr));

    let bad = tend(&["health", &addr, "--timeout", "soon"]);
    assert_eq!(bad.status.code(), Some(2), "a bad duration is a usage error");
    assert!(text(&bad.stderr).contains("--timeout"), "{}", text(&bad.stderr));
    example.signal("TERM");
    assert_eq!(example.finish().0, Some(0));
}

#[test]
fn tend_daemons_lists_live_entries_and_prunes_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("daemons");
    let registry_arg = registry.display().to_string();
    let empty = tend(&["daemons", "--json", "--registry-dir", &registry_arg]);
    assert!(empty.status.success());
    assert_eq!(text(&empty.stdout).trim(), "[]");

    let example =
        Example::start(&["--registry-dir", &registry_arg, "--code", "a-b", "--name", "c"], &[]);
    // A go-process entry for the same live process, a dead one and a corrupt one.
    let pid = example.pid();
    let go_entry = format!(
        r#"{{"code":"core","daemon":"api","pid":{pid},"health":"127.0.0.1:9000","started":"2025-01-01T00:00:00Z"}}"#
    );
    std::fs::write(registry.join("core-api.json"), go_entry).unwrap();
    std::fs::write(
        registry.join("core-dead.json"),
        r#"{"code":"core","daemon":"dead","pid":999999999,"started":"2025-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    let corrupt = registry.join("core-corrupt.json");
    std::fs::write(&corrupt, "{not json").unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(60);
    std::fs::File::options().write(true).open(&corrupt).unwrap().set_modified(old).unwrap();

    let table = tend(&["daemons", "--registry-dir", &registry_arg]);
    assert!(table.status.success(), "{}", text(&table.stderr));
    let table = text(&table.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "header and two live entries:\n{table}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["CODE", "DAEMON", "PID", "HEALTH", "STARTED"]);
    let first: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(first, ["core", "api", &pid.to_string(), "127.0.0.1:9000", "2025-01-01T00:00:00Z"]);
    let second: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(&second[..4], ["a-b", "c", &pid.to_string(), example.addr.as_str()]);
    assert!(!registry.join("core-dead.json").exists(), "dead entry pruned");
    assert!(!corrupt.exists(), "corrupt entry pruned");

    // TEND_REGISTRY_DIR is the default when no flag is given.
    let mut command = Command::new(tend_bin());
    command.args(["daemons", "--json"]).env("TEND_REGISTRY_DIR", &registry);
    let json: serde_json::Value = serde_json::from_slice(&run(command).stdout).unwrap();
    let codes: Vec<&str> =
        json.as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["core", "a-b"], "oldest first");

    example.signal("TERM");
    assert_eq!(example.finish().0, Some(0));
}

#[test]
fn example_serves_health_on_the_address_given() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("daemons").display().to_string();
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    let example = Example::start(&["--registry-dir", &registry, "--health-addr", &addr], &[]);
    assert_eq!(example.addr, addr);
    let health = tend(&["health", &addr, "--timeout", "5s"]);
    assert!(health.status.success(), "{}", text(&health.stderr));
    example.signal("TERM");
    assert_eq!(example.finish().0, Some(0));
}

#[test]
fn tend_health_ready_fails_while_not_ready_and_waits_for_readiness() {
    let rt = runtime();
    let mut server = rt.block_on(HealthServer::bind("127.0.0.1:0".parse().unwrap())).expect("bind");
    let addr = server.local_addr().to_string();

    let not_ready = tend(&["health", &addr, "--ready", "--timeout", "300ms"]);
    assert_eq!(not_ready.status.code(), Some(1));
    let stderr = text(&not_ready.stderr);
    assert!(stderr.contains("not ready") && stderr.contains(&addr), "{stderr}");
    let healthy = tend(&["health", &addr, "--timeout", "1s"]);
    assert_eq!(healthy.status.code(), Some(0), "health is separate from readiness");

    let mut waiting = Command::new(tend_bin())
        .args(["health", &addr, "--ready", "--timeout", "20s"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Still polling half a second in: it has not given up on the first 503.
    let polling_until = std::time::Instant::now() + Duration::from_millis(500);
    while std::time::Instant::now() < polling_until {
        assert!(waiting.try_wait().unwrap().is_none(), "gave up while the server was not ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.set_ready(true);
    assert!(wait_child(&mut waiting, WAIT).success());
    rt.block_on(server.stop(Duration::from_secs(5))).unwrap();
}
