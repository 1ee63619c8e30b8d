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
pub(crate) const LIMIT: Duration = Duration::from_secs(30);

/// A `serve` fixture named `name` writing to `timeline`, with more `args`.
pub(crate) fn serve(name: &str, timeline: &Path, args: &[&str]) -> Value {
    let mut all = vec!["serve", "--name", name, "--timeline", timeline.to_str().unwrap()];
    all.extend_from_slice(args);
    json!({ "command": FIXTURE, "args": all, "grace": "5s" })
}

pub(crate) fn request(name: &str, dir: &Path, services: Value) -> Value {
    json!({ "name": name, "dir": dir.to_str().unwrap(), "services": services })
}

/// A free TCP port on 127.0.0.1.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(crate) fn service<'a>(project: &'a Value, name: &str) -> &'a Value {
    project["services"]
        .as_array()
        .and_then(|services| services.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no service `{name}` in {project}"))
}

pub(crate) fn pid(project: &Value, name: &str) -> u64 {
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

pub(crate) async fn apply(server: &TestServer, body: Value, status: u16) -> Value {
    let reply = server.call("POST", "/api/v1/projects", Some(body)).await;
    assert_eq!(reply.status, status, "{}", String::from_utf8_lossy(&reply.body));
    reply.json()
}

/// Polls the project until every service in `names` is `state`.
pub(crate) async fn until_state(
    server: &TestServer,
    project: &str,
    names: &[&str],
    state: &str,
) -> Value {
    server
        .poll(&format!("/api/v1/projects/{project}"), LIMIT, |p| {
            names.iter().all(|name| service(p, name)["state"] == state)
        })
        .await
}

pub(crate) fn read(path: &Path) -> Timeline {
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
