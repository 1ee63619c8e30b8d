//! The runner out of file descriptors: a start refused with EMFILE waits and retries instead
//! of failing the step (issue 10, defect 10). Played by a helper process, since it lowers its
//! own open-file limit and takes nearly every descriptor.

use std::time::Duration;

use rustix::process::{Resource, getrlimit, setrlimit};
use tend::runner::{Pipeline, Runner, Step, StepStatus};
use tend::{Service, Status};

use crate::daemon_support::{HelperSpec, hear, helper_role, say};

const TEST: &str = "runner_descriptors::a_start_refused_for_lack_of_descriptors_waits_and_retries";

#[test]
fn a_start_refused_for_lack_of_descriptors_waits_and_retries() {
    if helper_role().as_deref() == Some("starved") {
        return starved();
    }
    let helper = HelperSpec::new(TEST, "starved").spawn();
    let outcome = helper.next_line(Duration::from_secs(50));
    assert_eq!(outcome, "40 passed, 0 failed records", "the helper said: {outcome}");
    assert!(helper.wait(Duration::from_secs(10)).success());
}

/// Lowers the limit to 128, holds all but three descriptors for 300 ms (enough for the
/// guardian's pipe, not for a child's two output pipes), and runs 40 steps meanwhile.
fn starved() {
    let mut limit = getrlimit(Resource::Nofile);
    limit.current = Some(128);
    setrlimit(Resource::Nofile, limit).expect("lower the open-file limit");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut hog = Vec::new();
    while let Ok(file) = std::fs::File::open("/dev/null") {
        hog.push(file);
    }
    hog.truncate(hog.len().saturating_sub(3));
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drop(hog);
    });
    let steps = (0..40).map(|i| Step::command(format!("s{i}"), "true")).collect();
    let pipeline = Pipeline::new(steps).expect("pipeline");
    let service = Service::new();
    let report = runtime.block_on(Runner::new(service.clone()).run(&pipeline));
    release.join().unwrap();
    let passed = report.steps.iter().filter(|s| s.status == StepStatus::Passed).count();
    for step in report.steps.iter().filter(|s| s.status != StepStatus::Passed) {
        eprintln!("{}: {:?} {:?}", step.name, step.status, step.error);
    }
    // A refused start leaves no `failed` record behind it.
    let failed = service.list().iter().filter(|p| p.status == Status::Failed).count();
    say(&format!("{passed} passed, {failed} failed records"));
    let _ = hear();
}
