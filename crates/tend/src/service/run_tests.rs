//! [`Service::run`] supervises in the caller's task: no task of its own while it is awaited,
//! the same record, events and output as a started process, and a process that stays
//! supervised when the caller stops waiting.

use std::time::Duration;

use crate::{EventKind, Received, Service, StartOptions, Status, Stream};

/// Generous: the suite runs on a loaded two-core machine.
const PATIENCE: Duration = Duration::from_secs(20);

fn script(text: &str) -> StartOptions {
    StartOptions::new("sh").args(["-c", text])
}

/// The kinds of the events of one process, without what differs from run to run (PIDs,
/// durations), in the order they were published.
fn shapes(events: &mut crate::Subscription, id: crate::ProcessId) -> Vec<String> {
    let mut shapes = Vec::new();
    while let Some(Received::Event(event)) = events.try_recv() {
        if event.id != id {
            continue;
        }
        shapes.push(match event.kind {
            EventKind::Started { command, args, .. } => format!("started {command} {args:?}"),
            EventKind::Output { stream, line, partial } => {
                format!("{stream} {:?} {partial}", String::from_utf8_lossy(&line))
            }
            EventKind::Exited { status, exit_code, signal, reason, error, .. } => {
                format!("exited {status:?} {exit_code:?} {signal:?} {reason:?} {error:?}")
            }
            other => format!("{other:?}"),
        });
    }
    shapes
}

#[tokio::test(flavor = "current_thread")]
async fn run_spawns_no_task_while_it_is_awaited() {
    let service = Service::new();
    let metrics = tokio::runtime::Handle::current().metrics();
    let text = "echo one; sleep 0.3; echo two";
    let run = service.run(script(text).name("inline"));
    let watch = async {
        let running = async {
            while service.get("inline").map(|p| p.pid().is_none()).unwrap_or(true) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(PATIENCE, running).await.expect("the run started");
        // The test's own future is not a task either (`block_on`): any task alive now would be
        // one the run spawned.
        metrics.num_alive_tasks()
    };
    let (done, tasks) = tokio::join!(run, watch);
    assert_eq!(tasks, 0, "the run is supervised by the caller's future");
    let done = done.unwrap();
    assert!(done.success());
    assert_eq!(done.output.stdout(), b"one\ntwo\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_records_and_publishes_exactly_as_start_and_wait() {
    let service = Service::new();
    let mut events = service.subscribe();
    let text = "echo out; echo err >&2; printf 'no newline'; exit 3";
    let started = service.start(script(text)).unwrap();
    let info = tokio::time::timeout(PATIENCE, started.wait()).await.unwrap();
    let by_start = (info.status, info.exit_code, started.output(), shapes(&mut events, info.id));
    let done = tokio::time::timeout(PATIENCE, service.run(script(text))).await.unwrap().unwrap();
    let by_run = (
        done.info.status,
        done.info.exit_code,
        done.output.clone(),
        shapes(&mut events, done.info.id),
    );
    assert_eq!(by_run.0, Status::Failed);
    assert_eq!(by_run.1, Some(3));
    assert_eq!(by_run.2.stdout(), b"out\nno newline");
    assert_eq!(by_run.2.stderr(), b"err\n");
    assert_eq!(
        by_run.3.first().map(String::as_str),
        Some(r#"started sh ["-c", "echo out; echo err >&2; printf 'no newline'; exit 3"]"#)
    );
    assert_eq!(by_run.3.last().map(String::as_str), Some("exited Failed Some(3) None None None"));
    // Each stream's lines in order; the two streams may interleave either way.
    let lines = |shapes: &[String], stream: Stream| -> Vec<String> {
        shapes.iter().filter(|s| s.starts_with(&stream.to_string())).cloned().collect()
    };
    for stream in [Stream::Stdout, Stream::Stderr] {
        assert_eq!(lines(&by_run.3, stream), lines(&by_start.3, stream), "{stream}");
    }
    assert_eq!(by_run.3.len(), by_start.3.len());
    assert_eq!((by_run.0, by_run.1), (by_start.0, by_start.1));
    assert_eq!(by_run.2.stdout(), by_start.2.stdout());
    assert_eq!(by_run.2.stderr(), by_start.2.stderr());
    // The record is the service's, as a started one's.
    let listed = service.get(&done.info.id.to_string()).unwrap().info();
    assert_eq!((listed.status, listed.exit_code), (Status::Failed, Some(3)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_run_leaves_its_process_supervised_to_the_end() {
    let service = Service::new();
    let mut events = service.subscribe();
    // Prints after the caller has stopped waiting: somebody must still read the pipe and
    // record the end.
    let options = script("echo early; sleep 0.5; echo late; exit 4").name("dropped");
    let gave_up = tokio::time::timeout(Duration::from_millis(200), service.run(options)).await;
    assert!(gave_up.is_err(), "the timeout dropped the run before its end");
    let process = service.get("dropped").expect("still in the table");
    let info = tokio::time::timeout(PATIENCE, process.wait()).await.expect("it ends");
    assert_eq!((info.status, info.exit_code), (Status::Failed, Some(4)));
    assert_eq!(process.output().stdout(), b"early\nlate\n");
    let shapes = shapes(&mut events, info.id);
    assert_eq!(shapes.last().map(String::as_str), Some("exited Failed Some(4) None None None"));
    assert!(shapes.iter().any(|s| s == r#"stdout "late" false"#), "{shapes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_is_killed_from_another_handle_and_a_dropped_one_too() {
    let service = Service::new();
    let killer = {
        let service = service.clone();
        async move {
            let found = async {
                loop {
                    if let Ok(process) = service.get("victim")
                        && process.pid().is_some()
                    {
                        return process;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            };
            let process = tokio::time::timeout(PATIENCE, found).await.expect("it started");
            process.kill().unwrap();
        }
    };
    let run = service.run(StartOptions::new("sleep").arg("60").name("victim"));
    let (done, ()) = tokio::time::timeout(PATIENCE, async { tokio::join!(run, killer) })
        .await
        .expect("the kill ended the run");
    let done = done.unwrap();
    assert_eq!(done.info.status, Status::Killed);

    // Dropped first, then killed by name: the task it was handed to sees the end.
    let options = StartOptions::new("sleep").arg("60").name("abandoned");
    let gave_up = tokio::time::timeout(Duration::from_millis(200), service.run(options)).await;
    assert!(gave_up.is_err());
    service.kill("abandoned").unwrap();
    let process = service.get("abandoned").unwrap();
    let info = tokio::time::timeout(PATIENCE, process.wait()).await.expect("the kill ended it");
    assert_eq!(info.status, Status::Killed);
    let pid = info.pid.unwrap();
    assert!(!crate::os::group_exists(pid), "its group is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_that_closes_its_output_early_is_waited_for_to_its_real_end() {
    let service = Service::new();
    // Both pipes reach end-of-file long before the exit: the status taken early must not
    // be mistaken for the end.
    let options = script("exec >&- 2>&-; sleep 0.3; exit 5");
    let started = std::time::Instant::now();
    let done = tokio::time::timeout(PATIENCE, service.run(options)).await.unwrap().unwrap();
    assert_eq!((done.info.status, done.info.exit_code), (Status::Failed, Some(5)));
    assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());
    assert!(done.info.duration_ms.unwrap_or(0.0) >= 290.0, "{:?}", done.info.duration_ms);
}
