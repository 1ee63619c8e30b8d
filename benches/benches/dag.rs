//! Pipelines: how close tend's DAG runner gets to the critical path, next to a wave scheduler
//! on the same graph; and what the runner adds to plain sequential spawns.
//!
//! `cargo bench -p tend-benches --bench dag` prints both comparisons. Each makespan is one
//! measured run of a scheduler (the steps sleep, so the figure is wall time, not CPU); a few
//! rounds alternate the two schedulers, and the medians are the `RATIO` line. The overhead
//! comparison alternates its sides over a few rounds too and reports medians.

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
const ROUNDS: usize = 5;
/// Rounds of the makespan comparison: one run of each scheduler per round.
const DAG_ROUNDS: usize = 3;

fn main() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dag = Dag::random(SEED);
    let critical = dag.critical_path();
    let edges = dag.deps.iter().map(Vec::len).sum::<usize>();
    println!("DAG: {STEPS} steps in {LAYERS} layers, {edges} edges, sleeps of 10-200 ms");
    println!(
        "critical path {:.0} ms; {DAG_ROUNDS} rounds, each scheduler once per round",
        ms(critical)
    );
    let ratio = |took: Duration| took.as_secs_f64() / critical.as_secs_f64();
    let (mut tend, mut waves) = (Vec::new(), Vec::new());
    for round in 1..=DAG_ROUNDS {
        let ours = runtime.block_on(dag.run_tend());
        let theirs = runtime.block_on(dag.run_waves());
        println!(
            "round {round}: tend {:.0} ms = {:.3} x critical path; waves {:.0} ms = {:.3} x",
            ms(ours),
            ratio(ours),
            ms(theirs),
            ratio(theirs)
        );
        tend.push(ours);
        waves.push(theirs);
    }
    let (tend, waves) = (median(tend), median(waves));
    println!(
        "RATIO makespan / critical path, median: tend {:.3}, waves {:.3}",
        ratio(tend),
        ratio(waves)
    );

    println!(
        "\nscheduling overhead: {SPAWNS} x /bin/true, one after another ({ROUNDS} rounds, medians)"
    );
    let mut samples = [const { Vec::new() }; 4];
    for _ in 0..ROUNDS {
        samples[0].push(plain_spawns(false));
        samples[1].push(plain_spawns(true));
        samples[2].push(runtime.block_on(service_runs()));
        samples[3].push(runtime.block_on(sequential_pipeline()));
    }
    let [status, output, service, runner] = samples.map(median);
    for (label, took) in [
        ("std::process::Command::status (baseline)", status),
        ("std::process::Command::output (piped)", output),
        ("tend Service::run, one after another", service),
        ("tend runner, sequential mode", runner),
    ] {
        println!("{label:<42} {:>6.0} ms {:>7.1} us/spawn", ms(took), per(took));
    }
    let over = |base: Duration| runner.as_secs_f64() / base.as_secs_f64();
    println!(
        "RATIO runner / status {:.3}, runner / output {:.3}, runner / Service::run {:.3}",
        over(status),
        over(output),
        over(service)
    );
}

/// The same programs through the service without the runner: what the process layer costs.
async fn service_runs() -> Duration {
    let service = Service::new();
    let began = Instant::now();
    for _ in 0..SPAWNS {
        service.run(tend::StartOptions::new("/bin/true")).await.unwrap();
    }
    began.elapsed()
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
        self.print_start_latency(&report);
        took
    }

    /// How long after its last dependency ended each step's process was running: the
    /// scheduler's hand-off plus fork and exec. Ends are start + duration, from the report.
    fn print_start_latency(&self, report: &tend::runner::Report) {
        let at = |i: usize| {
            let step = &report.steps[i];
            let start = step.started_at.unwrap();
            (start, start + Duration::from_secs_f64(step.duration_ms.unwrap() / 1000.0))
        };
        let mut gaps: Vec<f64> = (0..STEPS)
            .filter(|&i| !self.deps[i].is_empty())
            .map(|i| {
                let ready = self.deps[i].iter().map(|&d| at(d).1).max().unwrap();
                at(i).0.duration_since(ready).as_secs_f64() * 1000.0
            })
            .collect();
        gaps.sort_by(f64::total_cmp);
        let pick = |q: f64| gaps[((gaps.len() - 1) as f64 * q).round() as usize];
        println!(
            "tend: last dependency ended -> step running: median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
            pick(0.5),
            pick(0.95),
            pick(1.0)
        );
        let extra: f64 = (0..STEPS)
            .map(|i| report.steps[i].duration_ms.unwrap() - self.sleep[i].as_secs_f64() * 1000.0)
            .sum::<f64>()
            / STEPS as f64;
        println!(
            "tend: a step lasts {extra:.1} ms longer than its sleep on average (exec, exit, reaping)"
        );
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
