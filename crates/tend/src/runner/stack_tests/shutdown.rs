//! Stacks shut down: after the steps, on cancellation, when a service ends, on fail-fast, and
//! when the run's future is dropped; services stop in reverse dependency order.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;

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
            "trap '{}; sleep 0.3; exit 0' TERM; {}; sleep 60 & wait",
            write_stamp(d, "test.stop"),
            write_stamp(d, "test.trapped"),
        ),
    )
    .after(["db"]);
    let pipeline = Pipeline::with_services(vec![test], services).unwrap();
    let running = runner.run(&pipeline);
    let watch = async {
        until_seen(&seen, &["started test"]).await;
        // Its trap is set once it has written this.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while std::fs::metadata(d.join("test.trapped")).map_or(true, |m| m.len() == 0) {
            assert!(tokio::time::Instant::now() < deadline, "the step never set its trap");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
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
        until_seen(&seen, &["ready db", "started slow"]).await;
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
async fn dropping_the_run_kills_the_services_process_groups() {
    let service = Service::new();
    let (runner, seen) = observed(Runner::new(service.clone()));
    // The grandchild `sleep` is in db's process group: it must die too.
    let services = vec![ServiceSpec::script("db", "sleep 60 & wait"), sleeper("web").after(["db"])];
    let pipeline = Pipeline::with_services(vec![], services).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    {
        let running = runner.run(&pipeline);
        tokio::pin!(running);
        loop {
            tokio::select! {
                report = &mut running => panic!("the run ended by itself: {report:#?}"),
                () = tokio::time::sleep(Duration::from_millis(20)) => {}
            }
            if seen.lock().unwrap().iter().any(|l| l == "ready web") {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "web never ready");
        }
    }
    let group_alive = |info: &crate::ProcessInfo| {
        let pid = info.pid.expect("it ran");
        // Whether any process is left in the group (bash's `kill -0` to the group).
        std::process::Command::new("bash")
            .args(["-c", &format!("kill -0 -- -{pid} 2>/dev/null")])
            .status()
            .is_ok_and(|status| status.success())
    };
    loop {
        let list = service.list();
        assert_eq!(list.len(), 2, "{list:#?}");
        if list.iter().all(|p| p.status != crate::Status::Running && !group_alive(p)) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still running: {list:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
