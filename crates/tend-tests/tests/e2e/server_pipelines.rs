//! Pipelines through the API: `POST /pipelines` runs real `sh` steps on the server's service;
//! the live and final report, the labelled step processes, the four pipeline event kinds on
//! the WebSocket, cancellation, and 400s that name the culprit.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::server_support::TestServer;

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Generous: each step is one short `sh`.
const RUN_LIMIT: Duration = Duration::from_secs(30);

fn sh(name: &str, script: &str) -> Value {
    json!({ "name": name, "command": "sh", "args": ["-c", script] })
}

async fn connect(server: &TestServer) -> Socket {
    let url = format!("ws://{}/api/v1/events?token={}", server.addr, server.token);
    let request = url.into_client_request().expect("request");
    let tcp = tokio::net::TcpStream::connect(server.addr).await.expect("connect");
    let (socket, _) = tokio_tungstenite::client_async(request, tcp).await.expect("upgrade");
    socket
}

/// The next JSON message, failing after ten seconds.
async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("an event within 10 s")
            .expect("stream open")
            .expect("message");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).expect("JSON event");
        }
    }
}

/// POSTs `body` and returns the new pipeline's id, asserting 202.
async fn start(server: &TestServer, body: Value) -> String {
    let reply = server.call("POST", "/api/v1/pipelines", Some(body)).await;
    assert_eq!(reply.status, 202, "{}", String::from_utf8_lossy(&reply.body));
    reply.json()["id"].as_str().expect("an id").to_owned()
}

async fn until_ended(server: &TestServer, id: &str) -> Value {
    server.poll(&format!("/api/v1/pipelines/{id}"), RUN_LIMIT, |p| p["status"] != "running").await
}

