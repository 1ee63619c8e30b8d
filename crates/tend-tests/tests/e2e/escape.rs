//! Nothing is left running: descendants that left their process group and session
//! (`setsid`) are killed when `tend daemon`, `tend up` or `tend run` stops or dies, with a
//! cgroup (where one is writable, as on the test machines) and without one (the environment
//! token, `TEND_NO_CGROUP=1`). The binaries are child subreapers: escapees are re-parented to
//! them, and reaped when they end, without taking the statuses of their own children.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rustix::process::Signal as Sig;

use crate::daemon_support::{HelperSpec, hear, helper_role, say};
use crate::escape_support::{MODES, Marker, cmdline};
use crate::support::{eventually, send_signal, stat, tend_bin, wait_child};

/// How long the guardian or the stop may take to clear everything.
const CLEARED: Duration = Duration::from_secs(10);

/// A `tend daemon` on a free port, in a temporary state directory.
struct Daemon {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
    no_cgroup: &'static str,
}

impl Daemon {
    fn start(no_cgroup: &'static str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(tend_bin())
            .args(["daemon", "--listen", "127.0.0.1:0", "--grace", "2s", "--state-dir"])
            .arg(dir.path().join("xdg/tend"))
            .arg("--registry-dir")
            .arg(dir.path().join("registry"))
            .env("TEND_NO_CGROUP", no_cgroup)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn tend daemon");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("listening on ").expect("listening line").to_owned();
        Self { child, url, dir, no_cgroup }
    }

