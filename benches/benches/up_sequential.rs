//! `tend up --mode sequential` on a stack file of 500 steps running `/bin/true`, the whole CLI
//! included (process start, file parse, guardian, runtime, live printer, summary table), against
//! a plain `sh` loop running the same 500 programs.
//!
//! `cargo bench -p tend-benches --bench up_sequential` (a plain `main`, about 20 s when quiet).
//! The tend arm runs `bench-tend`, this package's copy of the `tend` binary (its `main` is the
//! same one line over `tend_cli::main_impl`), built by `cargo bench` with the bench profile;
//! set `TEND_BIN` to measure another build instead (e.g. `target/release/tend`). Output goes
//! to `/dev/null` for both arms (tend prints its live lines and the summary there; not a
//! terminal, so no progress bar).
//!
//! The arms alternate within each round (which one goes first alternates too), so a change
//! in machine load hits both alike. Each round prints both wall times and their ratio; the
//! `RATIO` line gives the ratio of the medians, the range over the rounds, and the goal
//! (issue 17: at most 1.0). A `CPU` line adds the processor time each arm used over all the
//! rounds (user + system, its children included, from `/proc/self/stat` in clock ticks): on a
//! loaded machine that ratio moves less than the wall times do.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Programs each arm runs one after another.
const SPAWNS: usize = 500;
/// Rounds: one run of each arm per round.
const ROUNDS: usize = 9;
/// Issue 17's goal for tend / sh.
const GOAL: f64 = 1.0;

fn main() {
    let tend = std::env::var_os("TEND_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_bench-tend")), PathBuf::from);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("tend.toml");
    std::fs::write(&file, stack_file()).expect("writing the stack file");
    let script = format!("i=0; while [ $i -lt {SPAWNS} ]; do /bin/true; i=$((i+1)); done");
    // State (the guardian, logs) must not land in the user's directories.
    let state = dir.path().join("state");

    println!(
        "{SPAWNS} x /bin/true one after another: `{} up --mode sequential` vs `sh -c '{script}'` (load average {})",
        tend.display(),
        load_average()
    );
    // One unmeasured run of each: page cache, binary loading.
    let _ = run_tend(&tend, &file, &state);
    let _ = run_sh(&script);
    let (mut ours, mut theirs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut our_cpu, mut their_cpu) = (0, 0);
    let tend_cpu = |t: &mut u64| cpu_of(t, || run_tend(&tend, &file, &state));
    for round in 1..=ROUNDS {
        let (t, s) = if round % 2 == 1 {
            let t = tend_cpu(&mut our_cpu);
            (t, cpu_of(&mut their_cpu, || run_sh(&script)))
        } else {
            let s = cpu_of(&mut their_cpu, || run_sh(&script));
            (tend_cpu(&mut our_cpu), s)
        };
        let ratio = t.as_secs_f64() / s.as_secs_f64();
        println!("round {round}: tend {:.1} ms, sh {:.1} ms, ratio {ratio:.3}", ms(t), ms(s));
        ours.push(t);
        theirs.push(s);
        ratios.push(ratio);
    }
    let (t, s) = (median(&mut ours), median(&mut theirs));
    let ratio = t.as_secs_f64() / s.as_secs_f64();
    ratios.sort_by(f64::total_cmp);
    let verdict = if ratio <= GOAL { "met" } else { "MISSED" };
    println!(
        "RATIO up_sequential_500 (medians of {ROUNDS} rounds, interleaved): tend {:.1} ms / sh {:.1} ms = {ratio:.3} (rounds {:.3}-{:.3}); goal <= {GOAL:.2}: {verdict}",
        ms(t),
        ms(s),
        ratios[0],
        ratios[ratios.len() - 1]
    );
    println!(
        "CPU up_sequential_500 (user + system, children included, all {ROUNDS} rounds): tend {our_cpu} ticks / sh {their_cpu} ticks = {:.3} (load average {})",
        our_cpu as f64 / their_cpu.max(1) as f64,
        load_average()
    );
}

/// The 1, 5 and 15 minute load averages: on a loaded machine the single-threaded `sh` loop
/// loses more wall time than tend does, so the wall ratio flatters tend there.
fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split(' ').take(3).collect::<Vec<_>>().join(" ")
}

/// Runs `arm`, adding the processor time its (reaped) processes used to `total`.
fn cpu_of(total: &mut u64, arm: impl FnOnce() -> Duration) -> Duration {
    let before = children_cpu_ticks();
    let took = arm();
    *total += children_cpu_ticks() - before;
    took
}

/// User + system time of this process's reaped children (and theirs), in clock ticks:
/// `cutime` and `cstime`, fields 16 and 17 of `/proc/self/stat`.
fn children_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("reading /proc/self/stat");
    // After the command name in parentheses (which may hold spaces): field 3 onwards.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("a stat line") + 2..].split(' ').collect();
    let field = |n: usize| fields[n - 3].parse::<u64>().expect("a number of clock ticks");
    field(16) + field(17)
}

/// 500 steps, each `/bin/true`; sequential mode runs them in file order.
fn stack_file() -> String {
    (0..SPAWNS).map(|i| format!("[steps.s{i:03}]\ncommand = \"/bin/true\"\n\n")).collect()
}

fn run_tend(tend: &Path, file: &Path, state: &Path) -> Duration {
    let mut command = Command::new(tend);
    command.args(["up", "--mode", "sequential"]).arg(file).env("XDG_STATE_HOME", state);
    timed(command, "tend up")
}

fn run_sh(script: &str) -> Duration {
    let mut command = Command::new("sh");
    command.args(["-c", script]);
    timed(command, "sh")
}

/// Wall time from the spawn to the reaped exit; panics unless it exits 0.
fn timed(mut command: Command, what: &str) -> Duration {
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    let start = Instant::now();
    let status = command.status().unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let took = start.elapsed();
    assert!(status.success(), "{what} failed: {status}");
    took
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
