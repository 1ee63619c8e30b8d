//! Helpers of the stack benchmark (`benches/benches/stack.rs`): a tend run with its events
//! timestamped, waits with deadlines, and the statistics it prints.

use std::fmt;
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tend::runner::{Pipeline, Report, Runner, ServiceSpec, ServiceStatus, StepEvent};
use tend::{CancellationToken, Service};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::timeline::{find, now_ns};

/// The runner events the benchmark times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `StepEvent::Started`: a service's process was started.
    Started,
    /// `StepEvent::Ready`.
    Ready,
    /// `StepEvent::Stopping`: its stop signal is being sent.
    Stopping,
    /// `StepEvent::ServiceFinished`.
    Finished,
}

/// Every timed event of one run, with the wall-clock time the observer saw it.
#[derive(Clone, Default)]
pub struct Events(Arc<Mutex<Vec<(u64, Kind, String)>>>);

impl Events {
    fn observe(&self, event: &StepEvent) {
        let now = now_ns();
        let (kind, name) = match event {
            StepEvent::Started { step, .. } => (Kind::Started, step),
            StepEvent::Ready { service, .. } => (Kind::Ready, service),
            StepEvent::Stopping { service } => (Kind::Stopping, service),
            StepEvent::ServiceFinished(report) => (Kind::Finished, &report.name),
            _ => return,
        };
        self.0.lock().unwrap().push((now, kind, name.clone()));
    }

    /// When the first `kind` event of `name` was seen.
    pub fn at(&self, kind: Kind, name: &str) -> Option<u64> {
        let events = self.0.lock().unwrap();
        events.iter().find(|(_, k, n)| *k == kind && n == name).map(|e| e.0)
    }
}

/// A stack run through the library's API, in a task of the current runtime.
pub struct TendRun {
    /// Its events, as they come.
    pub events: Events,
    /// When the run began (wall clock, ns).
    pub began_ns: u64,
    /// When [`stop`](Self::stop) cancelled it.
    pub stopped_ns: u64,
    /// When `Runner::run` returned its report.
    pub ended_ns: u64,
    /// When the runner (the last handle of its `Service`) had been dropped after that.
    pub dropped_ns: u64,
    cancel: CancellationToken,
    task: Option<JoinHandle<(Report, u64, u64)>>,
}

impl TendRun {
    /// Starts `services` (no steps) with a fresh `Service` and a cancellation token.
    pub fn start(services: Vec<ServiceSpec>) -> Self {
        let pipeline = Pipeline::with_services(Vec::new(), services).expect("a valid stack");
        let events = Events::default();
        let cancel = CancellationToken::new();
        let observer = events.clone();
        let runner = Runner::new(Service::new())
            .cancel_token(cancel.clone())
            .on_event(move |event| observer.observe(event));
        let began_ns = now_ns();
        let task = tokio::spawn(async move {
            let report = runner.run(&pipeline).await;
            let returned = now_ns();
            // The last handle of its `Service`: its guardian sweeps and exits, and is waited for.
            drop(runner);
            (report, returned, now_ns())
        });
        Self {
            events,
            began_ns,
            stopped_ns: 0,
            ended_ns: 0,
            dropped_ns: 0,
            cancel,
            task: Some(task),
        }
    }

    /// Cancels the run, waits for its report and for the runner to be dropped (at most 60 s),
    /// and checks that every service ended `stopped`.
    pub async fn stop(mut self) -> Self {
        self.stopped_ns = now_ns();
        self.cancel.cancel();
        let task = self.task.take().unwrap();
        let (report, returned, dropped) = tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("the run ended within 60 s of its cancellation")
            .expect("the run's task");
        (self.ended_ns, self.dropped_ns) = (returned, dropped);
        for service in &report.services {
            assert_eq!(service.status, ServiceStatus::Stopped, "{service:?}");
        }
        self
    }
}

