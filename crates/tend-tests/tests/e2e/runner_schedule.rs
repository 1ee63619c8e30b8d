//! Pipeline scheduling, observed by the steps themselves: ready-driven DAG starts, sequential
//! order, parallel mode ignoring `after`, and the `jobs` bound.

use std::path::Path;

use tend::Service;
use tend::runner::{Mode, Runner, Step, StepStatus};

use crate::runner_support::{lines_of, run, run_with, statuses};

/// A bash step that sleeps, then writes the time it ended (seconds since the epoch) to
/// `DIR/NAME.end`.
fn timed(dir: &Path, name: &str, seconds: &str) -> Step {
    let end = dir.join(format!("{name}.end"));
    Step::script(name, format!("sleep {seconds}; date +%s.%N > '{}'", end.display()))
}

fn end_time(dir: &Path, name: &str) -> f64 {
    let text = std::fs::read_to_string(dir.join(format!("{name}.end"))).unwrap();
    text.trim().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_starts_when_its_own_dependencies_finish_not_a_wave_later() {
    let dir = tempfile::tempdir().unwrap();
    let report = run(vec![
        timed(dir.path(), "a", "0.2"),
        timed(dir.path(), "b", "2"),
        timed(dir.path(), "c", "0.2").after(["a"]),
    ])
    .await;
    assert!(report.success, "{report:#?}");
    let (b, c) = (end_time(dir.path(), "b"), end_time(dir.path(), "c"));
    // A wave scheduler would start C only after B, the slowest of A's wave, so C would end
    // after B. Ready-driven, C ends about 1.6 s before B.
    assert!(c + 1.0 <= b, "c ended at {c}, b at {b}: c waited for b");
}

/// A bash step that appends `start NAME` and, after `seconds`, `end NAME` to `log`.
fn logged(log: &Path, name: &str, seconds: &str) -> Step {
    let log = log.display();
    Step::script(
        name,
        format!("echo \"start $0\" >> '{log}'; sleep {seconds}; echo \"end $0\" >> '{log}'"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_mode_runs_one_at_a_time_in_declaration_order_where_after_allows() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let steps = vec![
        logged(&log, "third-by-after", "0.1").after(["last"]),
        logged(&log, "second", "0.05"),
        logged(&log, "last", "0"),
    ];
    let runner = Runner::new(Service::new()).mode(Mode::Sequential);
    let report = run_with(runner, steps).await;
    assert!(report.success, "{report:#?}");
    // A stable topological order of `after`: `third-by-after` waits for `last`.
    assert_eq!(
        lines_of(&log),
        [
            "start second",
            "end second",
            "start last",
            "end last",
            "start third-by-after",
            "end third-by-after"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_mode_stops_at_the_first_failure_that_is_not_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let steps = vec![
        logged(&log, "one", "0"),
        Step::script("flaky", "exit 4").allow_failure(true),
        Step::script("broken", "exit 3"),
        logged(&log, "never", "0"),
        logged(&log, "nor-this", "0"),
    ];
    let report = run_with(Runner::new(Service::new()).mode(Mode::Sequential), steps).await;
    assert_eq!(
        statuses(&report),
        [
            ("one", StepStatus::Passed),
            ("flaky", StepStatus::AllowedFailure),
            ("broken", StepStatus::Failed),
            ("never", StepStatus::Skipped),
            ("nor-this", StepStatus::Skipped),
        ]
    );
    assert_eq!(report.steps[4].blocked_by.as_deref(), Some("broken"));
    assert_eq!(lines_of(&log), ["start one", "end one"]);
    assert!(!report.success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_mode_ignores_after() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("b-started");
    // `a` passes only if `b` — declared to run after it — starts while `a` still runs.
    let a = Step::script(
        "a",
        format!(
            "for i in $(seq 1 300); do [ -e '{}' ] && exit 0; sleep 0.01; done; exit 1",
            marker.display()
        ),
    );
    let b = Step::script("b", format!("touch '{}'", marker.display())).after(["a"]);
    let parallel = Runner::new(Service::new()).mode(Mode::Parallel);
    let report = run_with(parallel, vec![a.clone(), b.clone()]).await;
    assert_eq!(statuses(&report), [("a", StepStatus::Passed), ("b", StepStatus::Passed)]);

    // The same steps as a graph: `b` waits, so `a` gives up (after 3 s) and `b` is skipped.
    std::fs::remove_file(&marker).unwrap();
    let report = run(vec![a, b]).await;
    assert_eq!(statuses(&report), [("a", StepStatus::Failed), ("b", StepStatus::Skipped)]);
}

/// A bash step that marks itself running in `dir`, records how many steps are marked, holds
/// on for a while, and unmarks itself before it exits.
fn counted(dir: &Path, name: &str) -> Step {
    let running = dir.join("running");
    let counts = dir.join("counts");
    Step::script(
        name,
        format!(
            "touch '{r}/{name}'; ls '{r}' | wc -l >> '{c}'; sleep 0.3; rm '{r}/{name}'",
            r = running.display(),
            c = counts.display()
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jobs_bound_holds_in_every_mode_as_the_steps_see_it() {
    for (mode, jobs) in [(Mode::Parallel, 3), (Mode::Dag, 2), (Mode::Sequential, 4)] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("running")).unwrap();
        let mut steps: Vec<Step> = (0..7).map(|i| counted(dir.path(), &format!("s{i}"))).collect();
        // In the graph, one step waits for two others: the bound applies to what is ready.
        steps[6].after = vec!["s0".into(), "s1".into()];
        let report = run_with(Runner::new(Service::new()).mode(mode).jobs(jobs), steps).await;
        assert!(report.success, "{mode}: {report:#?}");
        let counts: Vec<usize> = lines_of(&dir.path().join("counts"))
            .iter()
            .map(|l| l.trim().parse().unwrap())
            .collect();
        assert_eq!(counts.len(), 7, "{mode}: every step recorded itself");
        let most = counts.iter().copied().max().unwrap();
        // Sequential mode runs one at a time whatever the bound; the others fill it.
        let expected = if mode == Mode::Sequential { 1 } else { jobs };
        assert_eq!(most, expected, "{mode} with jobs {jobs}: steps saw {counts:?} running");
    }
}
