//! The stack (issue 13): how fast a dependent starts once its dependency's port opens, how
//! long a chain of 50 services takes to come up, and how long it takes to go down in reverse
//! order — each next to a raw baseline in the same run.
//!
//! `cargo bench -p tend-benches --bench stack` (a plain `main`, about a minute) prints the
//! three comparisons, each with `RATIO` lines. `-- --quick` runs a short version (20 ms probe
//! interval only, 10 readiness runs, one chain round) and asserts the goals with generous
//! bounds; nothing in CI runs it.
//!
//! The services are `bench-service` (`benches/src/bin/bench-service.rs`), which records when
//! it started, listened, printed its ready line, got SIGTERM and exited, in a file the
//! benchmark reads: the services' own times are the baselines of the ratios. Every tend run
//! goes through the library's API: `Pipeline::with_services`, a `Runner` with a cancellation
//! token, and `Runner::on_event` for the moments tend saw things happen.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tend::probe::{Probe, Readiness};
use tend::runner::ServiceSpec;
use tend_benches::stack::{
    Kind, Stats, TendRun, chain_args, free_port, ms_between, own_sum, print_chain_parts, wait_for,
};
use tend_benches::timeline::{self, find};

const SERVICE: &str = env!("CARGO_BIN_EXE_bench-service");
/// Services in the chain.
const CHAIN: usize = 50;
/// A chain service prints its ready line this long after it starts.
const PRINT_AFTER_MS: u64 = 20;
/// A chain service exits this long after SIGTERM.
const TERM_DELAY_MS: u64 = 10;

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let intervals: &[u64] = if quick { &[20] } else { &[250, 20] };
    let runs = if quick { 10 } else { 50 };
    let mut medians = Vec::new();
    for &interval in intervals {
        medians.push((interval, readiness(&runtime, dir.path(), interval, runs)));
    }
    let rounds = if quick { 1 } else { 3 };
    let (startup, shutdown) = chain(&runtime, dir.path(), rounds);
    if quick {
        for (interval, median) in medians {
            assert!(median <= interval as f64 + 25.0, "readiness median {median:.1} ms");
        }
        assert!(startup <= 1.5, "chain startup ratio {startup:.3}");
        assert!(shutdown <= 1.5, "chain shutdown ratio {shutdown:.3}");
        println!("\nquick: every goal holds within the generous bounds");
    }
}

/// Readiness latency: `dep` listens on a port after a delay, `app` runs after `dep` is ready
/// (a `tcp` probe every `interval_ms`). The latency is from `dep`'s `listening` record to
/// `app`'s `start` record. The delays are spread evenly over one interval, so the port opens
/// at evenly spaced phases of the probe's polling: the expected latency is uniform over
/// `0..interval` plus tend's overhead. The raw baseline polls the same way by hand
/// (`TcpStream::connect` every interval, then `Command::spawn`). Returns tend's median (ms).
fn readiness(runtime: &tokio::runtime::Runtime, dir: &Path, interval_ms: u64, runs: usize) -> f64 {
    let interval = Duration::from_millis(interval_ms);
    let floor = 20.max(interval_ms / 2);
    println!(
        "\nreadiness: tcp probe every {interval_ms} ms, {runs} runs per side, the port opening \
         {floor}-{} ms after the dependency starts, evenly spaced (uniform phases of the \
         polling)",
        floor + interval_ms
    );
    let (mut tend, mut raw, mut paired) = (Vec::new(), Vec::new(), Vec::new());
    let mut parts = [const { Vec::new() }; 3];
    for run in 0..runs {
        // Evenly spaced over one interval: the phases of a uniform distribution, without
        // the noise of drawing them at random.
        let delay = floor as f64 + (run as f64 + 0.5) * interval_ms as f64 / runs as f64;
        let delay = format!("{delay:.3}");
        let record = dir.join(format!("ready-{interval_ms}-{run}"));
        let port = free_port();
        let dep = ServiceSpec::command("dep", SERVICE)
            .args(["dep", &path_str(&record), "--listen-after", &delay])
            .arg(port.to_string())
            .ready(
                Readiness::new(Probe::tcp(&format!("127.0.0.1:{port}")).unwrap())
                    .interval(interval),
            );
        let app =
            ServiceSpec::command("app", SERVICE).args(["app", &path_str(&record)]).after(["dep"]);
        let run_ = runtime.block_on(async {
            let run_ = TendRun::start(vec![dep, app]);
            wait_for("app's start", || find(&timeline::read(&record), "app", "start").is_some())
                .await;
            run_.stop().await
        });
        let records = timeline::read(&record);
        let open = find(&records, "dep", "listening").expect("dep listened");
        let running = find(&records, "app", "start").unwrap();
        let ready = run_.events.at(Kind::Ready, "dep").expect("a Ready event for dep");
        let started = run_.events.at(Kind::Started, "app").expect("a Started event for app");
        tend.push(ms_between(open, running));
        parts[0].push(ms_between(open, ready));
        parts[1].push(ms_between(ready, started));
        parts[2].push(ms_between(started, running));

        let record = dir.join(format!("raw-{interval_ms}-{run}"));
        raw.push(raw_readiness(&record, port, &delay, interval));
        paired.push(tend[run] - raw[run]);
    }
    let (tend, raw) = (Stats::of(tend), Stats::of(raw));
    println!("port open -> dependent running (its own first timestamp), ms:");
    println!("  tend       {tend}");
    println!("  raw poller {raw}");
    println!("  tend - raw, run by run (same delay) {}", Stats::of(paired));
    let [to_ready, to_started, to_running] = parts.map(|p| Stats::of(p).median);
    println!(
        "  tend's parts, medians: open -> Ready event {to_ready:.2}, Ready -> app's Started \
         event {to_started:.2}, Started -> app's main {to_running:.2}"
    );
    let half = interval_ms as f64 / 2.0;
    println!(
        "RATIO readiness median / goal (interval + 5 ms = {} ms): tend {:.3}, raw {:.3}; \
         tend / raw medians {:.3}; over interval/2: tend +{:.2} ms, raw +{:.2} ms",
        interval_ms + 5,
        tend.median / (interval_ms as f64 + 5.0),
        raw.median / (interval_ms as f64 + 5.0),
        tend.median / raw.median,
        tend.median - half,
        raw.median - half
    );
    tend.median
}

