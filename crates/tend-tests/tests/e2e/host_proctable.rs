//! The process table against processes these tests start, and `tend procs`.
//!
//! Also home of the helpers the `program` and `exec` tests share: "is anything of this
//! process group still alive".

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tend::proctable::{self, ProcState, ProcessEntry};

use crate::support::{eventually, eventually_some, tend_bin, until};

/// Every wait in these tests is bounded by this; generous, for a loaded machine.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

/// The members of process group `pgid` that have not exited (zombies are dead: whoever
/// inherited them just has not reaped them yet).
pub(crate) fn live_members(pgid: u32) -> Vec<ProcessEntry> {
    proctable::processes()
        .expect("process table")
        .into_iter()
        .filter(|p| p.pgid == pgid && p.state != ProcState::Zombie && p.state != ProcState::Dead)
        .collect()
}

/// Waits until nothing of process group `pgid` is alive.
pub(crate) async fn assert_group_gone(pgid: u32) {
    until(PATIENCE, &format!("process group {pgid} to die"), || live_members(pgid).is_empty())
        .await;
}

/// Kills a whole process group (test clean-up; already gone is fine).
pub(crate) fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}

/// A child in a process group of its own, killed with its group when dropped.
struct Group(Child);

impl Group {
    fn spawn(command: &mut Command) -> Group {
        Group(command.process_group(0).stdin(Stdio::null()).spawn().expect("spawn"))
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        kill_group(self.0.id());
        let _ = self.0.wait();
    }
}

/// An executable shell script `name` in `dir` that sleeps in a child and waits for it, so the
/// script's own process (named after the file) stays.
fn sleeping_script(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, "#!/bin/sh\nsleep 30 &\nwait\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn state_of(pid: u32) -> Option<ProcState> {
    proctable::get(pid).unwrap().map(|p| p.state)
}

fn pids(entries: &[ProcessEntry]) -> Vec<u32> {
    entries.iter().map(|p| p.pid).collect()
}

#[test]
fn finds_a_started_process_by_its_long_name_and_its_kernel_prefix() {
    let dir = tempfile::tempdir().unwrap();
    // 26 bytes: the kernel keeps the first 15.
    let name = format!("tend-pt-{:08}-long", std::process::id());
    assert!(name.len() > proctable::COMM_LEN);
    let script = sleeping_script(dir.path(), &name);
    let child = Group::spawn(&mut Command::new(&script));
    let pid = child.pid();

    let found = eventually_some(PATIENCE, "the script in the table", || {
        let found = proctable::find_by_name(&name).unwrap();
        found.iter().any(|p| p.pid == pid).then_some(found)
    });
    let entry = found.iter().find(|p| p.pid == pid).unwrap();
    assert_eq!(entry.name, name[..proctable::COMM_LEN]);
    assert_eq!(entry.ppid, std::process::id());
    assert_eq!(entry.pgid, pid, "it leads its own group");
    assert!(entry.start_time > 0);
    assert_eq!(proctable::get(pid).unwrap().unwrap().start_time, entry.start_time);

    // The 15-byte prefix is an exact match; a shorter one is not a match.
    assert!(pids(&proctable::find_by_name(&name[..15]).unwrap()).contains(&pid));
    assert!(!pids(&proctable::find_by_name(&name[..14]).unwrap()).contains(&pid));
    // Its `sleep` child is in its group under its own name.
    eventually_some(PATIENCE, "the sleep child", || {
        proctable::find_by_name("sleep").unwrap().into_iter().find(|p| p.ppid == pid)
    });
    assert_eq!(live_members(pid).len(), 2);
}

#[test]
fn reports_sleeping_stopped_and_zombie_states() {
    let sleeper = Group::spawn(Command::new("sleep").arg("30"));
    let pid = sleeper.pid();
    eventually(PATIENCE, "sleep to be sleeping", || state_of(pid) == Some(ProcState::Sleeping));

    let stop = Command::new("kill").args(["-STOP", &pid.to_string()]).status().unwrap();
    assert!(stop.success());
    eventually(PATIENCE, "sleep to be stopped", || state_of(pid) == Some(ProcState::Stopped));
    assert!(proctable::count_by_state().unwrap().get(&ProcState::Stopped).copied() >= Some(1));
    assert!(proctable::is_alive(pid), "a stopped process is alive");

    // A child that exited and that we have not waited for is a zombie: listed, but not alive.
    let mut short = Command::new("true").spawn().unwrap();
    let zombie = short.id();
    eventually(PATIENCE, "true to be a zombie", || state_of(zombie) == Some(ProcState::Zombie));
    assert!(!proctable::is_alive(zombie));
    assert!(proctable::count_by_state().unwrap().get(&ProcState::Zombie).copied() >= Some(1));
    let in_table = proctable::processes().unwrap().into_iter().find(|p| p.pid == zombie);
    assert_eq!(in_table.map(|p| p.state), Some(ProcState::Zombie));

    // Reaped, it is gone from every answer.
    short.wait().unwrap();
    assert_eq!(proctable::get(zombie).unwrap(), None);
    assert!(!pids(&proctable::processes().unwrap()).contains(&zombie));
}

