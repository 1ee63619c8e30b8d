//! Stacks run for real: steps and services in dependency order, readiness gating dependents,
//! failures skipping them, the modes and the `jobs` bound; the shutdowns are in
//! [`shutdown`]. Times come from the processes themselves (`date +%s%N` into files).

mod shutdown;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::Restart;
use crate::probe::{Probe, Readiness};

/// Every test's bound on a whole run: far above what any needs on a loaded machine.
const RUN_BOUND: Duration = Duration::from_secs(40);

/// What the observer saw, in order: `started NAME`, `ready NAME`, `stopping NAME`,
/// `finished NAME`, `service_finished NAME`.
type Seen = Arc<Mutex<Vec<String>>>;

fn observed(runner: Runner) -> (Runner, Seen) {
    let seen = Seen::default();
    let log = seen.clone();
    let runner = runner.on_event(move |event| {
        let line = match event {
            StepEvent::Started { step, .. } => format!("started {step}"),
            StepEvent::Ready { service, .. } => format!("ready {service}"),
            StepEvent::Stopping { service } => format!("stopping {service}"),
            StepEvent::Finished(step) => format!("finished {}", step.name),
            StepEvent::ServiceFinished(service) => format!("service_finished {}", service.name),
            _ => return,
        };
        log.lock().unwrap().push(line);
    });
    (runner, seen)
}

async fn run(runner: &Runner, steps: Vec<Step>, services: Vec<ServiceSpec>) -> Report {
    let pipeline = Pipeline::with_services(steps, services).unwrap();
    tokio::time::timeout(RUN_BOUND, runner.run(&pipeline)).await.expect("the run ended in time")
}

/// Where in `seen` `line` is; panics naming both when it is not there.
fn position(seen: &Seen, line: &str) -> usize {
    let seen = seen.lock().unwrap();
    seen.iter().position(|l| l == line).unwrap_or_else(|| panic!("no `{line}` in {seen:?}"))
}

