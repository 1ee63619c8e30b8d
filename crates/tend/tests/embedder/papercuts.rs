//! Item 7 (and 5): padded `Display`, probes that take a `SocketAddr`, `Service::kill`/`output`
//! by key, `Process::is_running`/`exit_code`, one "cannot start" wording, and the root
//! `CancellationToken`.

use std::time::Duration;

use tend::daemon::{Daemon, DaemonOptions, wait_for_health};
use tend::exec::Cmd;
use tend::runner::StepStatus;
use tend::{CancellationToken, Reason, Service, Signal, StartOptions, Status, Stream};

use crate::{LIMIT, within};

#[test]
fn display_honours_width_and_alignment() {
    assert_eq!(format!("[{:<10}]", Status::Exited), "[exited    ]");
    assert_eq!(format!("[{:>8}]", Stream::Stderr), "[  stderr]");
    assert_eq!(format!("[{:^10}]", StepStatus::Passed), "[  passed  ]");
    assert_eq!(format!("[{:<9}]", Signal::TERM), "[SIGTERM  ]");
    assert_eq!(format!("[{:<12}]", tend::RestartPolicy::Always), "[always      ]");
    assert_eq!(format!("[{:>4}]", tend::MaxRestarts::Limited(3)), "[   3]");
    assert_eq!(format!("[{:<11}]", tend::runner::Mode::Dag), "[dag        ]");
}

#[tokio::test]
async fn wait_for_health_takes_the_daemons_socket_addr() {
    let options = DaemonOptions::new().health_addr("127.0.0.1:0".parse().unwrap());
    let mut daemon = within(LIMIT, Daemon::start(options)).await.unwrap();
    let addr = daemon.health_addr().unwrap();
    within(LIMIT, wait_for_health(addr, Duration::from_secs(10))).await.unwrap();
    // The string forms still work.
    within(LIMIT, wait_for_health(format!("http://{addr}/"), Duration::from_secs(10)))
        .await
        .unwrap();
    within(LIMIT, daemon.stop()).await.unwrap();
}

#[tokio::test]
async fn service_kills_and_reads_by_name() {
    let service = Service::new();
    let napper =
        service.start(StartOptions::new("sh").args(["-c", "echo up; exec sleep 60"]).name("nap"));
    let napper = napper.unwrap();
    assert!(napper.is_running());
    assert_eq!(napper.exit_code(), None);
    within(LIMIT, async {
        while !service.output("nap").unwrap().to_string_lossy().contains("up") {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    service.kill("nap").unwrap();
    let info = within(LIMIT, napper.wait()).await;
    assert_eq!((info.status, info.reason), (Status::Killed, Some(Reason::Killed)));
    assert!(!napper.is_running());
    assert_eq!(napper.exit_code(), None, "a death by signal has no exit code");
    assert_eq!(service.output("nap").unwrap().to_string_lossy(), "up\n");
    let missing = service.kill("no-such-process").unwrap_err();
    assert!(missing.to_string().contains("no-such-process"), "{missing}");
    assert!(service.output("no-such-process").is_err());
}

#[tokio::test]
async fn exit_code_is_read_from_the_handle() {
    let service = Service::new();
    let process = service.start(StartOptions::new("sh").args(["-c", "exit 3"])).unwrap();
    within(LIMIT, process.wait()).await;
    assert!(!process.is_running());
    assert_eq!(process.exit_code(), Some(3));
}

#[tokio::test]
async fn every_start_failure_says_cannot_start() {
    let service = Service::new();
    let from_service = service.start(StartOptions::new("tend-no-such-program")).unwrap_err();
    let from_exec = Cmd::new("tend-no-such-program").output().await.unwrap_err();
    for message in [from_service.to_string(), from_exec.to_string()] {
        assert!(message.starts_with("cannot start `tend-no-such-program`: "), "{message}");
    }
}

#[tokio::test]
async fn the_root_cancellation_token_cancels_exec() {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        cancel.cancel();
    });
    let result = within(LIMIT, Cmd::new("sleep").arg("60").cancel(token).output()).await;
    assert!(result.is_err(), "{result:?}");
}