    /// `tend ARGS` against this daemon; fails the test unless it exits 0.
    fn tend(&self, args: &[&str]) -> String {
        let output = Command::new(tend_bin())
            .args(args)
            .env("TEND_SERVER", &self.url)
            .env("XDG_STATE_HOME", self.dir.path().join("xdg"))
            .env("TEND_REGISTRY_DIR", self.dir.path().join("registry"))
            .env_remove("TEND_TOKEN")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(output.status.success(), "tend {args:?} ({} mode): {output:?}", self.no_cgroup);
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn start_sh(&self, name: &str, script: &str) {
        self.tend(&["start", "--name", name, "--", "sh", "-c", script]);
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Ten `sh -c 'setsid sleep & sleep'` on a daemon, then `signal` to the daemon.
fn daemon_case(signal: Sig) {
    for (mode, no_cgroup) in MODES {
        let marker = Marker::new();
        let mut daemon = Daemon::start(no_cgroup);
        for i in 0..10 {
            daemon.start_sh(&format!("escape{i}"), &marker.escaping_script());
        }
        marker.wait_for_sleeps(20); // ten in the shells' groups, ten that left them
        send_signal(daemon.child.id(), signal);
        let status = wait_child(&mut daemon.child, Duration::from_secs(30));
        if signal == Sig::TERM {
            assert_eq!(status.code(), Some(0), "{mode}: the daemon stops cleanly");
        }
        marker.assert_none_left(CLEARED, &format!("daemon {signal:?}, {mode}"));
    }
}

#[test]
fn daemon_sigterm_leaves_no_setsid_escapee() {
    daemon_case(Sig::TERM);
}

#[test]
fn daemon_sigkill_leaves_no_setsid_escapee() {
    daemon_case(Sig::KILL);
}

/// `tend up` with three escaping steps, then `signal` to it.
fn up_case(signal: Sig) {
    for (mode, no_cgroup) in MODES {
        let marker = Marker::new();
        let dir = tempfile::tempdir().unwrap();
        let steps: String = (0..3)
            .map(|i| format!("[steps.s{i}]\nrun = \"{}\"\n", marker.escaping_script()))
            .collect();
        std::fs::write(dir.path().join("tend.toml"), steps).unwrap();
        let mut up = supervisor(&["up", "--quiet"], dir.path(), no_cgroup);
        marker.wait_for_sleeps(6);
        send_signal(up.id(), signal);
        wait_child(&mut up, Duration::from_secs(30));
        marker.assert_none_left(CLEARED, &format!("tend up {signal:?}, {mode}"));
    }
}

#[test]
fn tend_up_sigterm_leaves_no_setsid_escapee() {
    up_case(Sig::TERM);
}

#[test]
fn tend_up_sigkill_leaves_no_setsid_escapee() {
    up_case(Sig::KILL);
}

/// `tend run` of an escaping script, then `signal` to it.
fn run_case(signal: Sig) {
    for (mode, no_cgroup) in MODES {
        let marker = Marker::new();
        let script = marker.escaping_script();
        let mut run = supervisor(
            &["run", "--grace", "2s", "--", "sh", "-c", &script],
            Path::new("/"),
            no_cgroup,
        );
        marker.wait_for_sleeps(2);
        send_signal(run.id(), signal);
        wait_child(&mut run, Duration::from_secs(30));
        marker.assert_none_left(CLEARED, &format!("tend run {signal:?}, {mode}"));
    }
}

#[test]
fn tend_run_sigterm_leaves_no_setsid_escapee() {
    run_case(Sig::TERM);
}

#[test]
fn tend_run_sigkill_leaves_no_setsid_escapee() {
    run_case(Sig::KILL);
}

/// A program that ends normally leaves no escapee either: it goes with `tend run`.
#[test]
fn tend_run_takes_escapees_of_a_finished_program_along() {
    for (mode, no_cgroup) in MODES {
        let marker = Marker::new();
        let script = format!("{} & exit 0", marker.setsid_sleep(1003));
        let mut run = supervisor(&["run", "--", "sh", "-c", &script], Path::new("/"), no_cgroup);
        let status = wait_child(&mut run, Duration::from_secs(30));
        assert_eq!(status.code(), Some(0), "{mode}");
        marker.assert_none_left(CLEARED, &format!("tend run finished, {mode}"));
    }
}

/// An escapee whose parent ended is re-parented to the daemon (a child subreaper), not to
/// init; when it ends, the daemon reaps it: no zombie stays behind.
#[test]
fn the_daemon_adopts_escapees_and_reaps_them() {
    for (mode, no_cgroup) in MODES {
        let marker = Marker::new();
        let daemon = Daemon::start(no_cgroup);
        let daemon_pid = daemon.child.id();
        daemon.start_sh("orphaner", &format!("{} & exit 0", marker.setsid_sleep(1003)));
        // The shell's command line carries the marker too: pick the sleep.
        let escapee = crate::support::eventually_some(CLEARED, "the escapee to start", || {
            marker.survivors().into_iter().find(|&pid| cmdline(pid).starts_with("sleep "))
        });
        eventually(Duration::from_secs(10), "the escapee to be re-parented to the daemon", || {
            stat(escapee).is_some_and(|s| s.ppid == daemon_pid)
        });
        send_signal(escapee, Sig::KILL);
        eventually(Duration::from_secs(10), &format!("the daemon to reap it ({mode})"), || {
            stat(escapee).is_none_or(|s| s.ppid != daemon_pid)
        });
        // Its own child's status was not taken: the record says how the shell exited.
        daemon.tend(&["wait", "orphaner"]);
    }
}

/// A subreaper reaps what it adopts, never the statuses of its own children: 60 steps whose
/// shells each leave an orphan that exits at once all end `exited 0`.
#[test]
fn reaping_orphans_never_takes_a_step_s_status() {
    let dir = tempfile::tempdir().unwrap();
    let steps: String = (0..60)
        .map(|i| format!("[steps.s{i}]\nrun = \"setsid sh -c 'exit 3' & exit 0\"\n"))
        .collect();
    std::fs::write(dir.path().join("tend.toml"), steps).unwrap();
    for (mode, no_cgroup) in MODES {
        let mut up = supervisor(&["up", "--quiet", "--jobs", "8"], dir.path(), no_cgroup);
        let status = wait_child(&mut up, Duration::from_secs(50));
        assert_eq!(status.code(), Some(0), "{mode}: every step exited 0");
    }
}

/// `tend ARGS` in `dir`, quiet, with or without cgroups.
fn supervisor(args: &[&str], dir: &Path, no_cgroup: &str) -> Child {
    Command::new(tend_bin())
        .args(args)
        .current_dir(dir)
        .env("TEND_NO_CGROUP", no_cgroup)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tend")
}

/// Through the library: a program that turns containment on and dies by SIGKILL takes
/// everything along — including what left its group — except a detached process.
#[test]
fn containment_spares_detached_processes() {
    if let Some(role) = helper_role() {
        contained_program(&role);
        return;
    }
    for (mode, _) in MODES {
        let marker = Marker::new();
        let detached = marker.sleep(1007);
        let program = HelperSpec::new("escape::containment_spares_detached_processes", mode)
            .env("ESCAPE_SCRIPT", marker.escaping_script())
            .env("ESCAPE_DETACHED", &detached)
            .spawn();
        assert_eq!(program.next_line(Duration::from_secs(20)), "started");
        marker.wait_for_sleeps(3); // the shell's two, and the detached one
        send_signal(program.pid(), Sig::KILL);
        eventually(CLEARED, &format!("only the detached process to be left ({mode})"), || {
            let left = marker.survivors();
            left.len() == 1 && cmdline(left[0]).contains(&detached)
        });
    }
}

/// The helper: contains its descendants (with a cgroup or by environment, as `mode` says),
/// starts an escaping script and a detached sleep, and waits to be killed.
fn contained_program(mode: &str) {
    let containment = tend::process::contain_descendants(mode == MODES[0].0);
    assert_eq!(containment.cgroup, mode == MODES[0].0, "{containment:?}");
    assert!(containment.subreaper);
    let script = std::env::var("ESCAPE_SCRIPT").unwrap();
    let detached = std::env::var("ESCAPE_DETACHED").unwrap();
    let runtime = crate::support::runtime();
    runtime.block_on(async {
        let service = tend::Service::new();
        service.start(tend::StartOptions::new("sh").args(["-c", &script])).unwrap();
        let detached = tend::StartOptions::new("sh")
            .args(["-c", &format!("exec {detached}")])
            .detach(true)
            .output(tend::OutputMode::Null);
        service.start(detached).unwrap();
        say("started");
        // Until the test kills us.
        let _ = tokio::task::spawn_blocking(hear).await;
    });
}

/// The keeper (of the cgroup, or of the process's environment token) is a second watcher,
/// separate from the service's guardian: SIGKILLing `tend run` and its guardian together still
/// leaves nothing. (Killing the keeper as well leaves nothing of ours to act; see the
/// `process` module's caveats.)
#[test]
fn sigkill_of_tend_run_and_its_guardian_together_leaves_nothing() {
    for (mode, no_cgroup) in MODES {
        let marker = Marker::new();
        let script = marker.escaping_script();
        let mut run = supervisor(&["run", "--", "sh", "-c", &script], Path::new("/"), no_cgroup);
        marker.wait_for_sleeps(2);
        let guardian = children_named(run.id(), "tend-guardian");
        assert_eq!(guardian.len(), 1, "{mode}: one guardian under tend run");
        assert_eq!(children_named(run.id(), "tend-keeper").len(), 1, "{mode}: one keeper");
        send_signal(run.id(), Sig::KILL);
        send_signal(guardian[0], Sig::KILL);
        wait_child(&mut run, Duration::from_secs(30));
        marker.assert_none_left(CLEARED, &format!("tend run and its guardian SIGKILLed, {mode}"));
    }
}

fn children_named(parent: u32, name: &str) -> Vec<u32> {
    crate::support::children_of(parent)
        .into_iter()
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == name)
        })
        .collect()
}

