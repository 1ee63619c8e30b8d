//! `/api/v1/daemons`: the registry through the API, health probes, and a stop that never
//! signals a PID the entry no longer describes.

use std::process::{Command, Stdio};
use std::time::Duration;

use tend::daemon::{DaemonEntry, Registry};

use crate::daemon_support::{wait_child, wait_until};
use crate::server_support::{FIXTURE, TestServer};

#[tokio::test(flavor = "multi_thread")]
async fn list_get_health_and_stop() {
    let registry_dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(registry_dir.path());
    let for_server = registry.clone();
    let server = TestServer::start_with(move |mut config| {
        config.registry = Some(for_server);
        config
    })
    .await;
    assert_eq!(server.call("GET", "/api/v1/daemons", None).await.json(), serde_json::json!([]));

    let mut victim =
        Command::new(FIXTURE).args(["sleep", "60"]).stdout(Stdio::null()).spawn().unwrap();
    let mut entry = DaemonEntry::new("test", "victim", victim.id());
    entry.health = Some(server.addr.to_string());
    registry.register(&entry).unwrap();

    let listed = server.call("GET", "/api/v1/daemons", None).await.json();
    assert_eq!(listed[0]["daemon"], "victim");
    let got = server.call("GET", "/api/v1/daemons/test/victim", None).await;
    assert_eq!((got.status, got.json()["pid"].as_u64()), (200, Some(u64::from(victim.id()))));
    let missing = server.call("GET", "/api/v1/daemons/test/nobody", None).await;
    assert_eq!((missing.status, missing.code().as_str()), (404, "not_found"));
    // The entry's health address is this server: the probe reaches its /health.
    let health = server.call("GET", "/api/v1/daemons/test/victim/health", None).await.json();
    assert_eq!(health["healthy"], true, "{health}");

    // An entry without a start time cannot be verified: refused, and nothing is signalled.
    // (written as go-process writes it: `register` would fill the start time in).
    let legacy = serde_json::json!({ "code": "test", "daemon": "legacy", "pid": victim.id(), "started": "2026-01-01T00:00:00Z" });
    std::fs::write(registry.entry_path("test", "legacy").unwrap(), legacy.to_string()).unwrap();
    let refused = server.call("POST", "/api/v1/daemons/test/legacy/stop", None).await;
    assert_eq!((refused.status, refused.code().as_str()), (409, "wrong_state"));
    assert!(victim.try_wait().unwrap().is_none(), "still running");

    let stopped = server.call("POST", "/api/v1/daemons/test/victim/stop", None).await;
    assert_eq!(stopped.status, 200, "{}", String::from_utf8_lossy(&stopped.body));
    let status = wait_child(&mut victim, Duration::from_secs(20));
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(15), "ended by SIGTERM");
    wait_until(Duration::from_secs(10), "entry pruned", || {
        registry.get("test", "victim").unwrap().is_none()
    });
    let gone = server.call("POST", "/api/v1/daemons/test/victim/stop", None).await;
    assert_eq!(gone.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reused_pid_is_never_signalled() {
    let registry_dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(registry_dir.path());
    let for_server = registry.clone();
    let server = TestServer::start_with(move |mut config| {
        config.registry = Some(for_server);
        config
    })
    .await;
    let mut bystander =
        Command::new(FIXTURE).args(["sleep", "60"]).stdout(Stdio::null()).spawn().unwrap();
    // An entry naming the bystander's PID but another start time: the PID was "reused".
    let mut stale = DaemonEntry::new("test", "old", bystander.id());
    stale.process_start_ticks = stale.process_start_ticks.map(|t| t.saturating_sub(1));
    registry.register(&stale).unwrap();
    let reply = server.call("POST", "/api/v1/daemons/test/old/stop", None).await;
    assert_eq!(reply.status, 404, "a stale entry reads as gone");
    assert!(bystander.try_wait().unwrap().is_none(), "the bystander was not signalled");
    bystander.kill().unwrap();
    bystander.wait().unwrap();
}
