//! Helpers for the pipeline tests: running with a bound and reading what steps recorded.
//! Binary paths and bounded polling are in `support`.

use std::path::Path;
use std::time::Duration;

use tend::Service;
use tend::runner::{Pipeline, Report, Runner, Step, StepStatus};

use crate::support::FIXTURE;

/// Generous bound for a whole pipeline run in these tests.
pub(crate) const RUN_BOUND: Duration = Duration::from_secs(30);

/// A step that runs the fixture in `mode` with `args`.
pub(crate) fn fixture_step(name: &str, args: &[&str]) -> Step {
    Step::command(name, FIXTURE).args(args.iter().copied())
}

/// Runs `steps` with `runner` (validated first), failing the test if the run takes longer
/// than [`RUN_BOUND`].
pub(crate) async fn run_with(runner: Runner, steps: Vec<Step>) -> Report {
    let pipeline = Pipeline::new(steps).expect("a valid pipeline");
    tokio::time::timeout(RUN_BOUND, runner.run(&pipeline)).await.expect("the run ends in time")
}

/// Runs `steps` in DAG mode with no bound.
pub(crate) async fn run(steps: Vec<Step>) -> Report {
    run_with(Runner::new(Service::new()), steps).await
}

/// `(name, status)` of every step, in report order.
pub(crate) fn statuses(report: &Report) -> Vec<(&str, StepStatus)> {
    report.steps.iter().map(|s| (s.name.as_str(), s.status)).collect()
}

/// The lines a file holds now (none if it does not exist).
pub(crate) fn lines_of(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_owned).collect()
}

/// The `pid P` lines the fixture's `spawn` mode prints.
pub(crate) fn spawned_pids(output: &str) -> Vec<u32> {
    output.lines().filter_map(|l| l.strip_prefix("pid ")).filter_map(|p| p.parse().ok()).collect()
}

/// SIGKILLs `pids` when dropped, so a failing test leaves nothing behind.
pub(crate) struct Reaper(pub(crate) Vec<u32>);

impl Drop for Reaper {
    fn drop(&mut self) {
        for &pid in &self.0 {
            if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                // Already gone is what we want anyway.
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
    }
}
