//! Managed processes against the raw baseline, side by side in one run, with ratios.
//!
//! `cargo bench -p tend-benches --bench process` runs:
//! * `start_wait`: start + wait of `/bin/true`, tend (capture on) vs `Command::output()`;
//! * `drain_1gib`: draining 1 GiB of 100-byte lines, tend (capture, and capture + one event
//!   subscriber) vs a plain 64 KiB read loop over the same pipe; then the subscriber arm and
//!   the read loop interleaved, seven rounds, a `RATIO` each (goal >= 0.90; alone with
//!   `-- interleaved`);
//! * `child_wall_1m_lines`: the child's own wall time printing 1,000,000 lines, managed
//!   (capture + events + one subscriber) vs writing straight into a file;
//! * `idle_memory`: supervisor memory per idle managed `sleep`, for 1000 of them.
//!
//! Each comparison ends with a `RATIO` line; BENCHMARKS.md records them.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};
use tend::{EventKind, Received, Service, ServiceConfig, StartOptions, Status};
use tend_benches::{criterion_dir, print_ratio};
use tokio::runtime::Runtime;

const GIB: u64 = 1 << 30;
const CHILD: &str = env!("CARGO_BIN_EXE_bench-child");

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn start_wait(c: &mut Criterion, rt: &Runtime) {
    let service = Service::new();
    let mut group = c.benchmark_group("start_wait");
    group.bench_function("std_output", |b| {
        b.iter(|| assert!(Command::new("/bin/true").output().unwrap().status.success()))
    });
    group.bench_function("tend_run", |b| {
        b.iter(|| rt.block_on(service.run(StartOptions::new("/bin/true"))).unwrap())
    });
    group.finish();
}

/// The same comparison with the two arms alternating run by run, so a change in machine load
/// hits both alike; prints the ratio of the medians per round and over all runs, against
/// issue 17's goal.
fn interleaved_start_wait(rt: &Runtime) {
    const ROUNDS: usize = 5;
    const RUNS: usize = 200;
    const GOAL: f64 = 1.05;
    let service = Service::new();
    let median = |times: &mut Vec<Duration>| {
        times.sort();
        times[times.len() / 2].as_secs_f64() * 1e3
    };
    let (mut all_plain, mut all_managed, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        let (mut plain, mut managed) = (Vec::with_capacity(RUNS), Vec::with_capacity(RUNS));
        for _ in 0..RUNS {
            let start = Instant::now();
            assert!(Command::new("/bin/true").output().unwrap().status.success());
            plain.push(start.elapsed());
            let start = Instant::now();
            rt.block_on(service.run(StartOptions::new("/bin/true"))).unwrap();
            managed.push(start.elapsed());
        }
        all_plain.extend_from_slice(&plain);
        all_managed.extend_from_slice(&managed);
        let (plain, managed) = (median(&mut plain), median(&mut managed));
        let ratio = managed / plain;
        println!(
            "start_wait round {round}: tend_run {managed:.3} ms / std_output {plain:.3} ms = {ratio:.3}"
        );
        ratios.push(ratio);
    }
    ratios.sort_by(f64::total_cmp);
    let (plain, managed) = (median(&mut all_plain), median(&mut all_managed));
    let ratio = managed / plain;
    let verdict = if ratio <= GOAL { "met" } else { "MISSED" };
    println!(
        "RATIO start_wait (interleaved, {} runs each): tend_run {managed:.3} ms / std_output {plain:.3} ms = {ratio:.3} (rounds {:.3}-{:.3}); goal <= {GOAL:.2}: {verdict}",
        ROUNDS * RUNS,
        ratios[0],
        ratios[ROUNDS - 1]
    );
}

/// `yes` piped through `head`: 1 GiB of 100-byte lines, as fast as the machine can make them.
fn flood() -> (String, Vec<String>) {
    let script = format!("yes {} | head -c {GIB}", "x".repeat(99));
    ("sh".into(), vec!["-c".into(), script])
}

/// Drains the flood with a plain 64 KiB read loop: the baseline.
fn plain_read_loop(program: &str, args: &[String]) {
    let mut child = Command::new(program).args(args).stdout(Stdio::piped()).spawn().unwrap();
    let mut pipe = child.stdout.take().unwrap();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        match pipe.read(&mut buffer).unwrap() {
            0 => break,
            n => total += n as u64,
        }
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(total, GIB);
}

