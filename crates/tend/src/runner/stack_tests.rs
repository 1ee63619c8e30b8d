//! Stacks run for real: steps and services in dependency order, readiness gating dependents,
//! failures skipping them, and the shutdowns (steps done, cancellation, a service ending) with
//! services stopped in reverse dependency order. Times come from the processes themselves
//! (`date +%s%N` into files).

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
async fn exit_after_steps_stops_the_services_and_reports_the_steps_result() {
    for (script, success) in [("true", true), ("exit 3", false)] {
        let runner = Runner::new(Service::new()).exit_after_steps(true);
        let steps = vec![Step::script("test", script).after(["db", "web"])];
        let services = vec![sleeper("db"), sleeper("web").after(["db"])];
        let report = run(&runner, steps, services).await;
        assert_eq!(report.success, success, "{script}: {report:#?}");
        assert_eq!(
            service_statuses(&report),
            [("db", ServiceStatus::Stopped), ("web", ServiceStatus::Stopped)],
            "{script}"
        );
        assert_eq!(report.ended_by, None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_after_steps_without_steps_ends_at_once() {
    let runner = Runner::new(Service::new()).exit_after_steps(true);
    let report = run(&runner, vec![], vec![sleeper("db")]).await;
    assert_eq!(service_statuses(&report), [("db", ServiceStatus::Cancelled)]);
    assert_eq!(report.services[0].error.as_deref(), Some("cancelled before it started"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_stop_in_reverse_dependency_order() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (runner, seen) = observed(Runner::new(Service::new()).exit_after_steps(true));
    let services = vec![
        traced_service(d, "db"),
        traced_service(d, "api").after(["db"]),
        traced_service(d, "web").after(["api"]),
    ];
    let steps = vec![Step::script("smoke", "true").after(["web"])];
    let report = run(&runner, steps, services).await;
    assert!(report.success, "{report:#?}");
    let (web, api, db) = (stamp(d, "web.stop"), stamp(d, "api.stop"), stamp(d, "db.stop"));
    // Each takes 300 ms to stop once asked: the next is asked only after that.
    let gap = 250_000_000;
    assert!(
        api >= web + gap,
        "api stopped {} ms after web",
        (api as i128 - web as i128) / 1_000_000
    );
    assert!(db >= api + gap, "db stopped {} ms after api", (db as i128 - api as i128) / 1_000_000);
    assert!(position(&seen, "service_finished web") < position(&seen, "stopping api"));
    assert!(position(&seen, "service_finished api") < position(&seen, "stopping db"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_a_running_step_depends_on_stops_after_the_step() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cancel = CancellationToken::new();
    let (runner, seen) = observed(Runner::new(Service::new()).cancel_token(cancel.clone()));
    let services = vec![traced_service(d, "db")];
    // The step takes 300 ms to wind down on TERM.
    let test = Step::script(
        "test",
        format!(
            "trap '{}; sleep 0.3; exit 0' TERM; echo up; sleep 60 & wait",
            write_stamp(d, "test.stop")
        ),
    )
    .after(["db"]);
    let pipeline = Pipeline::with_services(vec![test], services).unwrap();
    let running = runner.run(&pipeline);
    let watch = async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !seen.lock().unwrap().iter().any(|l| l == "started test") {
            assert!(tokio::time::Instant::now() < deadline, "test never started");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Give the step's bash time to install its trap.
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel();
    };
    let (report, ()) = tokio::time::timeout(RUN_BOUND, async { tokio::join!(running, watch) })
        .await
        .expect("the run ended in time");
    assert_eq!(report.step("test").unwrap().status, StepStatus::Cancelled);
    assert_eq!(service_statuses(&report), [("db", ServiceStatus::Stopped)]);
    assert!(stamp(d, "db.stop") >= stamp(d, "test.stop") + 250_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_stops_running_services_and_cancels_unstarted_ones() {
    let cancel = CancellationToken::new();
    let (runner, seen) = observed(Runner::new(Service::new()).cancel_token(cancel.clone()));
    let steps = vec![Step::script("slow", "exec sleep 60")];
    let services = vec![sleeper("db"), sleeper("late").after(["slow"])];
    let pipeline = Pipeline::with_services(steps, services).unwrap();
    let running = runner.run(&pipeline);
    let watch = async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let both = {
                let seen = seen.lock().unwrap();
                seen.iter().any(|l| l == "ready db") && seen.iter().any(|l| l == "started slow")
            };
            if both {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "db never ready");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        cancel.cancel();
    };
    let (report, ()) = tokio::time::timeout(RUN_BOUND, async { tokio::join!(running, watch) })
        .await
        .expect("the run ended in time");
    assert_eq!(
        service_statuses(&report),
        [("db", ServiceStatus::Stopped), ("late", ServiceStatus::Cancelled)]
    );
    assert_eq!(
        report.service("late").unwrap().error.as_deref(),
        Some("cancelled before it started")
    );
    assert_eq!(report.step("slow").unwrap().status, StepStatus::Cancelled);
    assert!(!report.success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_ending_ends_the_run_when_asked() {
    let runner = Runner::new(Service::new()).stop_when_a_service_ends(true);
    let services = vec![
        sleeper("web"),
        ServiceSpec::script("worker", "sleep 0.3; exit 3").restart(Restart::never()),
        sleeper("late").after(["never-done"]),
    ];
    let steps = vec![Step::script("never-done", "exec sleep 60")];
    let report = run(&runner, steps, services).await;
    assert_eq!(report.ended_by.as_deref(), Some("worker"));
    assert_eq!(
        service_statuses(&report),
        [
            ("web", ServiceStatus::Stopped),
            ("worker", ServiceStatus::Failed),
            ("late", ServiceStatus::Cancelled)
        ]
    );
    assert_eq!(report.service("worker").unwrap().exit_code, Some(3));
    let step = report.step("never-done").unwrap();
    assert_eq!(step.status, StepStatus::Cancelled);
    assert_eq!(step.error.as_deref(), Some("stopped because service `worker` ended"));
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

/// The figures for a chain of 50 services, each ready 20 ms after its start (a `log`
/// line) and exiting 10 ms after TERM: all ready vs the sum of the services' own
/// start-to-ready times (goal ≤ 1.10), and the reverse-order shutdown vs the sum of the
/// services' own stop times, its critical path (goal ≤ 1.10). Asserted with a generous bound
/// for a loaded machine; `--nocapture` prints the measures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_of_50_services_starts_and_stops_with_little_overhead() {
    use std::collections::HashMap;
    use std::time::Instant;

    let n = 50;
    let times: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let ready_sum: Arc<Mutex<Duration>> = Arc::default();
    let (times_in, ready_in) = (times.clone(), ready_sum.clone());
    let runner = Runner::new(Service::new()).exit_after_steps(true).on_event(move |event| {
        let now = Instant::now();
        let key = match event {
            StepEvent::Ready { service, after, .. } => {
                *ready_in.lock().unwrap() += *after;
                format!("ready {service}")
            }
            StepEvent::Stopping { service } => format!("stopping {service}"),
            StepEvent::ServiceFinished(service) => format!("finished {}", service.name),
            _ => return,
        };
        times_in.lock().unwrap().insert(key, now);
    });
    let services: Vec<ServiceSpec> = (0..n)
        .map(|i| {
            let script = "trap 'sleep 0.01; exit 0' TERM; sleep 0.02; echo up; sleep 60 & wait";
            let service = ServiceSpec::script(format!("s{i}"), script)
                .ready(Readiness::new(Probe::log("^up$").unwrap()));
            if i == 0 { service } else { service.after([format!("s{}", i - 1)]) }
        })
        .collect();
    let steps = vec![Step::script("done", "true").after([format!("s{}", n - 1)])];
    let began = Instant::now();
    let report = run(&runner, steps, services).await;
    assert!(report.success, "{report:#?}");
    let times = times.lock().unwrap();
    let at = |key: String| times[&key];
    let all_ready = at(format!("ready s{}", n - 1)) - began;
    let ready_sum = *ready_sum.lock().unwrap();
    let stop_sum: Duration =
        (0..n).map(|i| at(format!("finished s{i}")) - at(format!("stopping s{i}"))).sum();
    let shutdown = at("finished s0".to_owned()) - at(format!("stopping s{}", n - 1));
    let start_ratio = all_ready.as_secs_f64() / ready_sum.as_secs_f64();
    let stop_ratio = shutdown.as_secs_f64() / stop_sum.as_secs_f64();
    eprintln!(
        "50-service chain: all ready {all_ready:.1?} vs {ready_sum:.1?} summed ({start_ratio:.3}); \
         shutdown {shutdown:.1?} vs {stop_sum:.1?} summed ({stop_ratio:.3})"
    );
    assert!(start_ratio <= 2.0, "start ratio {start_ratio:.3}");
    assert!(stop_ratio <= 2.0, "stop ratio {stop_ratio:.3}");
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
async fn fail_fast_on_a_failed_service_stops_the_run() {
    let runner = Runner::new(Service::new()).fail_fast(true);
    let services =
        vec![sleeper("web"), ServiceSpec::script("worker", "exit 1").restart(Restart::never())];
    let steps = vec![Step::script("long", "exec sleep 60")];
    let report = run(&runner, steps, services).await;
    assert_eq!(
        service_statuses(&report),
        [("web", ServiceStatus::Stopped), ("worker", ServiceStatus::Failed)]
    );
    let long = report.step("long").unwrap();
    assert_eq!(long.status, StepStatus::Cancelled);
    assert_eq!(long.error.as_deref(), Some("stopped because `worker` failed and fail_fast is on"));
    assert_eq!(report.ended_by, None);
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