#[test]
fn a_busy_process_is_running() {
    let busy = Group::spawn(Command::new("sh").args(["-c", "while :; do :; done"]));
    let pid = busy.pid();
    eventually(PATIENCE, "the busy loop to be running", || {
        state_of(pid) == Some(ProcState::Running)
    });
    assert!(proctable::count_by_state().unwrap().get(&ProcState::Running).copied() >= Some(1));
}

#[test]
fn counts_include_started_processes() {
    let sleepers: Vec<Group> =
        (0..5).map(|_| Group::spawn(Command::new("sleep").arg("30"))).collect();
    for sleeper in &sleepers {
        let pid = sleeper.pid();
        eventually_some(PATIENCE, "a sleeper to be listed", || proctable::get(pid).unwrap());
    }
    let count = proctable::count_pids().unwrap();
    let by_state: usize = proctable::count_by_state().unwrap().values().sum();
    let listed = proctable::processes().unwrap().len();
    assert!(count > sleepers.len(), "count_pids {count}");
    // The machine is shared, so the three readings may differ a little, but not a lot.
    for other in [by_state, listed] {
        assert!(count.abs_diff(other) < 200, "count_pids {count} vs {other}");
    }
    drop(sleepers);
}

#[test]
fn a_vanished_pid_is_absent_not_an_error() {
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    assert_eq!(proctable::get(pid).unwrap(), None);
    assert!(!proctable::is_alive(pid));
    assert!(!pids(&proctable::find_by_name("true").unwrap()).contains(&pid));
}

#[test]
fn scans_survive_processes_vanishing_mid_scan() {
    // One thread starts and reaps short-lived processes as fast as it can while this one
    // scans: some will be listed in /proc and gone before their stat is read.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut spawned = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let children: Vec<Child> =
                    (0..8).filter_map(|_| Command::new("true").spawn().ok()).collect();
                for mut child in children {
                    let _ = child.wait();
                    spawned += 1;
                }
            }
            spawned
        })
    };
    for _ in 0..100 {
        proctable::processes().expect("scan while processes vanish");
        proctable::count_by_state().expect("count while processes vanish");
        proctable::find_by_name("true").expect("find while processes vanish");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(churn.join().unwrap() > 0, "the churn thread started nothing");
}

#[test]
fn tend_procs_filters_by_name_and_state_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("tend-cli-{:08}-procs", std::process::id());
    let child = Group::spawn(&mut Command::new(sleeping_script(dir.path(), &name)));
    let pid = child.pid();
    eventually(PATIENCE, "the script to be sleeping", || {
        state_of(pid) == Some(ProcState::Sleeping)
    });

    let json = tend(&["procs", "--name", &name, "--json"]);
    let listed: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mine = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == pid)
        .unwrap_or_else(|| panic!("{pid} not in {json}"));
    assert_eq!(mine["ppid"], std::process::id());
    assert_eq!(mine["pgid"], pid);
    assert_eq!(mine["name"], &name[..15]);
    assert_eq!(mine["state"], "sleeping");
    assert!(mine["start_time"].as_u64().unwrap() > 0);

    assert_eq!(tend(&["procs", "--name", &name, "--state", "sleeping", "--count"]).trim(), "1");
    assert_eq!(tend(&["procs", "--name", &name, "--state", "zombie", "--count"]).trim(), "0");
    let table = tend(&["procs", "--name", &name]);
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["PID", "PPID", "PGID", "STATE", "NAME"]);
    let row: Vec<String> = lines.next().unwrap().split_whitespace().map(String::from).collect();
    let me = std::process::id().to_string();
    assert_eq!(row, [&pid.to_string(), &me, &pid.to_string(), "sleeping", &name[..15]]);
    let total: usize = tend(&["procs", "--count"]).trim().parse().unwrap();
    assert!(total >= 2);
}

#[test]
fn tend_procs_rejects_a_bad_state_naming_it() {
    let out = assert_cmd::Command::cargo_bin("tend")
        .unwrap()
        .args(["procs", "--state", "snoozing"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("snoozing"), "{stderr}");
}

/// Runs the `tend` binary, expecting success, and returns its stdout.
fn tend(args: &[&str]) -> String {
    let out = Command::new(tend_bin()).args(args).output().unwrap();
    assert!(out.status.success(), "tend {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}
