//! `StartOptions::stop_signal`: a graceful shutdown sends the signal asked for, not SIGTERM.

use std::time::{Duration, Instant};

use tend::{Service, Signal, StartOptions, Status};

use crate::{LIMIT, within};

/// A bash script that says which of INT and TERM it got, and exits 0 on either; `ready` once
/// the traps are set.
fn trapping() -> StartOptions {
    StartOptions::new("bash").args([
        "-c",
        "trap 'echo got INT; exit 0' INT; trap 'echo got TERM; exit 0' TERM; \
         echo ready; while :; do sleep 0.05; done",
    ])
}

async fn wait_ready(process: &tend::Process) {
    let mut lines = process.lines();
    while let Some(line) = lines.recv().await {
        if line.is_ok_and(|line| line.bytes.as_ref() == b"ready") {
            return;
        }
    }
    panic!("ended before it was ready: {:?}", process.info());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_sends_the_stop_signal_and_stays_graceful() {
    let service = Service::new();
    let process = service.start(trapping().stop_signal(Signal::INT)).unwrap();
    within(LIMIT, wait_ready(&process)).await;
    let began = Instant::now();
    let info = within(LIMIT, process.shutdown(Duration::from_secs(30))).await.unwrap();
    // The trap answered: well before the grace period's SIGKILL.
    assert!(began.elapsed() < Duration::from_secs(15), "took {:?}", began.elapsed());
    let output = process.output().to_string_lossy();
    let lines: Vec<&str> = output.lines().collect();
    assert!(lines.contains(&"got INT") && !lines.contains(&"got TERM"), "{output:?}");
    assert_eq!(info.exit_code, Some(0), "{info:?}");
    assert_eq!(info.status, Status::Killed, "we ended it: {info:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_is_still_sigterm() {
    let service = Service::new();
    let process = service.start(trapping()).unwrap();
    within(LIMIT, wait_ready(&process)).await;
    within(LIMIT, process.shutdown(Duration::from_secs(30))).await.unwrap();
    // bash may also report that its `sleep` was terminated, before or after the trap's line
    // (the group got the signal too).
    let output = process.output().to_string_lossy();
    let lines: Vec<&str> = output.lines().collect();
    assert!(lines.contains(&"got TERM") && !lines.contains(&"got INT"), "{output:?}");
}
