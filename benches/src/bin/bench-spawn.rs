//! The raw baseline of the start rate: plain `std::process::Command` starting N children as
//! fast as one thread can, each with its output piped and kept open (as a supervisor holds
//! it), in a process group of its own.
//!
//! `bench-spawn N PROGRAM [ARG...]` prints `spawn_rate <starts per second>`, then kills and
//! reaps every child. `scripts/bench-scale.sh` runs it beside `tend daemon` in each round.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(count), Some(program)) = (args.first().and_then(|n| n.parse().ok()), args.get(1))
    else {
        eprintln!("usage: bench-spawn N PROGRAM [ARG...]");
        std::process::exit(2);
    };
    let start = Instant::now();
    let mut children = Vec::with_capacity(count);
    for _ in 0..count {
        let child = Command::new(program)
            .args(&args[2..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn();
        match child {
            Ok(child) => children.push(child),
            Err(error) => {
                eprintln!("bench-spawn: start {} failed: {error}", children.len() + 1);
                break;
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "spawn_rate {:.2} ({} started in {seconds:.3} s)",
        children.len() as f64 / seconds,
        children.len()
    );
    for child in &mut children {
        let _ = child.kill();
    }
    for mut child in children {
        let _ = child.wait();
    }
}
