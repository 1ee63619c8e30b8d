//! The largest durations through every duration option of the library (issue 10, defect 1):
//! `Duration::MAX` as a timeout, grace, leak timeout, restart delay, drain timeout, check,
//! probe or shutdown timeout is honoured as "never", without a panic; what ends by itself
//! still ends at once, and what is killed still dies.

use std::net::SocketAddr;
use std::time::Duration;

use tend::daemon::{Daemon, DaemonOptions, HealthOptions, HealthServer, wait_for_health};
use tend::exec::Cmd;
use tend::program::Program;
use tend::script::Script;
use tend::{Restart, Service, StartOptions, Status};

use crate::support::fixture;

/// The largest durations there are, and one just past a century.
const HUGE: [Duration; 3] =
    [Duration::MAX, Duration::from_secs(u64::MAX / 2), Duration::from_secs(3_200_000_000)];
/// Generous: each case is one short program on a loaded machine.
const LIMIT: Duration = Duration::from_secs(30);

async fn bounded<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, future).await.unwrap_or_else(|_| panic!("{what} hung"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_options_take_the_largest_durations() {
    let service = Service::new();
    for huge in HUGE {
        let options = StartOptions::new("true")
            .timeout(huge)
            .grace(huge)
            .leak_timeout(huge)
            .restart(Restart::on_failure().delay(huge).max_delay(huge).reset_after(Some(huge)));
        let info = bounded("true", service.start(options).expect("starts").wait()).await;
        assert_eq!((info.status, info.exit_code), (Status::Exited, Some(0)), "{huge:?}");

        // A failing run waits the whole restart delay ("never"), pending, until it is killed.
        let restart = Restart::on_failure().delay(huge);
        let failing = service.start(StartOptions::new("false").restart(restart)).expect("starts");
        crate::support::until(LIMIT, "pending between runs", || {
            failing.status() == Status::Pending
        })
        .await;
        failing.kill().expect("kill");
        let info = bounded("the killed one", failing.wait()).await;
        assert_eq!(info.status, Status::Killed, "{huge:?}");

        // A grace of any length ends with the process; a shutdown of the service too.
        let sleeper = service.start(fixture(&["sleep", "60"]).timeout(huge)).expect("starts");
        crate::support::wait_for_line(&sleeper, "ready").await;
        let info = bounded("shutdown", sleeper.shutdown(huge)).await.expect("shutdown");
        assert_eq!(info.status, Status::Killed);
        service.start(fixture(&["sleep", "60"]).grace(huge)).expect("starts");
        bounded("service shutdown", service.shutdown(huge)).await;
        assert!(service.running().is_empty());
        service.clear();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_program_and_script_take_the_largest_durations() {
    let service = Service::new();
    for huge in HUGE {
        let output = Cmd::new("echo").arg("hi").timeout(huge).drain_timeout(huge).output();
        assert_eq!(bounded("exec", output).await.expect("echo runs").stdout, b"hi\n");
        let program = Program::find("echo").expect("echo is on PATH").timeout(huge);
        assert_eq!(bounded("program", program.run(["hi"])).await.expect("runs"), "hi");
        let script = Script::new("exit 0").timeout(huge).grace(huge).start(&service);
        let info = bounded("script", script.expect("starts").wait()).await;
        assert_eq!(info.exit_code, Some(0), "{huge:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_timeout_means_no_timeout() {
    let service = Service::new();
    let options = fixture(&["sleep", "0.3"]).timeout(Duration::ZERO);
    let info = bounded("sleep", service.start(options).expect("starts").wait()).await;
    assert_eq!((info.status, info.reason), (Status::Exited, None));
    let output = Cmd::new("sleep").arg("0.3").timeout(Duration::ZERO).output();
    bounded("exec", output).await.expect("not timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_toolkit_takes_the_largest_durations() {
    let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
    for huge in HUGE {
        let options = HealthOptions::new().check_timeout(huge).check("ok", || async { Ok(()) });
        let mut server = HealthServer::bind_with(any_port, options).await.expect("binds");
        let addr = server.local_addr().to_string();
        bounded("probe", wait_for_health(&addr, huge)).await.expect("healthy");
        bounded("stop", server.stop(huge)).await.expect("stops");

        let options =
            DaemonOptions::new().health_addr(any_port).check_timeout(huge).shutdown_timeout(huge);
        let mut daemon = Daemon::start(options).await.expect("starts");
        let addr = daemon.health_addr().expect("a health address").to_string();
        bounded("probe", wait_for_health(&addr, huge)).await.expect("healthy");
        bounded("daemon stop", daemon.stop()).await.expect("stops");
    }
}