/// Waits (20 s at most) until `seen` holds every one of `lines`.
async fn until_seen(seen: &Seen, lines: &[&str]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let missing: Vec<&str> = {
            let seen = seen.lock().unwrap();
            lines.iter().copied().filter(|line| !seen.iter().any(|l| l == line)).collect()
        };
        if missing.is_empty() {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "never seen: {missing:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The nanosecond timestamp a process wrote into `dir/name`.
fn stamp(dir: &Path, name: &str) -> u128 {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.trim().parse().unwrap_or_else(|e| panic!("{}: {text:?}: {e}", path.display()))
}

/// A bash fragment writing the current time in nanoseconds to `dir/name`.
fn write_stamp(dir: &Path, name: &str) -> String {
    format!("date +%s%N > '{}'", dir.join(name).display())
}

/// A service that writes `NAME.start`, prints `up` (its readiness line), and on TERM writes
/// `NAME.stop`, takes 300 ms to wind down and exits 0.
fn traced_service(dir: &Path, name: &str) -> ServiceSpec {
    let script = format!(
        "trap '{stop}; sleep 0.3; exit 0' TERM; {start}; echo up; sleep 60 & wait",
        stop = write_stamp(dir, &format!("{name}.stop")),
        start = write_stamp(dir, &format!("{name}.start")),
    );
    ServiceSpec::script(name, script).ready(Readiness::new(Probe::log("^up$").unwrap()))
}

fn sleeper(name: &str) -> ServiceSpec {
    ServiceSpec::script(name, "exec sleep 60")
}

fn service_statuses(report: &Report) -> Vec<(&str, ServiceStatus)> {
    report.services.iter().map(|s| (s.name.as_str(), s.status)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_after_a_service_without_probe_starts_once_the_service_has_started() {
    let (runner, seen) = observed(Runner::new(Service::new()).exit_after_steps(true));
    let steps = vec![Step::script("test", "true").after(["db"])];
    let report = run(&runner, steps, vec![sleeper("db")]).await;
    assert!(report.success, "{report:#?}");
    assert!(position(&seen, "started db") < position(&seen, "ready db"));
    assert!(position(&seen, "ready db") < position(&seen, "started test"));
    assert_eq!(service_statuses(&report), [("db", ServiceStatus::Stopped)]);
    assert_eq!(report.service("db").unwrap().ready_after_ms.map(|ms| ms >= 0.0), Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_after_a_service_with_a_probe_waits_for_its_readiness() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (runner, seen) = observed(Runner::new(Service::new()).exit_after_steps(true));
    let db = ServiceSpec::script(
        "db",
        format!("sleep 0.5; {}; echo listening; exec sleep 60", write_stamp(d, "db.ready")),
    )
    .ready(Readiness::new(Probe::log("listening").unwrap()));
    let steps = vec![Step::script("test", write_stamp(d, "test.start")).after(["db"])];
    let report = run(&runner, steps, vec![db]).await;
    assert!(report.success, "{report:#?}");
    assert!(stamp(d, "test.start") >= stamp(d, "db.ready"));
    assert!(position(&seen, "ready db") < position(&seen, "started test"));
    assert!(report.service("db").unwrap().ready_after_ms.unwrap() >= 400.0, "{report:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_after_a_step_starts_once_the_step_has_passed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let runner = Runner::new(Service::new()).exit_after_steps(true);
    let web_started = d.join("web.start");
    let steps = vec![
        Step::script("migrate", format!("sleep 0.3; {}", write_stamp(d, "migrated"))),
        // Passes once web has written its start (within 20 s).
        Step::script(
            "check",
            format!(
                "for i in $(seq 1000); do [ -s '{}' ] && exit 0; sleep 0.02; done; exit 1",
                web_started.display()
            ),
        )
        .after(["web"]),
    ];
    let web = ServiceSpec::script("web", format!("{}; exec sleep 60", write_stamp(d, "web.start")))
        .after(["migrate"]);
    let report = run(&runner, steps, vec![web]).await;
    assert!(report.success, "{report:#?}");
    assert!(stamp(d, "web.start") >= stamp(d, "migrated"));
    assert_eq!(service_statuses(&report), [("web", ServiceStatus::Stopped)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_failing_before_it_is_ready_skips_its_dependents_naming_it() {
    let (runner, seen) = observed(Runner::new(Service::new()).exit_after_steps(true));
    let db = ServiceSpec::script("db", "echo starting; exit 1")
        .restart(Restart::never())
        .ready(Readiness::new(Probe::log("never printed").unwrap()));
    let steps = vec![Step::script("test", "true").after(["web"]), Step::script("lint", "true")];
    let services = vec![db, sleeper("web").after(["db"]), sleeper("cache")];
    let report = run(&runner, steps, services).await;
    assert!(!report.success);
    assert_eq!(
        service_statuses(&report),
        [
            ("db", ServiceStatus::Failed),
            ("web", ServiceStatus::Skipped),
            ("cache", ServiceStatus::Stopped)
        ]
    );
    let web = report.service("web").unwrap();
    assert_eq!(web.blocked_by.as_deref(), Some("db"));
    assert_eq!(web.error.as_deref(), Some("skipped because `db` failed"));
    let test = report.step("test").unwrap();
    assert_eq!((test.status, test.blocked_by.as_deref()), (StepStatus::Skipped, Some("db")));
    assert_eq!(report.step("lint").unwrap().status, StepStatus::Passed);
    // Nothing after db ever started, and every service got exactly one final event.
    let seen = seen.lock().unwrap();
    assert!(!seen.iter().any(|l| l == "started web" || l == "started test"), "{seen:?}");
    for name in ["db", "web", "cache"] {
        let finals = seen.iter().filter(|l| **l == format!("service_finished {name}")).count();
        assert_eq!(finals, 1, "{name}: {seen:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_cannot_start_skips_its_dependents() {
    let runner = Runner::new(Service::new()).exit_after_steps(true);
    let db = ServiceSpec::command("db", "/nonexistent/tend-test-db").restart(Restart::never());
    let steps = vec![Step::script("test", "true").after(["db"])];
    let report = run(&runner, steps, vec![db]).await;
    assert_eq!(report.service("db").unwrap().status, ServiceStatus::Failed);
    let test = report.step("test").unwrap();
    assert_eq!(test.error.as_deref(), Some("skipped because `db` failed"));
    assert!(!report.success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_take_no_job_slot() {
    let dir = tempfile::tempdir().unwrap();
    let started = dir.path().join("web.start");
    let runner = Runner::new(Service::new()).jobs(1).exit_after_steps(true);
    // The only slot is held by a step that passes once the service has started.
    let steps = vec![Step::script(
        "wait-for-web",
        format!(
            "for i in $(seq 1000); do [ -s '{}' ] && exit 0; sleep 0.02; done; exit 1",
            started.display()
        ),
    )];
    let web =
        ServiceSpec::script("web", format!("echo 1 > '{}'; exec sleep 60", started.display()));
    let report = run(&runner, steps, vec![web]).await;
    assert!(report.success, "{report:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_mode_follows_after_across_kinds() {
    let (runner, seen) =
        observed(Runner::new(Service::new()).mode(Mode::Sequential).exit_after_steps(true));
    // `test` is declared first but runs after `db`: the order is lint, db, test (a stable
    // topological order, ties in declaration order, steps before services).
    let steps = vec![Step::script("test", "true").after(["db"]), Step::script("lint", "true")];
    let report = run(&runner, steps, vec![sleeper("db")]).await;
    assert!(report.success, "{report:#?}");
    assert!(position(&seen, "finished lint") < position(&seen, "started db"));
    assert!(position(&seen, "ready db") < position(&seen, "started test"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_step_skips_the_services_after_it_and_a_service_ending_unready_names_how() {
    let runner = Runner::new(Service::new()).exit_after_steps(true);
    let steps = vec![
        Step::script("migrate", "exit 2"),
        Step::script("after-quitter", "true").after(["quitter"]),
    ];
    let quitter = ServiceSpec::script("quitter", "exit 0")
        .restart(Restart::never())
        .ready(Readiness::new(Probe::log("never printed").unwrap()));
    let services = vec![sleeper("web").after(["migrate"]), quitter];
    let report = run(&runner, steps, services).await;
    let web = report.service("web").unwrap();
    assert_eq!(web.status, ServiceStatus::Skipped);
    assert_eq!(web.error.as_deref(), Some("skipped because `migrate` failed"));
    assert_eq!(report.service("quitter").unwrap().status, ServiceStatus::Exited);
    let step = report.step("after-quitter").unwrap();
    assert_eq!(step.error.as_deref(), Some("skipped because `quitter` ended before it was ready"));
    assert!(!report.success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_mode_starts_services_without_waiting() {
    let (runner, seen) =
        observed(Runner::new(Service::new()).mode(Mode::Parallel).exit_after_steps(true));
    // `web` would wait for the step in the other modes; here it runs beside it.
    let dir = tempfile::tempdir().unwrap();
    let started = dir.path().join("web.start");
    let wait = format!(
        "for i in $(seq 1000); do [ -s '{}' ] && exit 0; sleep 0.02; done; exit 1",
        started.display()
    );
    let steps = vec![Step::script("setup", wait)];
    let web =
        ServiceSpec::script("web", format!("echo 1 > '{}'; exec sleep 60", started.display()))
            .after(["setup"]);
    let report = run(&runner, steps, vec![web]).await;
    assert!(report.success, "{report:#?}");
    assert!(position(&seen, "started web") < position(&seen, "finished setup"));
}