/// The raw baseline of one readiness run: spawn `dep`, connect every `interval` from its
/// spawn until a connection is accepted, then spawn `app`. Returns ms from `dep`'s
/// `listening` to `app`'s `start`.
fn raw_readiness(record: &Path, port: u16, delay: &str, interval: Duration) -> f64 {
    let record_arg = path_str(record);
    let dep_args = ["dep", &record_arg, "--listen-after", delay, &port.to_string()];
    let mut dep = spawn(&dep_args, Stdio::null());
    let began = Instant::now();
    let mut tick = 0;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        tick += 1;
        std::thread::sleep((began + interval * tick).saturating_duration_since(Instant::now()));
        assert!(began.elapsed() < Duration::from_secs(30), "dep never listened");
    }
    let mut app = spawn(&["app", &record_arg], Stdio::null());
    let records = poll_records(record, |r| find(r, "app", "start").is_some());
    for child in [&mut app, &mut dep] {
        child.kill().unwrap();
        child.wait().unwrap();
    }
    ms_between(find(&records, "dep", "listening").unwrap(), find(&records, "app", "start").unwrap())
}

/// The chain: `c00` to `c49`, each after the one before, each ready by a `log` probe on the
/// line it prints 20 ms after it starts, each exiting 10 ms after SIGTERM. Up: from the call
/// of `Runner::run` to the last one's `Ready` event, against the sum of their own
/// start-to-print times. Down: from the cancellation to `Runner::run` returning, against the sum of their own TERM-to-exit times (in reverse
/// order each waits for the one after it, so that sum is the critical path). A service's own
/// times start at its `main`: creating the process (fork, exec, loading) is not in them, so
/// any supervisor, the raw baseline too, pays it on top, once per link. The raw baseline
/// does the same with `Command::spawn` and a pipe read (up) and `kill(TERM)` + `wait` (down).
/// Returns tend's median ratios (up, down).
fn chain(runtime: &tokio::runtime::Runtime, dir: &Path, rounds: usize) -> (f64, f64) {
    println!(
        "\nchain of {CHAIN} services, each after the one before, ready {PRINT_AFTER_MS} ms after \
         it starts (log probe), exiting {TERM_DELAY_MS} ms after SIGTERM; {rounds} rounds, both \
         sides per round"
    );
    let names: Vec<String> = (0..CHAIN).map(|i| format!("c{i:02}")).collect();
    let mut ratios = [const { Vec::new() }; 4];
    for round in 1..=rounds {
        let record = dir.join(format!("chain-{round}"));
        let services = names.iter().enumerate().map(|(i, name)| {
            let spec = ServiceSpec::command(name, SERVICE)
                .args(chain_args(name, &record, PRINT_AFTER_MS, TERM_DELAY_MS))
                .ready(Readiness::new(Probe::log("^ready$").unwrap()));
            if i == 0 { spec } else { spec.after([&names[i - 1]]) }
        });
        let (up, down, run_) = runtime.block_on(async {
            let run_ = TendRun::start(services.collect());
            let last = &names[CHAIN - 1];
            wait_for("the chain's last Ready", || run_.events.at(Kind::Ready, last).is_some())
                .await;
            let up = ms_between(run_.began_ns, run_.events.at(Kind::Ready, last).unwrap());
            let run_ = run_.stop().await;
            // From the cancellation to `Runner::run` returning.
            (up, ms_between(run_.stopped_ns, run_.ended_ns), run_)
        });
        let records = timeline::read(&record);
        let (own_up, own_down) = (
            own_sum(&records, &names, "start", "printed"),
            own_sum(&records, &names, "term", "exit"),
        );
        println!(
            "round {round}: tend up {up:.0} ms / own {own_up:.0} ms = {:.3}; down {down:.0} ms / \
             own {own_down:.0} ms = {:.3}",
            up / own_up,
            down / own_down
        );
        print_chain_parts(&names, &records, &run_);
        ratios[0].push(up / own_up);
        ratios[1].push(down / own_down);

        let record = dir.join(format!("raw-chain-{round}"));
        let (raw_up, raw_down) = raw_chain(&names, &record);
        let records = timeline::read(&record);
        let (own_up, own_down) = (
            own_sum(&records, &names, "start", "printed"),
            own_sum(&records, &names, "term", "exit"),
        );
        println!(
            "round {round}: raw  up {raw_up:.0} ms / own {own_up:.0} ms = {:.3}; down {raw_down:.0} \
             ms / own {own_down:.0} ms = {:.3}",
            raw_up / own_up,
            raw_down / own_down
        );
        ratios[2].push(raw_up / own_up);
        ratios[3].push(raw_down / own_down);
    }
    let [up, down, raw_up, raw_down] = ratios.map(|r| Stats::of(r).median);
    println!(
        "RATIO chain up: all ready / sum of own start-to-ready, median: tend {up:.3}, raw {raw_up:.3}"
    );
    println!(
        "RATIO chain down: shutdown / critical path of own stop times, median: tend {down:.3}, raw \
         {raw_down:.3}"
    );
    (up, down)
}