fn drain(c: &mut Criterion, rt: &Runtime) {
    let (program, args) = flood();
    let service = Service::new();
    let mut group = c.benchmark_group("drain_1gib");
    group.sample_size(10).sampling_mode(SamplingMode::Flat).throughput(Throughput::Bytes(GIB));
    group.bench_function("plain_read_loop", |b| b.iter(|| plain_read_loop(&program, &args)));
    group.bench_function("tend_capture", |b| {
        b.iter(|| {
            let options = StartOptions::new(&program).args(args.clone());
            let info = rt.block_on(async { service.start(options).unwrap().wait().await });
            assert_eq!(info.status, Status::Exited);
        })
    });
    group.bench_function("tend_capture_events", |b| {
        b.iter(|| {
            let options = StartOptions::new(&program).args(args.clone());
            let lines = rt.block_on(run_with_subscriber(&service, options));
            assert_eq!(lines, GIB.div_ceil(100)); // the last 24 bytes end without a newline
        })
    });
    group.finish();
}

/// The drain with one subscriber receiving every line as an event against the plain read
/// loop, the arms alternating run by run (the order flipping every round) so a change in
/// load hits both alike: a `RATIO` of throughputs per round, then of the medians.
fn interleaved_drain_events(rt: &Runtime) {
    const ROUNDS: usize = 7;
    const GOAL: f64 = 0.90;
    let (program, args) = flood();
    // The default bus holds 16 MiB (about 160,000 of these lines) for a subscriber behind. On
    // a loaded machine the subscriber, which spends more CPU per line than the reader, gets
    // no more CPU than it and falls behind steadily. This comparison is of throughput with
    // every line delivered, so the bus here may hold the whole flood (at most 1.1 GiB).
    let config = ServiceConfig {
        event_capacity: 16 << 20,
        event_bytes: 2 << 30,
        ..ServiceConfig::default()
    };
    let service = Service::with_config(config);
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        f();
        start.elapsed().as_secs_f64()
    };
    let mut plain_run = || plain_read_loop(&program, &args);
    let mut events_run = || {
        let options = StartOptions::new(&program).args(args.clone());
        let lines = rt.block_on(run_with_subscriber(&service, options));
        assert_eq!(lines, GIB.div_ceil(100));
    };
    let (mut plain, mut events) = (Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        let (p, e) = if round % 2 == 1 {
            let p = time(&mut plain_run);
            (p, time(&mut events_run))
        } else {
            let e = time(&mut events_run);
            (time(&mut plain_run), e)
        };
        println!(
            "RATIO drain_1gib with one subscriber, round {round}: {:.3} GiB/s / plain {:.3} GiB/s = {:.3} (load average {})",
            1.0 / e,
            1.0 / p,
            p / e,
            load_average()
        );
        plain.push(p);
        events.push(e);
    }
    let median = |times: &mut Vec<f64>| {
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    let ratios: Vec<f64> = plain.iter().zip(&events).map(|(p, e)| p / e).collect();
    let (low, high) = ratios.iter().fold((f64::MAX, 0f64), |(l, h), r| (l.min(*r), h.max(*r)));
    let ratio = median(&mut plain) / median(&mut events);
    let verdict = if ratio >= GOAL { "met" } else { "MISSED" };
    println!(
        "RATIO drain_1gib with one subscriber (interleaved, {ROUNDS} rounds): throughput {ratio:.3} x the plain read loop (ratio of medians; rounds {low:.3}-{high:.3}); goal >= {GOAL}: {verdict}"
    );
}

/// The first field of /proc/loadavg.
fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().next().unwrap_or("?").to_owned()
}

/// Runs one process with a subscriber draining every event; returns the output lines seen.
async fn run_with_subscriber(service: &Service, options: StartOptions) -> u64 {
    let mut events = service.subscribe();
    let process = service.start(options).unwrap();
    let id = process.id();
    let mut lines = 0;
    let mut ready = Vec::with_capacity(1024);
    'events: while events.recv_many(&mut ready, 1024).await > 0 {
        for received in ready.drain(..) {
            match received {
                Received::Event(event) if event.id == id => match event.kind {
                    EventKind::Output { .. } => lines += 1,
                    EventKind::Exited { .. } => break 'events,
                    _ => {}
                },
                Received::Event(_) => {}
                Received::Lagged { missed } => panic!("the subscriber lagged by {missed} events"),
            }
        }
    }
    process.wait().await;
    lines
}

