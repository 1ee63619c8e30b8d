//! Pipelines: how close tend's DAG runner gets to the critical path, next to a wave scheduler
//! on the same graph; and what the runner adds to plain sequential spawns.
//!
//! `cargo bench -p tend-benches --bench dag` prints both comparisons. Each makespan is one
//! measured run (the steps sleep, so the figure is wall time, not CPU); the overhead
//! comparison alternates the two sides over a few rounds and reports medians.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tend::Service;
use tend::runner::{Mode, Pipeline, Runner, Step};

/// Steps in the random DAG.
const STEPS: usize = 200;
/// Layers it is built in.
const LAYERS: usize = 12;
/// Seed of the graph and the sleep times, so every run measures the same DAG.
const SEED: u64 = 0x7e4d_da65;
/// Programs run one after another in the overhead comparison.
const SPAWNS: usize = 500;
/// Rounds of the overhead comparison (medians reported).
const ROUNDS: usize = 3;

fn main() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dag = Dag::random(SEED);
    let critical = dag.critical_path();
    println!(
        "DAG: {STEPS} steps in {LAYERS} layers, {} edges, sleeps of 10-200 ms; critical path {:.0} ms",
        dag.deps.iter().map(Vec::len).sum::<usize>(),
        ms(critical)
    );
    let tend = runtime.block_on(dag.run_tend());
    let waves = runtime.block_on(dag.run_waves());
    println!("{:<34} {:>10} {:>16}", "scheduler", "makespan", "/ critical path");
    for (name, took) in
        [("tend runner (ready-driven DAG)", tend), ("wave scheduler (same service)", waves)]
    {
        println!(
            "{name:<34} {:>7.0} ms {:>16.3}",
            ms(took),
            took.as_secs_f64() / critical.as_secs_f64()
        );
    }

    println!(
        "\nscheduling overhead: {SPAWNS} x /bin/true, one after another ({ROUNDS} rounds, medians)"
    );
    let (mut runner, mut status, mut output) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        status.push(plain_spawns(false));
        output.push(plain_spawns(true));
        runner.push(runtime.block_on(sequential_pipeline()));
    }
    let (runner, status, output) = (median(runner), median(status), median(output));
    println!(
        "{:<44} {:>8.0} ms {:>7.1} us/spawn",
        "std::process::Command::status (baseline)",
        ms(status),
        per(status)
    );
    println!(
        "{:<44} {:>8.0} ms {:>7.1} us/spawn",
        "std::process::Command::output (piped)",
        ms(output),
        per(output)
    );
    println!(
        "{:<44} {:>8.0} ms {:>7.1} us/spawn",
        "tend runner, sequential mode",
        ms(runner),
        per(runner)
    );
    println!("ratio runner / status: {:.3}", runner.as_secs_f64() / status.as_secs_f64());
    println!("ratio runner / output: {:.3}", runner.as_secs_f64() / output.as_secs_f64());
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn per(total: Duration) -> f64 {
    total.as_secs_f64() * 1e6 / SPAWNS as f64
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// A random layered DAG: every step after layer 0 runs after one to three steps of earlier
/// layers, at least one of them in the layer just before.
struct Dag {
    sleep: Vec<Duration>,
    deps: Vec<Vec<usize>>,
}

impl Dag {
    fn random(seed: u64) -> Self {
        let mut rng = SplitMix(seed);
        let per_layer = STEPS / LAYERS;
        let layer: Vec<usize> = (0..STEPS).map(|i| (i / per_layer).min(LAYERS - 1)).collect();
        let first_of = |l: usize| layer.iter().position(|&x| x == l).unwrap();
        let mut deps = vec![Vec::new(); STEPS];
        for step in 0..STEPS {
            let l = layer[step];
            if l == 0 {
                continue;
            }
            let (previous, this) = (first_of(l - 1), first_of(l));
            let mut mine = vec![previous + rng.below(this - previous)];
            for _ in 0..rng.below(3) {
                let earlier = rng.below(this);
                if !mine.contains(&earlier) {
                    mine.push(earlier);
                }
            }
            deps[step] = mine;
        }
        let sleep = (0..STEPS).map(|_| Duration::from_millis(10 + rng.below(191) as u64)).collect();
        Self { sleep, deps }
    }

    /// The longest chain of sleeps: the least time any scheduler can take.
    fn critical_path(&self) -> Duration {
        // Steps are numbered in layer order, so dependencies come first.
        let mut finish = vec![Duration::ZERO; STEPS];
        for step in 0..STEPS {
            let start = self.deps[step].iter().map(|&d| finish[d]).max().unwrap_or_default();
            finish[step] = start + self.sleep[step];
        }
        finish.into_iter().max().unwrap()
    }

    fn step(&self, i: usize) -> Step {
        Step::command(format!("s{i:03}"), "sleep")
            .arg(format!("{:.3}", self.sleep[i].as_secs_f64()))
            .after(self.deps[i].iter().map(|d| format!("s{d:03}")))
    }

    async fn run_tend(&self) -> Duration {
        let pipeline = Pipeline::new((0..STEPS).map(|i| self.step(i)).collect()).unwrap();
        let runner = Runner::new(Service::new());
        let began = Instant::now();
        let report = runner.run(&pipeline).await;
        let took = began.elapsed();
        assert!(report.success, "{:?}", report.totals);
        took
    }

    /// go-process's way: waves by depth, each wave waits for its slowest step.
    async fn run_waves(&self) -> Duration {
        let service = Service::new();
        let mut depth = vec![0; STEPS];
        for step in 0..STEPS {
            depth[step] = self.deps[step].iter().map(|&d| depth[d] + 1).max().unwrap_or(0);
        }
        let waves = depth.iter().max().unwrap() + 1;
        let began = Instant::now();
        for wave in 0..waves {
            let mut running = Vec::new();
            for step in (0..STEPS).filter(|&s| depth[s] == wave) {
                let options = tend::StartOptions::new("sleep")
                    .arg(format!("{:.3}", self.sleep[step].as_secs_f64()));
                running.push(service.start(options).unwrap());
            }
            for process in running {
                assert_eq!(process.wait().await.exit_code, Some(0));
            }
        }
        began.elapsed()
    }
}

async fn sequential_pipeline() -> Duration {
    let steps = (0..SPAWNS).map(|i| Step::command(format!("t{i}"), "/bin/true")).collect();
    let pipeline = Pipeline::new(steps).unwrap();
    let runner = Runner::new(Service::new()).mode(Mode::Sequential);
    let began = Instant::now();
    let report = runner.run(&pipeline).await;
    let took = began.elapsed();
    assert!(report.success);
    took
}

fn plain_spawns(piped: bool) -> Duration {
    let began = Instant::now();
    for _ in 0..SPAWNS {
        let mut command = Command::new("/bin/true");
        let ok = if piped {
            command.stdin(Stdio::null()).output().unwrap().status.success()
        } else {
            command.status().unwrap().success()
        };
        assert!(ok);
    }
    began.elapsed()
}

/// A small, seeded generator (SplitMix64): the same DAG on every machine.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