/// The raw chain: each child spawned once the one before printed `ready` on its pipe; then
/// SIGTERM to each, last first, each after the one after it has exited. Returns (up, down) ms.
fn raw_chain(names: &[String], record: &Path) -> (f64, f64) {
    let began = Instant::now();
    let mut children = Vec::new();
    for name in names {
        let mut child =
            spawn(&chain_args(name, record, PRINT_AFTER_MS, TERM_DELAY_MS), Stdio::piped());
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while line.trim_end() != "ready" {
            line.clear();
            assert!(stdout.read_line(&mut line).unwrap() > 0, "{name} ended before ready");
        }
        children.push((child, stdout));
    }
    let up = began.elapsed().as_secs_f64() * 1e3;
    let stop = Instant::now();
    for (child, _) in children.iter_mut().rev() {
        rustix::process::kill_process(
            rustix::process::Pid::from_child(child),
            rustix::process::Signal::TERM,
        )
        .unwrap();
        assert!(child.wait().unwrap().success());
    }
    (up, stop.elapsed().as_secs_f64() * 1e3)
}

fn spawn<S: AsRef<std::ffi::OsStr>>(args: &[S], stdout: Stdio) -> Child {
    Command::new(SERVICE).args(args).stdin(Stdio::null()).stdout(stdout).spawn().unwrap()
}

fn poll_records(
    record: &Path,
    done: impl Fn(&[(String, String, u64)]) -> bool,
) -> Vec<(String, String, u64)> {
    let began = Instant::now();
    loop {
        let records = timeline::read(record);
        if done(&records) {
            return records;
        }
        assert!(began.elapsed() < Duration::from_secs(30), "records never complete: {records:?}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn path_str(path: &Path) -> String {
    path.to_str().expect("a UTF-8 temp path").to_owned()
}