fn step<'a>(view: &'a Value, name: &str) -> &'a Value {
    view["report"]["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no step `{name}` in {view}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dag_runs_to_its_report_with_labelled_processes_and_events() {
    let server = TestServer::start().await;
    let mut socket = connect(&server).await;
    let body = json!({ "steps": [
        sh("build", "echo built"),
        { "name": "test", "command": "sh", "args": ["-c", "echo tested"], "after": ["build"] },
        { "name": "lint", "run": "exit 3", "after": ["build"], "timeout_ms": 20000 },
        { "name": "docs", "command": "sh", "args": ["-c", "echo never"], "after": ["lint"] }
    ] });
    let id = start(&server, body).await;

    let view = until_ended(&server, &id).await;
    assert_eq!(view["id"], id.as_str());
    assert_eq!(view["status"], "finished", "{view}");
    let report = &view["report"];
    assert_eq!(report["success"], false);
    assert_eq!(report["mode"], "dag");
    assert_eq!(
        report["totals"],
        json!({ "passed": 2, "failed": 1, "allowed_failures": 0, "skipped": 1, "cancelled": 0 })
    );
    let names: Vec<&str> =
        report["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["build", "test", "lint", "docs"], "declaration order");
    assert_eq!(step(&view, "build")["status"], "passed");
    assert_eq!(step(&view, "test")["output"], "tested\n");
    assert_eq!(step(&view, "lint")["status"], "failed");
    assert_eq!(step(&view, "lint")["exit_code"], 3);
    assert_eq!(step(&view, "docs")["status"], "skipped");
    assert_eq!(step(&view, "docs")["blocked_by"], "lint");

    // The step processes, found by the pipeline's label, each labelled with its step.
    let path = format!("/api/v1/processes?label=pipeline={id}");
    let processes = server.call("GET", &path, None).await.json();
    let mut steps: Vec<(String, String)> = processes
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| {
            assert_eq!(p["labels"]["pipeline"], id.as_str());
            let step = p["labels"]["step"].as_str().expect("a step label").to_owned();
            (step, p["id"].as_str().unwrap().to_owned())
        })
        .collect();
    steps.sort();
    let labelled: Vec<&str> = steps.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(labelled, ["build", "lint", "test"], "docs never started");
    for (name, process) in &steps {
        assert_eq!(step(&view, name)["process_id"], process.as_str(), "{name}");
    }
    let other = server.call("GET", "/api/v1/processes?label=pipeline=other", None).await.json();
    assert_eq!(other, json!([]));

    // The WebSocket: this pipeline's events, in order.
    let mut events = Vec::new();
    loop {
        let event = next(&mut socket).await;
        if event["pipeline"] != id.as_str() {
            continue;
        }
        let last = event["event"] == "pipeline_finished";
        events.push(event);
        if last {
            break;
        }
    }
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().expect("seq")).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "seq increases: {seqs:?}");
    let kinds: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"pipeline_started"), "{kinds:?}");
    assert_eq!(events[0]["steps"], json!(["build", "test", "lint", "docs"]));
    assert_eq!(kinds.iter().filter(|k| **k == "step_started").count(), 3, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "step_finished").count(), 4, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "pipeline_finished").count(), 1, "{kinds:?}");
    for name in ["build", "test", "lint"] {
        let at = |kind: &str| {
            events.iter().position(|e| e["event"] == kind && e["step"] == name).unwrap()
        };
        assert!(at("step_started") < at("step_finished"), "{name}: {kinds:?}");
        let started = &events[at("step_started")];
        assert_eq!(started["attempt"], 1);
        assert_eq!(started["process_id"], step(&view, name)["process_id"]);
    }
    let build_done = events.iter().position(|e| e["event"] == "step_finished").unwrap();
    assert_eq!(events[build_done]["step"], "build", "build ends before the others start");
    assert!(
        events.iter().skip(build_done).filter(|e| e["event"] == "step_started").count() == 2,
        "test and lint start after build ended: {kinds:?}"
    );
    let lint = events.iter().find(|e| e["event"] == "step_finished" && e["step"] == "lint");
    assert_eq!(lint.unwrap()["exit_code"], 3);
    let finished = events.last().unwrap();
    assert_eq!(finished["success"], false);
    assert_eq!(finished["status"], "finished");
    assert_eq!(finished["totals"]["skipped"], 1);

    let list = server.call("GET", "/api/v1/pipelines", None).await.json();
    let listed = list.as_array().unwrap().iter().find(|p| p["id"] == id.as_str()).unwrap();
    assert_eq!(listed["status"], "finished");
    assert_eq!(listed["steps"], 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_pipeline_shows_live_and_can_be_cancelled() {
    let server = TestServer::start().await;
    let body = json!({
        "steps": [
            { "name": "hold", "command": "sh", "args": ["-c", "sleep 60"], "grace": "5s" },
            sh("after", "echo after").as_object().cloned().map(|mut s| {
                s.insert("after".into(), json!(["hold"]));
                Value::Object(s)
            }).unwrap()
        ],
        "mode": "dag", "jobs": 1, "fail_fast": false
    });
    let id = start(&server, body).await;
    let path = format!("/api/v1/pipelines/{id}");
    let live = server
        .poll(&path, RUN_LIMIT, |p| {
            p["report"]["steps"][0]["status"] == "running"
                && p["report"]["steps"][0]["process_id"].is_string()
        })
        .await;
    assert_eq!(live["status"], "running");
    assert_eq!(live["report"]["success"], Value::Null);
    assert_eq!(step(&live, "after")["status"], "pending");
    assert_eq!(step(&live, "hold")["attempts"], 1);

    let cancelled = server.call("POST", &format!("{path}/cancel"), None).await;
    assert_eq!(cancelled.status, 202, "{}", String::from_utf8_lossy(&cancelled.body));
    assert_eq!(cancelled.json()["cancel_requested"], true);
    let started = Instant::now();
    let view = until_ended(&server, &id).await;
    assert!(started.elapsed() < Duration::from_secs(20), "sh dies at SIGTERM, not at the end");
    assert_eq!(view["status"], "cancelled", "{view}");
    assert_eq!(view["report"]["success"], false);
    assert_eq!(step(&view, "hold")["status"], "cancelled");
    assert_eq!(step(&view, "after")["status"], "cancelled");
    let process = step(&view, "hold")["process_id"].as_str().unwrap().to_owned();
    let info = server.call("GET", &format!("/api/v1/processes/{process}"), None).await.json();
    assert_ne!(info["status"], "running", "{info}");

    let again = server.call("POST", &format!("{path}/cancel"), None).await;
    assert_eq!((again.status, again.code().as_str()), (409, "wrong_state"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timeout_in_milliseconds_ends_a_step() {
    let server = TestServer::start().await;
    let body = json!({ "steps": [
        { "name": "slow", "command": "sh", "args": ["-c", "sleep 60"], "timeout_ms": 300, "grace_ms": 2000 }
    ] });
    let id = start(&server, body).await;
    let view = until_ended(&server, &id).await;
    assert_eq!(step(&view, "slow")["status"], "timed_out", "{view}");
    assert_eq!(view["status"], "finished");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_bodies_are_400s_naming_the_culprit() {
    let server = TestServer::start().await;
    let cases = [
        (
            json!({ "steps": [{ "name": "b", "command": "true", "tiemout": "1s" }] }),
            "step `b`: unknown key `tiemout`",
        ),
        (json!({ "steps": [{ "name": "b", "args": ["x"] }] }), "step `b`: needs `command`"),
        (
            json!({ "steps": [
                { "name": "a", "command": "true", "after": ["c"] },
                { "name": "b", "command": "true", "after": ["a"] },
                { "name": "c", "command": "true", "after": ["b"] }
            ] }),
            "dependency cycle: a -> c -> b -> a",
        ),
        (
            json!({ "steps": [{ "name": "a", "command": "true", "after": ["ghost"] }] }),
            "`ghost`, which is not a step",
        ),
        (
            json!({ "steps": [{ "name": "a", "command": "true", "retries": "many" }] }),
            "`retries` in step `a`",
        ),
        (json!({ "steps": [sh("a", "true")], "mode": "waves" }), "`waves`"),
        (json!({ "steps": [sh("a", "true")], "parallel": true }), "unknown key `parallel`"),
        (json!({ "steps": [] }), "`steps` is empty"),
        (json!({ "mode": "dag" }), "`steps` is required"),
        (json!({ "steps": [{ "command": "true" }] }), "steps[0]: `name`"),
    ];
    for (body, expected) in cases {
        let reply = server.call("POST", "/api/v1/pipelines", Some(body.clone())).await;
        assert_eq!(reply.status, 400, "{body}: {}", String::from_utf8_lossy(&reply.body));
        assert_eq!(reply.code(), "invalid_request");
        let message = reply.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(expected), "{body}: `{message}` lacks `{expected}`");
    }
    let not_json = server
        .raw(
            "POST",
            "/api/v1/pipelines",
            &[("Authorization", &format!("Bearer {}", server.token))],
            b"{steps",
        )
        .await;
    assert_eq!(not_json.status, 400);
    // Nothing was started by any of them.
    assert_eq!(server.call("GET", "/api/v1/processes", None).await.json(), json!([]));
    assert_eq!(server.call("GET", "/api/v1/pipelines", None).await.json(), json!([]));

    for (method, path) in [
        ("GET", "/api/v1/pipelines/0190c0de-0000-7000-8000-000000000000"),
        ("POST", "/api/v1/pipelines/nope/cancel"),
    ] {
        let reply = server.call(method, path, None).await;
        assert_eq!((reply.status, reply.code().as_str()), (404, "not_found"), "{method} {path}");
    }
    let unauthorised = server.raw("GET", "/api/v1/pipelines", &[], b"").await;
    assert_eq!(unauthorised.status, 401);
}
