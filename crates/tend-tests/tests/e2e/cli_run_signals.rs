//! `tend run` and signals: SIGINT and SIGTERM to tend shut the program's group down
//! gracefully, whenever they arrive; SIGKILL to tend takes the group down through the guardian.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rustix::process::Signal as Sig;

use crate::support::{
    DEADLINE, Strays, children_of, eventually, fixture_path, group_alive, line_channel, next_line,
    pid_alive, send_signal, stat, tend_bin,
};

/// A `tend run` left running, with its stdout read line by line; SIGKILLed if still alive
/// when dropped.
struct Live {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Live {
    fn start(options: &[&str], mode: &[&str]) -> Self {
        let mut child = Command::new(tend_bin())
            .arg("run")
            .args(options)
            .arg("--")
            .arg(fixture_path())
            .args(mode)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn tend");
        let lines = line_channel(child.stdout.take().unwrap());
        Live { child, lines }
    }

    fn line(&self) -> String {
        next_line(&self.lines, "tend run's stdout")
    }

    fn wait(&mut self) -> ExitStatus {
        let child = &mut self.child;
        let mut status = None;
        eventually(DEADLINE, "tend run to exit", || {
            status = child.try_wait().unwrap();
            status.is_some()
        });
        status.unwrap()
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn output_is_streamed_while_the_program_runs_and_sigterm_stops_its_group() {
    let mut strays = Strays::default();
    let mut tend = Live::start(&[], &["spawn", "2", "30"]);
    let children: Vec<u32> = (0..2).map(|_| strays.watch(pid_line(&tend.line()))).collect();
    assert_eq!(tend.line(), "ready");
    assert!(tend.child.try_wait().unwrap().is_none(), "tend is still running");
    let program = child_of(tend.child.id());

    send_signal(tend.child.id(), Sig::TERM);
    let status = tend.wait();
    assert_eq!(status.code(), Some(128 + 15), "the program died of the SIGTERM we passed on");
    assert!(!pid_alive(program));
    eventually(DEADLINE, "the program's children to die of SIGTERM too", || {
        children.iter().all(|&pid| !pid_alive(pid))
    });
}

#[test]
fn a_second_interrupt_kills_at_once() {
    let mut tend = Live::start(&["--grace", "30s"], &["ignore-term"]);
    assert_eq!(tend.line(), "ready");
    send_signal(tend.child.id(), Sig::INT);
    assert_eq!(tend.line(), "got SIGTERM");
    let start = Instant::now();
    send_signal(tend.child.id(), Sig::INT);
    assert_eq!(tend.wait().code(), Some(128 + 9));
    assert!(start.elapsed() < Duration::from_secs(5), "waited {:?}", start.elapsed());
}

/// The PID in a `pid N` line.
fn pid_line(line: &str) -> u32 {
    line.strip_prefix("pid ").and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("{line:?}"))
}

#[test]
fn sigint_shuts_the_group_down_gracefully() {
    let mut tend = Live::start(&["--grace", "1s"], &["ignore-term"]);
    assert_eq!(tend.line(), "ready");
    let program = child_of(tend.child.id());

    let start = Instant::now();
    send_signal(tend.child.id(), Sig::INT);
    assert_eq!(tend.line(), "got SIGTERM", "SIGINT to tend is SIGTERM to the program");
    let status = tend.wait();
    assert!(start.elapsed() >= Duration::from_secs(1), "no grace: {:?}", start.elapsed());
    assert_eq!(status.code(), Some(128 + 9), "SIGKILL after the grace period");
    assert!(!group_alive(program));
}

/// `tend run` killed with SIGKILL runs no code at all: its guardian takes the group down.
#[test]
fn sigkill_of_tend_takes_the_whole_group_down_within_a_second() {
    let mut strays = Strays::default();
    let mut tend = Live::start(&[], &["spawn", "3", "60"]);
    let children: Vec<u32> = (0..3).map(|_| strays.watch(pid_line(&tend.line()))).collect();
    assert_eq!(tend.line(), "ready");
    let leader = strays.watch(stat(children[0]).unwrap().ppid);
    assert_eq!(leader, child_of(tend.child.id()));
    assert_eq!(stat(leader).unwrap().pgrp, leader);

    send_signal(tend.child.id(), Sig::KILL);
    let killed = Instant::now();
    tend.wait();
    let family: Vec<u32> = [leader].into_iter().chain(children).collect();
    eventually(Duration::from_secs(1), "the program's group to die with tend", || {
        family.iter().all(|&pid| !pid_alive(pid))
    });
    eprintln!("group gone {:?} after tend's SIGKILL", killed.elapsed());
    assert!(!group_alive(leader));
}

/// The program `tend run` started: its one child running the fixture. (The other child, the
/// guardian, is forked without exec, and may not even have renamed itself yet.)
fn child_of(tend: u32) -> u32 {
    let programs: Vec<u32> = children_of(tend)
        .into_iter()
        .filter(|&pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            cmdline.split(|&b| b == 0).next() == Some(fixture_path().as_bytes())
        })
        .collect();
    assert_eq!(programs.len(), 1, "fixtures among the children of tend: {programs:?}");
    programs[0]
}

/// Whenever SIGINT arrives, nothing `tend run` started may outlive it: neither before the
/// program exists, nor while it starts, nor once it runs. A survivor holds tend's stdout, so
/// the pipe not reaching end-of-file shows it.
#[test]
fn an_early_interrupt_never_orphans_the_program() {
    for attempt in 0..40u64 {
        let mut tend = Command::new(tend_bin())
            .args(["run", "--grace", "100ms", "--", fixture_path(), "sleep", "30"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let lines = line_channel(tend.stdout.take().unwrap());
        // From "before tend has done anything" to "the program surely runs".
        std::thread::sleep(Duration::from_micros(attempt * attempt * 10));
        send_signal(tend.id(), Sig::INT);
        let mut status = None;
        eventually(DEADLINE, "tend to exit after SIGINT", || {
            status = tend.try_wait().unwrap();
            status.is_some()
        });
        let end_of_file = Instant::now() + DEADLINE;
        loop {
            match lines.recv_timeout(end_of_file.saturating_duration_since(Instant::now())) {
                Ok(_) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    panic!("attempt {attempt}: something tend started outlived it ({status:?})")
                }
            }
        }
    }
}
