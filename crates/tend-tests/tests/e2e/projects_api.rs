//! Projects through the API (`/api/v1/projects…`): services of a stack kept by the server as
//! managed processes, started in dependency order once what they run after is ready, shown
//! with live status, reloaded by difference (an unchanged service keeps its PID), taken down
//! in reverse dependency order, started, stopped and restarted one by one; bad requests
//! answered 400 naming the key, unknown projects 404. The services are `tend-fixture serve`
//! processes writing one shared timeline file.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use tend_tests::timeline::{self, Timeline};

use crate::server_support::{FIXTURE, TestServer};

/// Generous: services are fixtures that start in milliseconds, on a loaded machine.
const LIMIT: Duration = Duration::from_secs(30);

/// A `serve` fixture named `name` writing to `timeline`, with more `args`.
fn serve(name: &str, timeline: &Path, args: &[&str]) -> Value {
    let mut all = vec!["serve", "--name", name, "--timeline", timeline.to_str().unwrap()];
    all.extend_from_slice(args);
    json!({ "command": FIXTURE, "args": all, "grace": "5s" })
}

fn request(name: &str, dir: &Path, services: Value) -> Value {
    json!({ "name": name, "dir": dir.to_str().unwrap(), "services": services })
}

/// A free TCP port on 127.0.0.1.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn service<'a>(project: &'a Value, name: &str) -> &'a Value {
    project["services"]
        .as_array()
        .and_then(|services| services.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no service `{name}` in {project}"))
}

fn pid(project: &Value, name: &str) -> u64 {
    service(project, name)["process"]["pid"].as_u64().unwrap_or_else(|| panic!("no pid: {project}"))
}

fn changes(applied: &Value) -> Vec<(String, String)> {
    let list = applied["changes"].as_array().unwrap_or_else(|| panic!("no changes: {applied}"));
    let mut changes: Vec<_> = list
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_owned(), c["change"].as_str().unwrap().to_owned()))
        .collect();
    changes.sort();
    changes
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

async fn apply(server: &TestServer, body: Value, status: u16) -> Value {
    let reply = server.call("POST", "/api/v1/projects", Some(body)).await;
    assert_eq!(reply.status, status, "{}", String::from_utf8_lossy(&reply.body));
    reply.json()
}

/// Polls the project until every service in `names` is `state`.
async fn until_state(server: &TestServer, project: &str, names: &[&str], state: &str) -> Value {
    server
        .poll(&format!("/api/v1/projects/{project}"), LIMIT, |p| {
            names.iter().all(|name| service(p, name)["state"] == state)
        })
        .await
}