/// The child's self-reported wall time from its stderr.
fn elapsed(stderr: &[u8]) -> Duration {
    let text = String::from_utf8_lossy(stderr);
    let nanos = text
        .lines()
        .find_map(|l| l.strip_prefix("elapsed_ns="))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("bench-child reported no time: {text}"));
    Duration::from_nanos(nanos)
}

fn child_wall(c: &mut Criterion, rt: &Runtime) {
    const LINES: &str = "1000000";
    let service = Service::new();
    let file = std::env::temp_dir().join("tend-bench-lines.txt");
    let mut group = c.benchmark_group("child_wall_1m_lines");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.bench_function("to_file", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let out = std::fs::File::create(&file).unwrap();
                    let done = Command::new(CHILD).args(["lines", LINES]).stdout(out).output();
                    elapsed(&done.unwrap().stderr)
                })
                .sum()
        })
    });
    group.bench_function("tend_capture_events", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let options = StartOptions::new(CHILD).args(["lines", LINES]);
                    let stderr = rt.block_on(async {
                        let mut events = service.subscribe();
                        let process = service.start(options).unwrap();
                        let drain = tokio::spawn(async move {
                            while let Some(received) = events.recv().await {
                                match received {
                                    Received::Event(event) => {
                                        if matches!(event.kind, EventKind::Exited { .. }) {
                                            break;
                                        }
                                    }
                                    Received::Lagged { missed } => {
                                        eprintln!("subscriber lagged by {missed} events")
                                    }
                                }
                            }
                        });
                        process.wait().await;
                        drain.await.unwrap();
                        process.output().stderr()
                    });
                    elapsed(&stderr)
                })
                .sum()
        })
    });
    group.finish();
    let _ = std::fs::remove_file(file);
}

/// Resident memory of this process in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn idle_memory(rt: &Runtime) {
    const COUNT: usize = 1000;
    tend::raise_open_file_limit().unwrap();
    let service = Service::new();
    // Warm the runtime and the guardian so their one-off costs are not counted per process.
    rt.block_on(service.run(StartOptions::new("/bin/true"))).unwrap();
    let before = rss_kib();
    let started = Instant::now();
    let processes: Vec<_> = rt.block_on(async {
        (0..COUNT).map(|_| service.start(StartOptions::new("sleep").arg("120")).unwrap()).collect()
    });
    let start_time = started.elapsed();
    // Let every reader task reach its first pending read before measuring.
    rt.block_on(async { tokio::time::sleep(Duration::from_millis(500)).await });
    let after = rss_kib();
    let per_process = (after.saturating_sub(before)) as f64 / COUNT as f64;
    println!(
        "idle_memory: {COUNT} managed sleeps started in {:.0} ms; supervisor RSS {before} KiB -> {after} KiB",
        start_time.as_secs_f64() * 1e3
    );
    println!("RATIO idle_memory: {per_process:.1} KiB per managed process (goal <= 64 KiB)");
    rt.block_on(service.shutdown(Duration::from_secs(2)));
    assert!(processes.iter().all(|p| p.status().is_finished()));
}

fn main() {
    let rt = runtime();
    let mut c = Criterion::default().output_directory(&criterion_dir()).configure_from_args();
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    if wanted("start_wait") {
        start_wait(&mut c, &rt);
    }
    if wanted("drain_1gib") {
        drain(&mut c, &rt);
    }
    if wanted("child_wall_1m_lines") {
        child_wall(&mut c, &rt);
    }
    c.final_summary();
    if wanted("start_wait") {
        print_ratio("start_wait", "start_wait", "tend_run", "std_output");
        interleaved_start_wait(&rt);
    }
    if wanted("drain_1gib") {
        print_ratio(
            "drain_1gib (time; throughput ratio is the inverse)",
            "drain_1gib",
            "tend_capture",
            "plain_read_loop",
        );
        print_ratio(
            "drain_1gib with one subscriber",
            "drain_1gib",
            "tend_capture_events",
            "plain_read_loop",
        );
    }
    // `-- interleaved` runs this comparison alone.
    if wanted("drain_1gib_interleaved") {
        interleaved_drain_events(&rt);
    }
    if wanted("child_wall_1m_lines") {
        print_ratio("child_wall_1m_lines", "child_wall_1m_lines", "tend_capture_events", "to_file");
    }
    if wanted("idle_memory") {
        idle_memory(&rt);
    }
}
