//! Services of projects through the API, one by one and over time: restarts by the policy
//! and by liveness on one record, the service routes (stop, start, restart), the steps run
//! as a pipeline between services, `ready` events, logs in the state directory, a
//! project's `jobs`, and the server's shutdown stopping them for good.

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use tend_tests::timeline;

use crate::projects_api::{
    LIMIT, apply, free_port, pid, read, request, serve, service, until_state,
};
use crate::server_support::TestServer;

#[tokio::test(flavor = "multi_thread")]
async fn a_crashing_service_is_restarted_by_its_policy_on_one_record() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let line = dir.path().join("timeline");
    let mut flaky = serve("flaky", &line, &["--exit-after", "0.2", "--exit-code", "3"]);
    flaky["restart"] = json!("on_failure");
    flaky["restart_delay"] = json!("50ms");
    apply(&server, request("crashy", dir.path(), json!({"flaky": flaky})), 201).await;
    let project = server
        .poll("/api/v1/projects/crashy", LIMIT, |p| {
            service(p, "flaky")["process"]["restarts"].as_u64().unwrap_or(0) >= 2
        })
        .await;
    let id = service(&project, "flaky")["process"]["id"].clone();
    // Three runs (the third may still be writing its first line), one record.
    timeline::wait_for(&line, LIMIT, "three runs", |t| t.all("flaky", "started").count() >= 3);
    let again = server.call("GET", "/api/v1/projects/crashy", None).await.json();
    assert_eq!(service(&again, "flaky")["process"]["id"], id, "the same record across restarts");
    server.call("DELETE", "/api/v1/projects/crashy", None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_service_is_stopped_started_and_restarted_by_its_routes() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let line = dir.path().join("timeline");
    apply(&server, request("one", dir.path(), json!({"svc": serve("svc", &line, &[])})), 201).await;
    let first = until_state(&server, "one", &["svc"], "ready").await;
    let base = "/api/v1/projects/one/services/svc";

    let stopped = server.call("POST", &format!("{base}/stop"), None).await;
    assert_eq!(stopped.status, 200, "{}", String::from_utf8_lossy(&stopped.body));
    let stopped = stopped.json();
    assert_eq!(stopped["state"], "stopped", "{stopped}");
    assert_eq!(stopped["process"]["status"], "killed", "{stopped}");
    assert!(!crate::support::pid_alive(pid(&first, "svc") as u32));

    let started = server.call("POST", &format!("{base}/start"), None).await;
    assert_eq!(started.status, 200, "{}", String::from_utf8_lossy(&started.body));
    let running = until_state(&server, "one", &["svc"], "ready").await;
    assert_ne!(pid(&running, "svc"), pid(&first, "svc"));

    // At once: the run may not have installed its SIGTERM handler yet, and then dies by the
    // signal's default action without a timeline line (see `process_restart`).
    let restarted = server.call("POST", &format!("{base}/restart"), None).await;
    assert_eq!(restarted.status, 200, "{}", String::from_utf8_lossy(&restarted.body));
    let restarted = restarted.json();
    // The same record, restarted: one more restart, a new PID.
    assert_eq!(restarted["process"]["id"], service(&running, "svc")["process"]["id"]);
    assert_eq!(restarted["process"]["restarts"], 1, "{restarted}");
    let again = server
        .poll("/api/v1/projects/one", LIMIT, |p| {
            service(p, "svc")["state"] == "ready" && pid(p, "svc") != pid(&running, "svc")
        })
        .await;
    assert!(!crate::support::pid_alive(pid(&running, "svc") as u32), "{again}");
    // The restarted run runs: it writes its first line (the run before it may have been
    // stopped before it wrote any).
    let restarted_pid = pid(&again, "svc") as u32;
    timeline::wait_for(&line, LIMIT, "the restarted run's start", |t| {
        t.all("svc", "started").any(|e| e.pid == restarted_pid)
    });

    for route in ["start", "stop", "restart"] {
        let missing =
            server.call("POST", &format!("/api/v1/projects/one/services/nope/{route}"), None).await;
        assert_eq!((missing.status, missing.code()), (404, "not_found".to_owned()));
        let missing =
            server.call("POST", &format!("/api/v1/projects/nope/services/svc/{route}"), None).await;
        assert_eq!(missing.status, 404);
    }
    server.call("DELETE", "/api/v1/projects/one", None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_shutdown_stops_project_services_and_nothing_restarts() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let line = dir.path().join("timeline");
    let mut always = serve("always", &line, &[]);
    always["restart"] = json!("always");
    always["restart_delay"] = json!("10ms");
    let mut later = serve("later", &line, &[]);
    later["after"] = json!(["always"]);
    apply(&server, request("kept", dir.path(), json!({"always": always, "later": later})), 201)
        .await;
    until_state(&server, "kept", &["always", "later"], "ready").await;
    server.service.shutdown(Duration::from_secs(5)).await;
    assert!(server.service.running().is_empty(), "every project process stopped");
    let project = until_state(&server, "kept", &["always", "later"], "stopped").await;
    // Nothing comes back: no restart by the policy, no start by the project.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(server.service.running().is_empty(), "{project}");
    // One run at most: ready once spawned, it may be stopped before it wrote its start.
    let t = read(&line);
    assert!(t.all("always", "started").count() <= 1, "{t:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_not_alive_is_restarted_on_its_record_and_checked_for_readiness_again() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let line = dir.path().join("timeline");
    let status = dir.path().join("status");
    let addr = format!("127.0.0.1:{}", free_port());
    let url = format!("http://{addr}/health");
    let args = ["--listen", &addr, "--http", "200", "--http-file", status.to_str().unwrap()];
    let mut api = serve("api", &line, &args);
    api["ready"] = json!({ "http": url, "interval": "20ms" });
    api["alive"] = json!({ "http": url, "interval": "50ms", "failures": 2 });
    api["restart"] = json!("always");
    apply(&server, request("live", dir.path(), json!({"api": api})), 201).await;
    let first = until_state(&server, "live", &["api"], "ready").await;
    std::fs::write(&status, "500").unwrap();
    let restarted = server
        .poll("/api/v1/projects/live", LIMIT, |p| {
            service(p, "api")["process"]["restarts"].as_u64().unwrap_or(0) >= 1
        })
        .await;
    assert_eq!(
        service(&restarted, "api")["process"]["id"],
        service(&first, "api")["process"]["id"]
    );
    std::fs::remove_file(&status).unwrap();
    let again = until_state(&server, "live", &["api"], "ready").await;
    assert_ne!(pid(&again, "api"), pid(&first, "api"), "a new run");
    let t = read(&line);
    assert!(t.all("api", "started").count() >= 2, "{t:?}");
    server.call("DELETE", "/api/v1/projects/live", None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn steps_run_as_a_pipeline_between_the_services_they_sit_between() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let line = dir.path().join("timeline");
    // db is ready once it printed its line: migrate must start after that.
    let mut db = serve("db", &line, &["--print", "db up"]);
    db["ready"] = json!({ "log": "db up" });
    let mut migrate = serve("migrate", &line, &["--exit-after", "0.3"]);
    migrate["after"] = json!(["db"]);
    let mut web = serve("web", &line, &[]);
    web["after"] = json!(["migrate"]);
    let body = json!({
        "name": "staged",
        "dir": dir.path(),
        "services": {"db": db, "web": web},
        "steps": {"migrate": migrate},
    });
    apply(&server, body, 201).await;
    let project = until_state(&server, "staged", &["db", "web"], "ready").await;
    let id = project["pipeline"].as_str().unwrap_or_else(|| panic!("a pipeline: {project}"));
    let pipeline =
        server.poll(&format!("/api/v1/pipelines/{id}"), LIMIT, |p| p["status"] != "running").await;
    assert_eq!(pipeline["report"]["steps"][0]["status"], "passed", "{pipeline}");
    // The step's process shows under the project, like the services'.
    let steps = server.call("GET", &format!("/api/v1/processes?label=pipeline={id}"), None).await;
    let steps = steps.json();
    assert_eq!(steps[0]["labels"]["project"], "staged", "{steps}");
    // `web` is ready once spawned, a moment before the fixture writes its start.
    let t = timeline::wait_for(&line, LIMIT, "web started", |t| t.time("web", "started").is_some());
    let at = |name: &str, event: &str| {
        t.time(name, event).unwrap_or_else(|| panic!("no `{name} {event}`: {t:?}"))
    };
    assert!(at("db", "printed") <= at("migrate", "started"), "{t:?}");
    assert!(at("migrate", "exiting") <= at("web", "started"), "{t:?}");
    server.call("DELETE", "/api/v1/projects/staged", None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ready_event_is_published_after_each_start_of_the_process() {
    let server = TestServer::start().await;
    let mut events = server.service.subscribe();
    let dir = tempfile::tempdir().unwrap();
    let line = dir.path().join("timeline");
    let mut svc = serve("svc", &line, &["--print", "ok"]);
    svc["ready"] = json!({ "log": "^ok$" });
    apply(&server, request("ev", dir.path(), json!({"svc": svc})), 201).await;
    let project = until_state(&server, "ev", &["svc"], "ready").await;
    let id = service(&project, "svc")["process"]["id"].as_str().unwrap().to_owned();
    let ready = tokio::time::timeout(LIMIT, async {
        loop {
            match events.recv().await {
                Some(tend::Received::Event(event)) if event.id.to_string() == id => {
                    if let tend::EventKind::Ready { probe, .. } = event.kind {
                        return probe;
                    }
                }
                Some(_) => {}
                None => panic!("the bus closed"),
            }
        }
    })
    .await
    .expect("a ready event");
    assert_eq!(ready.as_deref(), Some("log ^ok$"));
    server.call("DELETE", "/api/v1/projects/ev", None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_state_dir_each_service_logs_to_state_logs_project_name_unless_it_names_a_log() {
    let state = tempfile::tempdir().unwrap();
    let state_dir = state.path().to_owned();
    let server = TestServer::start_with(move |mut config| {
        config.state_dir = Some(state_dir);
        config
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let line = dir.path().join("timeline");
    let mut default = serve("default", &line, &["--print", "to the state dir"]);
    default["log_keep"] = json!(2);
    let mut own = serve("own", &line, &["--print", "to its own file"]);
    own["log"] = json!("own.log");
    apply(&server, request("logged", dir.path(), json!({"default": default, "own": own})), 201)
        .await;
    let in_state = state.path().join("logs/logged/default.log");
    let own_log = dir.path().join("own.log");
    let deadline = std::time::Instant::now() + LIMIT;
    let read_text = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
    while !(read_text(&in_state).contains("to the state dir")
        && read_text(&own_log).contains("to its own file"))
    {
        assert!(std::time::Instant::now() < deadline, "logs not written: {in_state:?} {own_log:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!state.path().join("logs/logged/own.log").exists(), "its own `log` wins");
    server.call("DELETE", "/api/v1/projects/logged", None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_projects_jobs_queue_its_services_beyond_the_bound() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let line = dir.path().join("timeline");
    let mut body = request(
        "bounded",
        dir.path(),
        json!({"a": serve("a", &line, &[]), "b": serve("b", &line, &[])}),
    );
    body["jobs"] = json!(1);
    apply(&server, body, 201).await;
    let project = server
        .poll("/api/v1/projects/bounded", LIMIT, |p| {
            let statuses: Vec<_> =
                ["a", "b"].iter().map(|n| service(p, n)["process"]["status"].clone()).collect();
            statuses.contains(&json!("running")) && statuses.contains(&json!("queued"))
        })
        .await;
    // It stays so: one slot.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t = read(&line);
    assert_eq!(t.all("a", "started").count() + t.all("b", "started").count(), 1, "{t:?} {project}");
    let queued = ["a", "b"]
        .into_iter()
        .find(|n| service(&project, n)["process"]["status"] == "queued")
        .unwrap();
    assert_eq!(service(&project, queued)["state"], "starting", "{project}");
    let last = server.call("DELETE", "/api/v1/projects/bounded", None).await.json();
    assert_eq!(service(&last, queued)["process"]["status"], "killed", "{last}");
    assert_eq!(read(&line).all(queued, "started").count(), 0, "the queued one never started");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_run_not_ready_in_time_is_a_failed_run_its_policy_restarts() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    // The first run is ready, then fails; every later run never says it is ready.
    let svc = json!({
        "run": "if [ -e ran ]; then exec sleep 30; fi; touch ran; echo ready; sleep 0.2; exit 1",
        "ready": {"log": "^ready$", "timeout": "500ms"},
        "restart": "on_failure",
        "restart_delay": "50ms",
        "max_restarts": 3,
    });
    apply(&server, request("slow", dir.path(), json!({"svc": svc})), 201).await;
    let project = server
        .poll("/api/v1/projects/slow", LIMIT, |p| service(p, "svc")["state"] == "failed")
        .await;
    let svc = service(&project, "svc");
    // Run 1 restarted by the policy, runs 2 and 3 not ready and restarted, run 4 not ready
    // with no restart left: failed, saying why.
    assert_eq!(svc["process"]["restarts"], 3, "{project}");
    let error = svc["error"].as_str().unwrap_or_default();
    assert!(error.contains("not ready"), "{project}");
    server.call("DELETE", "/api/v1/projects/slow", None).await;
}
