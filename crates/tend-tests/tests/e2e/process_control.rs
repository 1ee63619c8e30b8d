//! Controlling a running process: wait, kill, signal, graceful shutdown and stdin.

use std::time::{Duration, Instant};

use tend::{Error, Process, ProcessInfo, Reason, Service, Signal, Status, StdinMode};

use crate::support::{DEADLINE, Strays, fixture, pid_alive, pids_in, wait_for_line};

async fn finished(process: &Process) -> ProcessInfo {
    tokio::time::timeout(DEADLINE, process.wait()).await.expect("the process ends in time")
}

/// Runs a synchronous control call off the runtime and fails the test if it blocks: a
/// deadlock must show up as a failure, not as a hung test.
async fn promptly<T: Send + 'static>(what: &str, call: impl FnOnce() -> T + Send + 'static) -> T {
    let task = tokio::task::spawn_blocking(call);
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .unwrap_or_else(|_| panic!("{what} blocked"))
        .expect("the call panicked")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_serves_any_number_of_callers_before_and_after_the_end() {
    let service = Service::new();
    let process = service.start(fixture(&["echo"]).stdin(StdinMode::Piped)).unwrap();
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let process = process.clone();
            tokio::spawn(async move { process.wait().await })
        })
        .collect();
    // A round trip through the child: it is running, so no waiter may have returned.
    process.send_input(b"ping\n").await.unwrap();
    wait_for_line(&process, "ping").await;
    assert!(waiters.iter().all(|w| !w.is_finished()), "wait returned while running");

    process.close_stdin().await.unwrap();
    let mut infos = Vec::new();
    for waiter in waiters {
        infos.push(tokio::time::timeout(DEADLINE, waiter).await.unwrap().unwrap());
    }
    let again = finished(&process).await;
    assert_eq!(again.status, Status::Exited);
    assert!(infos.iter().all(|info| *info == again), "every waiter sees the same end");
    assert_eq!(finished(&process).await, again, "and so does every later call");
    assert_eq!(process.output().stderr(), b"eof\n", "output is drained before wait returns");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_is_sigkill_and_already_ended_is_not_an_error() {
    let service = Service::new();
    let process = service.start(fixture(&["ignore-term"])).unwrap();
    wait_for_line(&process, "ready").await;
    process.kill().unwrap();
    let info = finished(&process).await;
    assert_eq!(info.status, Status::Killed);
    assert_eq!(
        (info.reason, info.signal, info.exit_code),
        (Some(Reason::Killed), Some(Signal::KILL), None)
    );
    assert_eq!(info.shell_status(), 137);
    process.kill().expect("killing an ended process is fine");

    let quick = service.start(fixture(&["exit", "0"])).unwrap();
    let info = finished(&quick).await;
    quick.kill().expect("killing an exited process is fine");
    assert_eq!(finished(&quick).await, info, "and changes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_without_kill_group_reaches_only_the_leader() {
    let mut strays = Strays::default();
    let service = Service::new();
    let process = service.start(fixture(&["spawn", "2", "60"]).kill_group(false)).unwrap();
    wait_for_line(&process, "ready").await;
    let children = pids_in(&process.output().to_string_lossy());
    assert_eq!(children.len(), 2);
    children.iter().for_each(|&pid| {
        strays.watch(pid);
    });

    process.kill().unwrap();
    let info = finished(&process).await;
    assert_eq!(info.signal, Some(Signal::KILL));
    assert!(!pid_alive(info.pid.unwrap()));
    // `wait` returned after the leak timeout: no group cleanup touched them either.
    assert!(children.iter().all(|&pid| pid_alive(pid)), "children survive a leader-only kill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signal_delivers_exactly_the_signal_asked_for_and_nothing_more() {
    let service = Service::new();
    let process = service.start(fixture(&["ignore-term"])).unwrap();
    wait_for_line(&process, "ready").await;
    let got = |n: usize| {
        let text = process.output().to_string_lossy();
        text.matches("got SIGTERM\n").count() == n
    };

    // By name, by number and with the prefix: the same signal, once per call.
    for (n, spelling) in ["TERM", "15", "sigterm"].into_iter().enumerate() {
        process.signal(spelling.parse().unwrap()).unwrap();
        crate::support::until(DEADLINE, "the handler's line", || got(n + 1)).await;
    }
    // No escalation: the handled SIGTERM is not followed by a SIGKILL (go-process re-sent
    // and then killed the group). A fixed look, since what is checked is an absence.
    let watch_until = Instant::now() + Duration::from_millis(300);
    while Instant::now() < watch_until {
        assert_eq!(process.status(), Status::Running, "the process was ended after a signal");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(got(3));
    process.kill().unwrap();
    finished(&process).await;

    // A signal it does not handle ends it with exactly that signal; ending it was not our
    // doing as far as kill/shutdown go, so there is no reason.
    let sleeper = service.start(fixture(&["sleep", "30"])).unwrap();
    wait_for_line(&sleeper, "ready").await;
    sleeper.signal(Signal::HUP).unwrap();
    let info = finished(&sleeper).await;
    assert_eq!((info.signal, info.reason, info.status), (Some(Signal::HUP), None, Status::Failed));

    let error = sleeper.signal(Signal::USR1).unwrap_err();
    assert!(matches!(error, Error::NotRunning(_)), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_terms_drains_through_the_grace_period_then_kills() {
    let service = Service::new();
    // A process that obeys SIGTERM is not kept waiting for the grace period.
    let obedient = service.start(fixture(&["sleep", "30"])).unwrap();
    wait_for_line(&obedient, "ready").await;
    let start = Instant::now();
    let info = obedient.shutdown(Duration::from_secs(20)).await.unwrap();
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
    assert_eq!(
        (info.status, info.reason, info.signal),
        (Status::Killed, Some(Reason::Shutdown), Some(Signal::TERM))
    );
    let again = obedient.shutdown(Duration::from_secs(1)).await.unwrap();
    assert_eq!(again, info, "shutting down an ended process returns its info");

    let stubborn = service.start(fixture(&["ignore-term"])).unwrap();
    wait_for_line(&stubborn, "ready").await;
    let start = Instant::now();
    let grace = Duration::from_secs(1);
    let info = tokio::time::timeout(DEADLINE, stubborn.shutdown(grace)).await.unwrap().unwrap();
    assert!(start.elapsed() >= grace, "SIGKILL came before the grace period ended");
    assert_eq!(
        (info.status, info.reason, info.signal),
        (Status::Killed, Some(Reason::Shutdown), Some(Signal::KILL))
    );
    // What it printed after SIGTERM, during the grace period, was still read.
    assert_eq!(stubborn.output().stdout(), b"ready\ngot SIGTERM\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_process_is_still_shut_down_by_sigterm() {
    let service = Service::new();
    let process = service.start(fixture(&["sleep", "30"])).unwrap();
    wait_for_line(&process, "ready").await;
    let pid = process.pid().unwrap();
    process.signal(Signal::STOP).unwrap();
    crate::support::until(DEADLINE, "the process to stop", || {
        crate::support::stat(pid).is_some_and(|s| s.state == 'T')
    })
    .await;
    let start = Instant::now();
    let info = process.shutdown(Duration::from_secs(20)).await.unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "waited out the grace: {:?}",
        start.elapsed()
    );
    assert_eq!((info.reason, info.signal), (Some(Reason::Shutdown), Some(Signal::TERM)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn begin_shutdown_returns_at_once() {
    let service = Service::new();
    let stubborn = service.start(fixture(&["ignore-term"])).unwrap();
    wait_for_line(&stubborn, "ready").await;
    let start = Instant::now();
    stubborn.begin_shutdown(Duration::from_secs(2));
    assert!(start.elapsed() < Duration::from_millis(500), "blocked for {:?}", start.elapsed());
    wait_for_line(&stubborn, "got SIGTERM").await;
    assert_eq!(stubborn.status(), Status::Running, "inside the grace period");
    let info = finished(&stubborn).await;
    assert!(start.elapsed() >= Duration::from_secs(2));
    assert_eq!((info.reason, info.signal), (Some(Reason::Shutdown), Some(Signal::KILL)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdin_is_written_exactly_and_closed_once() {
    let service = Service::new();
    let process = service.start(fixture(&["echo"]).stdin(StdinMode::Piped)).unwrap();
    assert!(process.stdin_open());
    process.send_input(b"one\r\n").await.unwrap();
    process.send_input(b"two \xff\n").await.unwrap();
    process.send_input(b"no newline").await.unwrap();
    process.close_stdin().await.unwrap();
    assert!(!process.stdin_open());
    assert_eq!(finished(&process).await.exit_code, Some(0));
    assert_eq!(process.output().stdout(), b"one\r\ntwo \xff\nno newline");
    assert_eq!(process.output().stderr(), b"eof\n");

    assert!(matches!(process.close_stdin().await, Err(Error::StdinClosed(_))));
    assert!(matches!(process.send_input(b"late").await, Err(Error::StdinClosed(_))));

    let not_piped = service.start(fixture(&["sleep", "30"])).unwrap();
    assert!(!not_piped.stdin_open());
    assert!(matches!(not_piped.send_input(b"x").await, Err(Error::StdinClosed(_))));
    not_piped.kill().unwrap();
    finished(&not_piped).await;
}

/// go-process held its state lock while writing stdin, so a child that never read made
/// `Kill` deadlock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stdin_write_blocked_by_a_child_that_never_reads_cannot_stop_kill() {
    let service = Service::new();
    for end in ["kill", "shutdown", "close_stdin"] {
        let process = service.start(fixture(&["sleep", "60"]).stdin(StdinMode::Piped)).unwrap();
        wait_for_line(&process, "ready").await;
        let writer = {
            let process = process.clone();
            // Far more than any pipe buffer: the write blocks for good.
            tokio::spawn(async move { process.send_input(&vec![b'x'; 16 << 20]).await })
        };
        let blocked = tokio::time::timeout(Duration::from_millis(200), async {
            while !writer.is_finished() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        assert!(blocked.await.is_err(), "{end}: the write did not block");

        let start = Instant::now();
        match end {
            "kill" => {
                let killer = process.clone();
                promptly("kill", move || killer.kill()).await.unwrap();
            }
            "shutdown" => {
                let info = tokio::time::timeout(DEADLINE, process.shutdown(Duration::from_secs(5)))
                    .await
                    .expect("shutdown blocked")
                    .unwrap();
                assert_eq!(info.signal, Some(Signal::TERM));
            }
            _ => {
                tokio::time::timeout(DEADLINE, process.close_stdin())
                    .await
                    .expect("close_stdin blocked")
                    .unwrap();
            }
        }
        let result =
            tokio::time::timeout(DEADLINE, writer).await.expect("the write gave up").unwrap();
        assert!(
            matches!(result, Err(Error::StdinClosed(_) | Error::Stdin { .. })),
            "{end}: {result:?}"
        );
        assert!(start.elapsed() < Duration::from_secs(5), "{end} took {:?}", start.elapsed());
        if end == "close_stdin" {
            assert_eq!(process.status(), Status::Running, "closing stdin ends only the write");
            process.kill().unwrap();
        }
        finished(&process).await;
    }
}
