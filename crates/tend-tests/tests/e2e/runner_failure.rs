//! Pipeline failures: skip cascades naming the blocker, allowed failures, fail-fast, retries,
//! timeouts, and programs that cannot start.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tend::Service;
use tend::runner::{Runner, Step, StepEvent, StepStatus};

use crate::runner_support::{fixture_step, run, run_with, spawned_pids, statuses};
use crate::support::pid_alive;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dependents_of_a_failure_are_skipped_naming_it_and_the_rest_runs() {
    let report = run(vec![
        Step::script("a", "echo about to fail; exit 3"),
        Step::script("b", "echo b").after(["a"]),
        Step::script("c", "echo c").after(["b"]),
        Step::script("x", "sleep 0.2"),
        Step::script("d", "echo d").after(["x", "a"]),
        Step::script("e", "echo e").after(["x"]),
    ])
    .await;
    assert_eq!(
        statuses(&report),
        [
            ("a", StepStatus::Failed),
            ("b", StepStatus::Skipped),
            ("c", StepStatus::Skipped),
            ("x", StepStatus::Passed),
            ("d", StepStatus::Skipped),
            ("e", StepStatus::Passed),
        ]
    );
    let a = report.step("a").unwrap();
    assert_eq!((a.exit_code, a.error.as_deref()), (Some(3), Some("exited with code 3")));
    assert_eq!(a.output, "about to fail\n");
    for name in ["b", "c", "d"] {
        let skipped = report.step(name).unwrap();
        assert_eq!(skipped.blocked_by.as_deref(), Some("a"), "{name}");
        assert_eq!(skipped.error.as_deref(), Some("skipped because `a` failed"), "{name}");
        assert_eq!((skipped.attempts, skipped.duration_ms, skipped.process_id), (0, None, None));
    }
    assert!(!report.success);
    let t = report.totals;
    assert_eq!((t.passed, t.failed, t.skipped, t.cancelled, t.allowed_failures), (2, 1, 3, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_failure_blocks_nothing_and_fails_nothing() {
    let report = run(vec![
        Step::script("lint", "echo style >&2; exit 1").allow_failure(true),
        Step::script("build", "echo built").after(["lint"]),
    ])
    .await;
    assert_eq!(
        statuses(&report),
        [("lint", StepStatus::AllowedFailure), ("build", StepStatus::Passed)]
    );
    let lint = report.step("lint").unwrap();
    assert_eq!((lint.exit_code, lint.error.as_deref()), (Some(1), Some("exited with code 1")));
    assert_eq!(lint.output, "style\n");
    assert!(report.success);
    assert_eq!((report.totals.allowed_failures, report.totals.failed), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_fast_stops_running_steps_and_starts_nothing_new() {
    let steps = vec![
        Step::script("fails", "sleep 0.5; exit 2"),
        fixture_step("slow", &["spawn", "2", "60"]).grace(Duration::from_millis(500)),
        Step::script("later", "echo never").after(["slow"]),
        Step::script("quick", "true"),
    ];
    let runner = Runner::new(Service::new()).fail_fast(true);
    let began = std::time::Instant::now();
    let report = run_with(runner, steps).await;
    assert!(began.elapsed() < Duration::from_secs(10), "slow was not left to run 60 s");
    assert_eq!(
        statuses(&report),
        [
            ("fails", StepStatus::Failed),
            ("slow", StepStatus::Cancelled),
            ("later", StepStatus::Skipped),
            ("quick", StepStatus::Passed),
        ]
    );
    let slow = report.step("slow").unwrap();
    assert_eq!(slow.error.as_deref(), Some("stopped because `fails` failed and fail_fast is on"));
    assert_eq!(slow.signal, Some(tend::Signal::TERM));
    let pids = spawned_pids(&slow.output);
    assert_eq!(pids.len(), 2, "{}", slow.output);
    assert!(pids.iter().all(|&pid| !pid_alive(pid)), "the step's whole group is gone");
    assert_eq!(report.step("later").unwrap().blocked_by.as_deref(), Some("fails"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_fast_starts_no_independent_step_that_was_waiting_for_a_slot() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let steps = vec![
        Step::script("fails", "sleep 0.3; exit 2"),
        // Ready from the start and depending on nothing, but queued behind `jobs = 1`.
        Step::script("queued", format!("touch '{}'", marker.display())),
    ];
    let report = run_with(Runner::new(Service::new()).jobs(1).fail_fast(true), steps).await;
    assert_eq!(statuses(&report), [("fails", StepStatus::Failed), ("queued", StepStatus::Skipped)]);
    let queued = report.step("queued").unwrap();
    assert_eq!(queued.error.as_deref(), Some("not started: `fails` failed and fail_fast is on"));
    assert_eq!(queued.blocked_by.as_deref(), Some("fails"));
    assert_eq!(queued.attempts, 0);
    assert!(!marker.exists(), "the queued step ran");
    assert!(!report.success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_run_again_after_the_delay_until_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let count = dir.path().join("count");
    // Fails twice, then passes.
    let script = format!(
        "n=$(( $(cat '{c}' 2>/dev/null || echo 0) + 1 )); echo $n > '{c}'; echo try $n; [ $n -ge 3 ]",
        c = count.display()
    );
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let runner = Runner::new(Service::new()).on_event(move |event| {
        if let StepEvent::Retrying { attempt, delay, error, .. } = event {
            seen.lock().unwrap().push((*attempt, *delay, error.clone()));
        }
    });
    let flaky = Step::script("flaky", script).retries(5).retry_delay(Duration::from_millis(100));
    let report =
        run_with(runner, vec![flaky, Step::script("never-fails", "true").retries(3)]).await;
    let flaky = report.step("flaky").unwrap();
    assert_eq!((flaky.status, flaky.attempts), (StepStatus::Passed, 3));
    assert_eq!(flaky.output, "try 3\n", "the report keeps the last attempt's output");
    assert!(flaky.duration_ms.unwrap() >= 200.0, "two pauses of 100 ms");
    assert_eq!(report.step("never-fails").unwrap().attempts, 1);
    let delay = Duration::from_millis(100);
    let failed = "exited with code 1".to_owned();
    assert_eq!(*events.lock().unwrap(), [(1, delay, failed.clone()), (2, delay, failed)]);

    let report =
        run(vec![Step::script("hopeless", "exit 9").retries(2).retry_delay(Duration::ZERO)]).await;
    let hopeless = &report.steps[0];
    assert_eq!((hopeless.status, hopeless.attempts), (StepStatus::Failed, 3));
    assert_eq!(hopeless.error.as_deref(), Some("exited with code 9 (after 3 attempts)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_ends_the_step_as_timed_out_and_blocks_its_dependents() {
    let steps = vec![
        // A timeout long enough for the fixture to install its SIGTERM handler even on a
        // loaded machine.
        fixture_step("stuck", &["ignore-term", "60"])
            .timeout(Duration::from_secs(1))
            .grace(Duration::from_millis(200)),
        Step::script("after-stuck", "true").after(["stuck"]),
        fixture_step("allowed", &["sleep", "60"])
            .timeout(Duration::from_millis(300))
            .allow_failure(true),
        Step::script("after-allowed", "true").after(["allowed"]),
    ];
    let began = std::time::Instant::now();
    let report = run(steps).await;
    assert!(began.elapsed() < Duration::from_secs(10));
    assert_eq!(
        statuses(&report),
        [
            ("stuck", StepStatus::TimedOut),
            ("after-stuck", StepStatus::Skipped),
            ("allowed", StepStatus::AllowedFailure),
            ("after-allowed", StepStatus::Passed),
        ]
    );
    let stuck = report.step("stuck").unwrap();
    assert_eq!(stuck.error.as_deref(), Some("timed out after 1s"));
    // It ignores SIGTERM, so the grace ran out and SIGKILL ended it.
    assert_eq!(stuck.signal, Some(tend::Signal::KILL));
    assert!(stuck.output.contains("got SIGTERM"), "{}", stuck.output);
    assert_eq!(
        report.step("after-stuck").unwrap().error.as_deref(),
        Some("skipped because `stuck` timed out")
    );
    assert_eq!(report.step("allowed").unwrap().error.as_deref(), Some("timed out after 300ms"));
    assert_eq!(report.totals.failed, 1, "a timeout is a failure");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_that_cannot_start_fails_its_step_with_the_reason() {
    let report = run(vec![
        Step::command("missing", "/nonexistent/tend-test-tool").arg("x"),
        Step::script("next", "true").after(["missing"]),
    ])
    .await;
    assert_eq!(statuses(&report), [("missing", StepStatus::Failed), ("next", StepStatus::Skipped)]);
    let missing = &report.steps[0];
    let error = missing.error.as_deref().unwrap();
    assert!(error.contains("/nonexistent/tend-test-tool"), "{error}");
    assert_eq!((missing.attempts, missing.exit_code), (1, None));
}