/// A `tend` run by a `tend`, both with a cgroup: a SIGKILL of the outer one kills everything,
/// and removes both cgroup directories (the inner one's keeper dies with it).
#[test]
fn nested_tends_leave_neither_processes_nor_cgroups() {
    let marker = Marker::new();
    let tend = tend_bin();
    let tend = tend.to_str().unwrap();
    let script = marker.escaping_script();
    let mut outer =
        supervisor(&["run", "--", tend, "run", "--", "sh", "-c", &script], Path::new("/"), "0");
    marker.wait_for_sleeps(2);
    let cgroup = std::fs::read_to_string(format!("/proc/{}/cgroup", outer.id())).unwrap();
    let cgroup = cgroup.lines().find_map(|l| l.strip_prefix("0::")).unwrap().to_owned();
    assert!(cgroup.ends_with(&format!("/tend-{}", outer.id())), "outer in its cgroup: {cgroup}");
    let dir = cgroup2_mount().join(cgroup.trim_start_matches('/'));
    assert!(dir.is_dir(), "{} exists", dir.display());
    send_signal(outer.id(), Sig::KILL);
    wait_child(&mut outer, Duration::from_secs(30));
    marker.assert_none_left(CLEARED, "nested tend run SIGKILLed");
    eventually(CLEARED, "both cgroup directories to be removed", || !dir.exists());
}

/// Where the unified (v2) cgroup hierarchy is mounted.
fn cgroup2_mount() -> std::path::PathBuf {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let line = mounts.lines().find(|l| l.contains(" - cgroup2 ")).expect("a cgroup2 mount");
    line.split(' ').nth(4).unwrap().into()
}