fn read(path: &Path) -> Timeline {
    timeline::read(path).expect("timeline")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_starts_once_what_it_runs_after_is_ready_and_get_shows_live_status() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let line = dir.path().join("timeline");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    // db binds only after 1 s; web must not start before db accepts connections.
    let mut db = serve("db", &line, &["--listen", &addr, "--listen-after", "1"]);
    db["ready"] = json!({ "tcp": addr, "interval": "20ms" });
    let mut web = serve("web", &line, &["--print", "web up"]);
    web["after"] = json!(["db"]);
    web["ready"] = json!({ "log": "web up", "timeout": "20s" });
    let applied =
        apply(&server, request("shop", dir.path(), json!({"db": db, "web": web})), 201).await;
    assert_eq!(applied["created"], true);
    assert_eq!(changes(&applied), pairs(&[("db", "added"), ("web", "added")]));
    let names: Vec<_> = applied["project"]["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].clone())
        .collect();
    assert_eq!(names, [json!("db"), json!("web")], "dependency order");

    let project = until_state(&server, "shop", &["db", "web"], "ready").await;
    let t = read(&line);
    let listening = t.time("db", "listening").expect("db listening");
    assert!(listening <= t.time("web", "started").expect("web started"), "{t:?}");
    for name in ["db", "web"] {
        let process = &service(&project, name)["process"];
        assert_eq!(process["status"], "running", "{project}");
        assert_eq!(process["name"], name);
        assert_eq!(process["labels"]["project"], "shop");
        assert_eq!(process["labels"]["service"], name);
    }
    assert_eq!(service(&project, "web")["after"], json!(["db"]));
    // The list holds it too, live.
    let list = server.call("GET", "/api/v1/projects", None).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(service(&list[0], "web")["state"], "ready");
    // `ready` events were published for the services' processes.
    let db_id = service(&project, "db")["process"]["id"].as_str().unwrap().to_owned();
    let events = server.call("GET", &format!("/api/v1/processes/{db_id}"), None).await;
    assert_eq!(events.status, 200);
    server.call("DELETE", "/api/v1/projects/shop", None).await;
}

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
async fn reload_applies_the_difference_and_an_unchanged_service_keeps_its_pid() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let line = dir.path().join("timeline");
    let first = json!({
        "same": serve("same", &line, &[]),
        "changed": serve("changed", &line, &[]),
        "removed": serve("removed", &line, &[]),
    });
    apply(&server, request("app", dir.path(), first.clone()), 201).await;
    let before = until_state(&server, "app", &["same", "changed", "removed"], "ready").await;
    let removed_id = service(&before, "removed")["process"]["id"].as_str().unwrap().to_owned();

    // The same definition again: 200, nothing touched.
    let again = apply(&server, request("app", dir.path(), first), 200).await;
    assert_eq!(again["created"], false);
    assert_eq!(
        changes(&again),
        pairs(&[("changed", "unchanged"), ("removed", "unchanged"), ("same", "unchanged")])
    );

    let second = request(
        "app",
        dir.path(),
        json!({
            "same": serve("same", &line, &[]),
            "changed": serve("changed", &line, &["--print", "new definition"]),
            "added": serve("added", &line, &[]),
        }),
    );
    let reply = server.call("POST", "/api/v1/projects/app/reload", Some(second)).await;
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    let applied = reply.json();
    assert_eq!(
        changes(&applied),
        pairs(&[
            ("added", "added"),
            ("changed", "changed"),
            ("removed", "removed"),
            ("same", "unchanged")
        ])
    );
    let after = until_state(&server, "app", &["same", "changed", "added"], "ready").await;
    assert_eq!(pid(&after, "same"), pid(&before, "same"), "unchanged: the same process");
    assert_ne!(pid(&after, "changed"), pid(&before, "changed"), "changed: a new process");
    assert!(after["services"].as_array().unwrap().iter().all(|s| s["name"] != "removed"));
    let removed = server.call("GET", &format!("/api/v1/processes/{removed_id}"), None).await.json();
    assert_eq!(removed["status"], "killed", "removed: stopped ({removed})");
    let t = read(&line);
    assert_eq!(t.events("removed").last(), Some(&"exiting"), "{t:?}");
    assert_eq!(t.all("same", "started").count(), 1, "{t:?}");
    server.call("DELETE", "/api/v1/projects/app", None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_stops_services_in_reverse_dependency_order_and_forgets_the_project() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let line = dir.path().join("timeline");
    // Each takes 300 ms to stop: the next one must not get its signal before that.
    let slow = ["--term-delay", "0.3"];
    let db = serve("db", &line, &slow);
    let mut api = serve("api", &line, &slow);
    api["after"] = json!(["db"]);
    let mut web = serve("web", &line, &slow);
    web["after"] = json!(["api"]);
    web["stop_signal"] = json!("INT");
    web["args"].as_array_mut().unwrap().extend([json!("--stop-signal"), json!("INT")]);
    apply(&server, request("chain", dir.path(), json!({"web": web, "api": api, "db": db})), 201)
        .await;
    until_state(&server, "chain", &["db", "api", "web"], "ready").await;
    timeline::wait_for(&line, LIMIT, "every service started", |t| {
        ["db", "api", "web"].iter().all(|n| t.first(n, "started").is_some())
    });

    let reply = server.call("DELETE", "/api/v1/projects/chain", None).await;
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    let last = reply.json();
    for name in ["db", "api", "web"] {
        assert_eq!(service(&last, name)["state"], "stopped", "{last}");
        assert_eq!(service(&last, name)["process"]["status"], "killed", "{last}");
    }
    let t = read(&line);
    let at = |name: &str, event: &str| {
        t.time(name, event).unwrap_or_else(|| panic!("no `{name} {event}`: {t:?}"))
    };
    assert!(at("web", "exiting") <= at("api", "term"), "web stopped before api got TERM: {t:?}");
    assert!(at("api", "exiting") <= at("db", "term"), "api stopped before db got TERM: {t:?}");
    assert!(t.time("web", "int").is_some(), "web got its own stop signal: {t:?}");
    assert_eq!(server.call("GET", "/api/v1/projects/chain", None).await.status, 404);
    assert_eq!(server.call("GET", "/api/v1/projects", None).await.json(), json!([]));
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
    // Three runs: the first, the one started, the restart (which may still be writing).
    timeline::wait_for(&line, LIMIT, "three runs", |t| t.all("svc", "started").count() == 3);

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
async fn two_projects_may_each_have_a_service_of_the_same_name() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let line = dir.path().join("timeline");
    for project in ["left", "right"] {
        apply(
            &server,
            request(project, dir.path(), json!({"web": serve(project, &line, &[])})),
            201,
        )
        .await;
    }
    let left = until_state(&server, "left", &["web"], "ready").await;
    let right = until_state(&server, "right", &["web"], "ready").await;
    assert_ne!(pid(&left, "web"), pid(&right, "web"));
    let labelled = server.call("GET", "/api/v1/processes?label=project=right", None).await.json();
    assert_eq!(labelled.as_array().unwrap().len(), 1, "{labelled}");
    assert_eq!(labelled[0]["name"], "web");
    server.call("DELETE", "/api/v1/projects/left", None).await;
    let right = server.call("GET", "/api/v1/projects/right", None).await.json();
    assert_eq!(service(&right, "web")["state"], "ready", "the other project's web runs on");
    server.call("DELETE", "/api/v1/projects/right", None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_are_400_naming_the_key_and_unknown_projects_404() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ok = json!({"a": {"command": FIXTURE, "args": ["sleep", "30"]}});
    let cases = [
        (request("bad/name", dir.path(), ok.clone()), "`name`"),
        (request(".hidden", dir.path(), ok.clone()), "`name`"),
        (json!({"name": "x", "dir": "relative", "services": ok.clone()}), "`dir`"),
        (
            request("x", dir.path(), json!({"a": {"command": "x", "tiemout": "1s"}})),
            "service `a`: unknown key `tiemout`",
        ),
        (
            request("x", dir.path(), json!({"a": {"command": "x", "ready": {"tcp": "nope"}}})),
            "service `a`",
        ),
        (request("x", dir.path(), json!({"a": {"command": "x", "after": ["ghost"]}})), "`ghost`"),
        (json!({"name": "x", "dir": dir.path(), "services": ok.clone(), "colour": 1}), "`colour`"),
        (json!({"dir": dir.path(), "services": ok.clone()}), "`name`"),
    ];
    for (body, named) in cases {
        let reply = server.call("POST", "/api/v1/projects", Some(body.clone())).await;
        assert_eq!(reply.status, 400, "{body}: {}", String::from_utf8_lossy(&reply.body));
        assert_eq!(reply.code(), "invalid_request");
        let message = reply.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(named), "{body}: `{message}` should name {named}");
    }
    assert_eq!(
        server.call("GET", "/api/v1/projects", None).await.json(),
        json!([]),
        "nothing applied"
    );

    for (method, path) in [("GET", "/api/v1/projects/ghost"), ("DELETE", "/api/v1/projects/ghost")]
    {
        let reply = server.call(method, path, None).await;
        assert_eq!((reply.status, reply.code()), (404, "not_found".to_owned()), "{method} {path}");
    }
    let reload = server
        .call(
            "POST",
            "/api/v1/projects/ghost/reload",
            Some(request("ghost", dir.path(), ok.clone())),
        )
        .await;
    assert_eq!(reload.status, 404);
    let mismatch = server
        .call("POST", "/api/v1/projects/ghost/reload", Some(request("other", dir.path(), ok)))
        .await;
    assert_eq!(mismatch.status, 400);
    assert!(mismatch.json()["error"]["message"].as_str().unwrap().contains("`name`"));
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
    let t = read(&line);
    assert_eq!(t.all("always", "started").count(), 1, "{t:?}");
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
    let mut migrate = serve("migrate", &line, &["--exit-after", "0.3"]);
    migrate["after"] = json!(["db"]);
    let mut web = serve("web", &line, &[]);
    web["after"] = json!(["migrate"]);
    let body = json!({
        "name": "staged",
        "dir": dir.path(),
        "services": {"db": serve("db", &line, &[]), "web": web},
        "steps": {"migrate": migrate},
    });
    apply(&server, body, 201).await;
    let project = until_state(&server, "staged", &["db", "web"], "ready").await;
    let id = project["pipeline"].as_str().unwrap_or_else(|| panic!("a pipeline: {project}"));
    let pipeline =
        server.poll(&format!("/api/v1/pipelines/{id}"), LIMIT, |p| p["status"] != "running").await;
    assert_eq!(pipeline["report"]["steps"][0]["status"], "passed", "{pipeline}");
    let t = read(&line);
    let at = |name: &str, event: &str| {
        t.time(name, event).unwrap_or_else(|| panic!("no `{name} {event}`: {t:?}"))
    };
    assert!(at("db", "started") <= at("migrate", "started"), "{t:?}");
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
