//! A SIGKILL of `tend run` at any moment of its start leaves nothing running.
//!
//! The group used to be registered with the guardian only after `spawn` returned, so a
//! supervisor killed between the fork and that write left the whole group running (the
//! guardian read end-of-file with an empty list). Now the child is born in the supervisor's
//! cgroup, or carries a token the guardian sweeps for. Here `tend run` is killed 200 times,
//! 0–100 ms after it started, by four threads at once, alternating the cgroup and the
//! environment-token modes; and so is a program embedding the library with its defaults (no
//! containment), where the guardian kills the groups of token carriers in its session.

use std::process::{Command, Stdio};
use std::time::Duration;

use rustix::process::Signal as Sig;

use crate::escape_support::{MODES, Marker};
use crate::support::{FIXTURE, send_signal, tend_bin, wait_child};

const KILLS: u64 = 200;
const THREADS: u64 = 4;

#[test]
fn sigkill_of_tend_run_at_any_moment_leaves_nothing_running() {
    kill_many(|i| MODES[(i % 2) as usize]);
}

#[test]
fn sigkill_of_a_program_embedding_the_library_at_any_moment_leaves_nothing_running() {
    kill_many(|_| ("library defaults", ""));
}

/// [`KILLS`] kills from [`THREADS`] threads, kill `i` in `mode(i)`.
fn kill_many(mode: fn(u64) -> (&'static str, &'static str)) {
    let threads: Vec<_> = (0..THREADS)
        .map(|thread| {
            std::thread::spawn(move || {
                for i in (thread..KILLS).step_by(THREADS as usize) {
                    // Spread over 0..=100 ms, in an order that mixes short and long delays.
                    let delay = Duration::from_millis(i * 37 % 101);
                    kill_once(delay, mode(i));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("a kill left something running");
    }
}

fn kill_once(delay: Duration, (mode, no_cgroup): (&str, &str)) {
    let marker = Marker::new();
    let script = format!("{} & {}", marker.sleep(1005), marker.sleep(1006));
    let mut supervisor = if mode == "library defaults" {
        let mut fixture = Command::new(FIXTURE);
        fixture.args(["supervise", "sh", "-c", &script]);
        fixture
    } else {
        let mut run = Command::new(tend_bin());
        run.args(["run", "--", "sh", "-c", &script]).env("TEND_NO_CGROUP", no_cgroup);
        run
    };
    let mut run = supervisor
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tend run");
    std::thread::sleep(delay);
    send_signal(run.id(), Sig::KILL);
    wait_child(&mut run, Duration::from_secs(10));
    // Counted by the marker in their command lines: `tend run`'s own copies (a child not yet
    // past exec, the guardian) count too, until they are gone.
    marker.assert_none_left(Duration::from_secs(5), &format!("SIGKILL after {delay:?}, {mode}"));
}