/// Polls `done` every millisecond; panics naming `what` after 60 s.
pub async fn wait_for(what: &str, done: impl Fn() -> bool) {
    let began = Instant::now();
    while !done() {
        assert!(began.elapsed() < Duration::from_secs(60), "no {what} within 60 s");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Milliseconds from `from` to `to` (wall-clock ns; negative when `to` is earlier).
pub fn ms_between(from: u64, to: u64) -> f64 {
    (to as f64 - from as f64) / 1e6
}

/// A TCP port on 127.0.0.1 nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `bench-service`'s arguments for a chain member.
pub fn chain_args(
    name: &str,
    record: &Path,
    print_after_ms: u64,
    term_delay_ms: u64,
) -> Vec<String> {
    let record = record.to_str().expect("a UTF-8 temp path").to_owned();
    let (print, term) = (print_after_ms.to_string(), term_delay_ms.to_string());
    [name, &record, "--print-after", &print, "--term-delay", &term].map(str::to_owned).to_vec()
}

/// The sum over `names` of each one's time from its `from` record to its `to` record (ms).
pub fn own_sum(records: &[(String, String, u64)], names: &[String], from: &str, to: &str) -> f64 {
    let at = |name: &str, event: &str| {
        find(records, name, event).unwrap_or_else(|| panic!("{name} recorded no `{event}`"))
    };
    names.iter().map(|n| ms_between(at(n, from), at(n, to))).sum()
}

/// Where a chain's time goes, link by link (medians, ms), from the services' records and
/// tend's events; and whether the stops really went in reverse order.
pub fn print_chain_parts(names: &[String], records: &[(String, String, u64)], run: &TendRun) {
    let rec = |i: usize, event: &str| find(records, &names[i], event);
    let ev = |kind: Kind, i: usize| run.events.at(kind, &names[i]);
    let links = |part: &dyn Fn(usize) -> Option<f64>| {
        let values: Vec<f64> = (0..names.len()).filter_map(part).collect();
        if values.is_empty() {
            "n/a".to_owned()
        } else {
            format!("{:.2}", Stats::of(values).median)
        }
    };
    let gap = |a: Option<u64>, b: Option<u64>| Some(ms_between(a?, b?));
    let next = |i: usize| (i + 1 < names.len()).then_some(i + 1);
    println!(
        "  up, per link: printed -> Ready event {}, Ready -> next Started event {}, Started -> \
         its main {}",
        links(&|i| gap(rec(i, "printed"), ev(Kind::Ready, i))),
        links(&|i| gap(ev(Kind::Ready, i), ev(Kind::Started, next(i)?))),
        links(&|i| gap(ev(Kind::Started, i), rec(i, "start"))),
    );
    // The same chain with each service's start-to-ready as tend saw it (its Started event to
    // its Ready event, process creation included): what is left is the scheduler's hand-off.
    let seen: Option<f64> =
        (0..names.len()).map(|i| gap(ev(Kind::Started, i), ev(Kind::Ready, i))).sum();
    let up = ev(Kind::Ready, names.len() - 1).map(|last| ms_between(run.began_ns, last));
    if let (Some(seen), Some(up)) = (seen, up) {
        println!(
            "  up / sum of Started -> Ready as tend saw each: {up:.0} / {seen:.0} ms = {:.3}",
            up / seen
        );
    }
    println!(
        "  down, per link: exit -> its Finished event {}, previous exit -> Stopping event {}, \
         Stopping -> its TERM handler {}; cancel -> first Stopping {:.2}, last exit -> run \
         returned {:.2}; then dropping the Runner (its Service's guardian) {:.2}, not counted",
        links(&|i| gap(rec(i, "exit"), ev(Kind::Finished, i))),
        links(&|i| gap(rec(next(i)?, "exit"), ev(Kind::Stopping, i))),
        links(&|i| gap(ev(Kind::Stopping, i), rec(i, "term"))),
        gap(Some(run.stopped_ns), ev(Kind::Stopping, names.len() - 1)).unwrap_or(f64::NAN),
        ms_between(rec(0, "exit").unwrap(), run.ended_ns),
        ms_between(run.ended_ns, run.dropped_ns),
    );
    let out_of_order = (0..names.len() - 1)
        .filter(|&i| rec(i, "term").unwrap() < rec(i + 1, "exit").unwrap())
        .count();
    if out_of_order > 0 {
        println!(
            "  NOT IN REVERSE ORDER: {out_of_order} services got TERM before their dependent exited"
        );
    }
}

/// Median, 95th percentile, min, max and mean of samples (ms).
pub struct Stats {
    /// The median.
    pub median: f64,
    /// The 95th percentile (nearest rank).
    pub p95: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
    /// The mean.
    pub mean: f64,
}

impl Stats {
    /// The statistics of `samples` (not empty).
    pub fn of(mut samples: Vec<f64>) -> Self {
        samples.sort_by(f64::total_cmp);
        let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Self {
            median: pick(0.5),
            p95: pick(0.95),
            min: samples[0],
            max: samples[samples.len() - 1],
            mean: samples.iter().sum::<f64>() / samples.len() as f64,
        }
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "median {:.2}, p95 {:.2}, min {:.2}, max {:.2}, mean {:.2}",
            self.median, self.p95, self.min, self.max, self.mean
        )
    }
}
