//! `/api/v1/daemons`: the registry through the API, health probes, and a stop that never
//! signals a PID the entry no longer describes.

use std::process::{Command, Stdio};
use std::time::Duration;

use tend::daemon::{DaemonEntry, Registry};

use crate::daemon_support::{wait_child, wait_until};
use crate::server_support::{FIXTURE, TestServer};

/// A test server over a registry in a temporary directory (kept while the guard lives).
async fn server_with_registry() -> (TestServer, Registry, tempfile::TempDir) {
    let registry_dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(registry_dir.path());
    let for_server = registry.clone();
    let server = TestServer::start_with(move |mut config| {
        config.registry = Some(for_server);
        config
    })
    .await;
    (server, registry, registry_dir)
}

#[tokio::test(flavor = "multi_thread")]
async fn list_get_health_and_stop() {
    let (server, registry, _registry_dir) = server_with_registry().await;
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
    let (server, registry, _registry_dir) = server_with_registry().await;
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

#[tokio::test(flavor = "multi_thread")]
async fn daemon_and_pipeline_routes_share_their_actions_with_every_caller() {
    let (server, registry, _registry_dir) = server_with_registry().await;
    let actions = server.state.actions();
    let me = DaemonEntry::new("test", "me", std::process::id());
    registry.register(&me).unwrap();

    // The same answer through the action as through the route.
    let listed = actions.dispatch("daemon.list", serde_json::json!({})).await.unwrap();
    assert_eq!(listed, server.call("GET", "/api/v1/daemons", None).await.json());
    assert_eq!(listed[0]["daemon"], "me");
    let got = actions.dispatch("daemon.get", serde_json::json!({"code": "test", "daemon": "me"}));
    assert_eq!(got.await.unwrap()["pid"], std::process::id());
    let error = actions
        .dispatch("daemon.get", serde_json::json!({"code": "test", "daemon": "nobody"}))
        .await
        .unwrap_err();
    assert_eq!(
        (error.code(), error.to_string().as_str()),
        ("not_found", "no running daemon `test/nobody`")
    );
    let error =
        actions.dispatch("daemon.get", serde_json::json!({"code": "test"})).await.unwrap_err();
    assert!(
        matches!(&error, tend::actions::ActionError::InvalidOption { option, .. } if option == "daemon"),
        "{error}"
    );

    let started = actions
        .dispatch(
            "pipeline.start",
            serde_json::json!({"steps": [{"name": "a", "command": FIXTURE, "args": ["exit", "0"]}]}),
        )
        .await
        .unwrap();
    let id = started["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/pipelines/{id}");
    let view = server.poll(&path, Duration::from_secs(20), |v| v["status"] == "finished").await;
    let through_action =
        actions.dispatch("pipeline.get", serde_json::json!({"id": id})).await.unwrap();
    // Through the same JSON text as the route's answer (serde_json's float parsing does not
    // always give back the very same f64).
    let through_action: serde_json::Value =
        serde_json::from_str(&through_action.to_string()).unwrap();
    for key in ["id", "status", "report"] {
        assert_eq!(through_action[key], view[key], "{key}");
    }
    let error =
        actions.dispatch("pipeline.cancel", serde_json::json!({"id": id})).await.unwrap_err();
    assert_eq!(error.code(), "wrong_state", "{error}");
    let error =
        actions.dispatch("pipeline.get", serde_json::json!({"id": "nope"})).await.unwrap_err();
    assert_eq!(error.to_string(), "no pipeline `nope`");
    let error =
        actions.dispatch("pipeline.start", serde_json::json!({"steps": []})).await.unwrap_err();
    assert_eq!(error.code(), "invalid_request", "{error}");
    registry.unregister("test", "me").unwrap();
}
