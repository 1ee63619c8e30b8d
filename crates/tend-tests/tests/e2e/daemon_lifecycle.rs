//! `Daemon`: start composes PID file, health server and registry with rollback; stop undoes
//! them in order.

use std::fs;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tend::daemon::{Daemon, DaemonError, DaemonOptions, HealthError, PidFile, Registry};
use tokio_util::sync::CancellationToken;

use crate::daemon_support::{
    HelperSpec, NOBODY, helper_role, must_get, open_to_all, port_open, running_as_root, say,
    wait_until,
};

const WAIT: Duration = Duration::from_secs(20);

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn full_options(dir: &Path) -> DaemonOptions {
    DaemonOptions::new().pid_file(dir.join("run/api.pid")).health_addr(any_port()).register(
        Registry::new(dir.join("daemons")),
        "core",
        "api",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_composes_the_parts_and_stop_undoes_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut daemon = Daemon::start(full_options(dir.path())).await.unwrap();
    let addr = daemon.health_addr().unwrap().to_string();
    let pid = std::process::id();

    let pid_path = dir.path().join("run/api.pid");
    assert_eq!(daemon.pid_file(), Some(pid_path.as_path()));
    assert_eq!(fs::read_to_string(&pid_path).unwrap(), format!("{pid}\n"));

    let registry = Registry::new(dir.path().join("daemons"));
    let entry = registry.get("core", "api").unwrap().expect("registered");
    assert_eq!(Some(&entry), daemon.entry());
    assert_eq!(entry.pid, pid);
    assert_eq!(entry.health.as_deref(), Some(addr.as_str()));
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(entry.project.as_deref(), Some(cwd.to_str().unwrap()));
    let exe = std::env::current_exe().unwrap();
    assert_eq!(entry.binary.as_deref(), exe.file_name().and_then(|n| n.to_str()));

    assert_eq!(must_get(&addr, "/health").await, (200, "ok".to_owned()));
    assert_eq!(must_get(&addr, "/ready").await.0, 503, "not ready until the program says so");
    daemon.set_ready(true);
    assert_eq!(must_get(&addr, "/ready").await, (200, "ready".to_owned()));

    daemon.stop().await.unwrap();
    assert!(!daemon.is_ready());
    assert!(!pid_path.exists());
    assert_eq!(registry.get("core", "api").unwrap(), None);
    assert!(!port_open(&addr));
    daemon.stop().await.expect("stop is idempotent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_and_project_can_be_given() {
    let dir = tempfile::tempdir().unwrap();
    let options = full_options(dir.path()).binary("core-api").project("/srv/core");
    let mut daemon = Daemon::start(options).await.unwrap();
    let entry = daemon.entry().unwrap().clone();
    assert_eq!(
        (entry.binary.as_deref(), entry.project.as_deref()),
        (Some("core-api"), Some("/srv/core"))
    );
    daemon.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_pid_file_stops_the_start_before_anything_else() {
    let dir = tempfile::tempdir().unwrap();
    let held = PidFile::acquire(dir.path().join("run/api.pid")).unwrap();
    let error = Daemon::start(full_options(dir.path())).await.unwrap_err();
    assert!(matches!(error, DaemonError::PidFile(_)), "{error:?}");
    assert!(error.to_string().contains(&format!("PID {}", std::process::id())), "{error}");
    assert!(Registry::new(dir.path().join("daemons")).list().unwrap().is_empty());
    assert!(dir.path().join("run/api.pid").exists(), "the holder's file is untouched");
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_health_bind_releases_the_pid_file() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let options = full_options(dir.path()).health_addr(taken.local_addr().unwrap());
    let error = Daemon::start(options).await.unwrap_err();
    assert!(matches!(error, DaemonError::Health(HealthError::Bind { .. })), "{error:?}");
    assert!(!dir.path().join("run/api.pid").exists(), "PID file rolled back");
    assert!(Registry::new(dir.path().join("daemons")).list().unwrap().is_empty());
}

/// Starts a daemon whose registry directory cannot be written, and reports the error and
/// what was left behind, checked by the process that started it (while it still lives).
fn read_only_registry_start(base: &Path, port: u16) -> String {
    // One thread: nothing runs behind our back after `start` returns, so the port must have
    // been closed by `start` itself.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let options = DaemonOptions::new()
        .pid_file(base.join("run/api.pid"))
        .health_addr(SocketAddr::from(([127, 0, 0, 1], port)))
        .register(Registry::new(base.join("daemons")), "core", "api");
    let outcome = match runtime.block_on(Daemon::start(options)) {
        Ok(_) => "started".to_owned(),
        Err(DaemonError::Registry(error)) => format!("registry error: {error}"),
        Err(other) => format!("other error: {other}"),
    };
    let port_open = port_open(&format!("127.0.0.1:{port}"));
    let pid_file = base.join("run/api.pid").exists();
    format!("{outcome} | port_open={port_open} pid_file={pid_file}")
}

fn read_only_helper() -> ! {
    let base = std::env::var("TEND_E2E_BASE").unwrap();
    let port = std::env::var("TEND_E2E_PORT").unwrap().parse().unwrap();
    say(&read_only_registry_start(Path::new(&base), port));
    std::process::exit(0)
}

/// As root, permission bits do not make a directory read-only, so the start then runs in a
/// helper switched to `nobody`.
#[test]
fn a_read_only_registry_rolls_back_pid_file_and_port() {
    if helper_role().is_some() {
        read_only_helper();
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    open_to_all(dir.path());
    let registry_dir = dir.path().join("daemons");
    fs::create_dir(&registry_dir).unwrap();
    fs::set_permissions(&registry_dir, fs::Permissions::from_mode(0o555)).unwrap();
    // A free port, so the outcome can be checked from here.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();

    let outcome = if running_as_root() {
        let test = "daemon_lifecycle::a_read_only_registry_rolls_back_pid_file_and_port";
        let helper = HelperSpec::new(test, "read-only")
            .env("TEND_E2E_BASE", dir.path().display().to_string())
            .env("TEND_E2E_PORT", port.to_string())
            .user(NOBODY)
            .spawn();
        let line = helper.next_line(WAIT);
        assert!(helper.wait(WAIT).success());
        line
    } else {
        read_only_registry_start(dir.path(), port)
    };
    // A registry error means the PID file and health steps had succeeded before it.
    assert!(outcome.starts_with("registry error: "), "{outcome}");
    assert!(outcome.contains("daemons"), "names the directory: {outcome}");
    assert!(outcome.ends_with("| port_open=false pid_file=false"), "rolled back: {outcome}");
    assert!(!dir.path().join("run/api.pid").exists(), "no PID file left");
    assert!(!port_open(&format!("127.0.0.1:{port}")), "health port closed");
    fs::set_permissions(&registry_dir, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Stop goes: not ready, unregister, release PID file, stop health. Holding the registry's
/// lock freezes the stop inside "unregister", where the first step must be done and the
/// later ones not yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_runs_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut daemon = Daemon::start(full_options(dir.path())).await.unwrap();
    daemon.set_ready(true);
    let addr = daemon.health_addr().unwrap().to_string();
    let entry_path = Registry::new(dir.path().join("daemons")).entry_path("core", "api").unwrap();
    let pid_path = dir.path().join("run/api.pid");

    let lock = fs::File::open(dir.path().join("daemons/.lock")).unwrap();
    lock.lock().unwrap();
    let stopping = tokio::spawn(async move {
        daemon.stop().await.unwrap();
        daemon
    });
    let mut seen_not_ready = false;
    let deadline = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < deadline {
        if must_get(&addr, "/ready").await.0 == 503 {
            seen_not_ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(seen_not_ready, "step 1: not ready while still serving");
    assert!(entry_path.exists(), "step 2 waits for the registry lock");
    assert!(pid_path.exists(), "step 3 comes after step 2");
    assert_eq!(must_get(&addr, "/health").await.0, 200, "step 4 comes last");
    lock.unlock().unwrap();

    let daemon = tokio::time::timeout(WAIT, stopping).await.expect("stop finishes").unwrap();
    assert!(!entry_path.exists() && !pid_path.exists() && !port_open(&addr));
    drop(daemon);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_bounds_in_flight_health_requests_by_the_shutdown_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let entered = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&entered);
    let options = full_options(dir.path())
        .shutdown_timeout(Duration::from_millis(300))
        .check_timeout(Duration::from_secs(60))
        .check("stuck", move || {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            std::future::pending::<Result<(), String>>()
        });
    let mut daemon = Daemon::start(options).await.unwrap();
    let addr = daemon.health_addr().unwrap().to_string();
    let request = tokio::spawn({
        let addr = addr.clone();
        async move { crate::daemon_support::http_get(&addr, "/health").await }
    });
    crate::daemon_support::wait_for_flag(&entered).await;
    let started = std::time::Instant::now();
    let outcome = daemon.stop().await;
    assert!(
        matches!(outcome, Err(DaemonError::Health(HealthError::StopTimedOut { .. }))),
        "{outcome:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert!(!dir.path().join("run/api.pid").exists(), "the other steps still ran");
    assert_eq!(request.await.unwrap().unwrap().0, 503);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_stops_on_cancellation_and_drop_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(full_options(dir.path())).await.unwrap();
    let addr = daemon.health_addr().unwrap().to_string();
    let cancel = CancellationToken::new();
    let running = tokio::spawn(daemon.run(cancel.clone()));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!running.is_finished(), "run waits for cancellation");
    cancel.cancel();
    tokio::time::timeout(WAIT, running).await.expect("run returns").unwrap().unwrap();
    assert!(!dir.path().join("run/api.pid").exists());
    assert!(!port_open(&addr));

    let other = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(full_options(other.path())).await.unwrap();
    let addr = daemon.health_addr().unwrap().to_string();
    drop(daemon);
    assert!(!other.path().join("run/api.pid").exists(), "drop released the PID file");
    assert!(Registry::new(other.path().join("daemons")).list().unwrap().is_empty());
    let addr_for_wait = addr.clone();
    tokio::task::spawn_blocking(move || {
        wait_until(WAIT, "port closed after drop", || !port_open(&addr_for_wait))
    })
    .await
    .unwrap();
}
