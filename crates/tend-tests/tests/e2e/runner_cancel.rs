//! Cancelling a pipeline, or dropping its run, leaves no process behind.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tend::CancellationToken;
use tend::Service;
use tend::runner::{Pipeline, Runner, Step, StepEvent, StepStatus};

use crate::runner_support::{Reaper, fixture_step, spawned_pids, statuses};
use crate::support::{holds_within, pid_alive};

/// Steps whose processes have a group to clean up: one spawns children, one ignores SIGTERM,
/// one waits for the first, one is quick.
fn busy_pipeline() -> Pipeline {
    Pipeline::new(vec![
        fixture_step("spawner", &["spawn", "3", "60"]),
        fixture_step("stubborn", &["ignore-term", "60"]).grace(Duration::from_millis(300)),
        Step::script("waiting", "echo never").after(["spawner"]),
        Step::script("quick", "echo done"),
    ])
    .unwrap()
}

/// The PIDs of the two long steps: leaders, and the children the spawner printed.
fn long_step_pids(service: &Service) -> Vec<u32> {
    let mut pids = Vec::new();
    for name in ["spawner", "stubborn"] {
        let process = service.get(name).expect("the step's process");
        pids.extend(process.pid());
        pids.extend(spawned_pids(&process.output().to_string_lossy()));
    }
    pids
}

/// Waits until both long steps have said `ready`.
async fn both_ready(service: &Service) -> bool {
    holds_within(Duration::from_secs(10), || {
        ["spawner", "stubborn"].iter().all(|name| {
            service
                .get(name)
                .is_ok_and(|p| p.output().to_string_lossy().lines().any(|l| l == "ready"))
        })
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_shuts_running_steps_down_and_cancels_the_rest() {
    let service = Service::new();
    let cancel = CancellationToken::new();
    let started = Arc::new(Mutex::new(Vec::new()));
    let finished = Arc::new(Mutex::new(Vec::new()));
    let (seen, ended) = (started.clone(), finished.clone());
    let runner =
        Runner::new(service.clone()).cancel_token(cancel.clone()).on_event(
            move |event| match event {
                StepEvent::Started { step, .. } => seen.lock().unwrap().push(step.clone()),
                StepEvent::Finished(report) => ended.lock().unwrap().push(report.name.clone()),
                _ => {}
            },
        );
    let pipeline = busy_pipeline();
    let run = tokio::spawn(async move { runner.run(&pipeline).await });

    assert!(both_ready(&service).await, "the long steps started");
    let pids = long_step_pids(&service);
    let _reaper = Reaper(pids.clone());
    assert_eq!(pids.len(), 2 + 3, "two leaders and three children: {pids:?}");
    assert!(!started.lock().unwrap().contains(&"waiting".to_owned()));
    // Under load `quick` may still be running once the long steps are ready.
    let quick_done = || finished.lock().unwrap().contains(&"quick".to_owned());
    assert!(holds_within(Duration::from_secs(10), quick_done).await, "quick finished");
    cancel.cancel();
    let report = tokio::time::timeout(Duration::from_secs(20), run).await.unwrap().unwrap();

    assert_eq!(
        statuses(&report),
        [
            ("spawner", StepStatus::Cancelled),
            ("stubborn", StepStatus::Cancelled),
            ("waiting", StepStatus::Cancelled),
            ("quick", StepStatus::Passed),
        ]
    );
    assert_eq!(report.steps[0].error.as_deref(), Some("cancelled while running"));
    assert_eq!(report.steps[1].signal, Some(tend::Signal::KILL), "grace ran out");
    assert_eq!(report.steps[2].error.as_deref(), Some("cancelled before it started"));
    assert_eq!(report.steps[2].attempts, 0);
    assert!(!report.success);
    assert_eq!(report.totals.cancelled, 3);
    let left: Vec<u32> = pids.iter().copied().filter(|&pid| pid_alive(pid)).collect();
    assert!(left.is_empty(), "still running after the run returned: {left:?}");
    assert!(service.running().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_cancelled_before_the_run_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let cancel = CancellationToken::new();
    cancel.cancel();
    let runner = Runner::new(Service::new()).cancel_token(cancel);
    let pipeline =
        Pipeline::new(vec![Step::script("touch", format!("touch '{}'", marker.display()))])
            .unwrap();
    let report = runner.run(&pipeline).await;
    assert_eq!(statuses(&report), [("touch", StepStatus::Cancelled)]);
    assert!(!marker.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_run_kills_what_it_started() {
    let service = Service::new();
    let runner = Runner::new(service.clone());
    let pipeline = busy_pipeline();
    let run = tokio::spawn(async move { runner.run(&pipeline).await });
    assert!(both_ready(&service).await, "the long steps started");
    let pids = long_step_pids(&service);
    let _reaper = Reaper(pids.clone());
    assert_eq!(pids.len(), 5, "{pids:?}");
    run.abort();
    let _ = run.await;
    let gone =
        holds_within(Duration::from_secs(10), || pids.iter().all(|&pid| !pid_alive(pid))).await;
    let left: Vec<u32> = pids.iter().copied().filter(|&pid| pid_alive(pid)).collect();
    assert!(gone, "still running after the run was dropped: {left:?}");
}
