//! The process routes of the REST API, served in-process: every route, status code and error
//! body, with the fixture child as the managed process.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::server_support::{FIXTURE, TestServer, fixture};

const LONG: Duration = Duration::from_secs(20);

fn id_of(body: &Value) -> String {
    body["id"].as_str().expect("id").to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn start_wait_output_and_remove() {
    let server = TestServer::start().await;
    let mut request = fixture(&["lines", "3"]);
    request["name"] = json!("three");
    request["labels"] = json!({ "team": "core" });
    let started = server.call("POST", "/api/v1/processes", Some(request)).await;
    assert_eq!(started.status, 201, "{}", String::from_utf8_lossy(&started.body));
    let info = started.json();
    assert_eq!(info["command"], FIXTURE);
    assert_eq!(info["labels"]["team"], "core");
    let id = id_of(&info);

    let waited = server.call("POST", "/api/v1/processes/three/wait?timeout=20s", None).await;
    assert_eq!(waited.status, 200);
    let waited = waited.json();
    assert_eq!(
        (waited["status"].as_str(), waited["exit_code"].as_i64()),
        (Some("exited"), Some(0))
    );
    assert!(waited["duration_ms"].is_number(), "durations are milliseconds: {waited}");

    // By full id, by prefix, by name.
    for key in [id.as_str(), &id[..8], "three"] {
        let got = server.call("GET", &format!("/api/v1/processes/{key}"), None).await;
        assert_eq!((got.status, id_of(&got.json())), (200, id.clone()), "key {key}");
    }

    let page = server
        .poll("/api/v1/processes/three/output?since=0", LONG, |p| {
            p["lines"].as_array().is_some_and(|l| l.len() == 3)
        })
        .await;
    let lines: Vec<&str> =
        page["lines"].as_array().unwrap().iter().map(|l| l["line"].as_str().unwrap()).collect();
    assert_eq!(lines, ["line 1", "line 2", "line 3"]);
    assert_eq!(page["lines"][0]["stream"], "stdout");
    assert_eq!(page["dropped"], 0);
    let next = page["next_seq"].as_u64().unwrap();
    assert!(next > page["lines"][2]["seq"].as_u64().unwrap());
    let rest = server
        .call("GET", &format!("/api/v1/processes/three/output?since={next}"), None)
        .await
        .json();
    assert_eq!(rest["lines"], json!([]), "nothing after next_seq");
    let second = server
        .call(
            "GET",
            &format!("/api/v1/processes/three/output?since={}", page["lines"][1]["seq"]),
            None,
        )
        .await
        .json();
    assert_eq!(second["lines"].as_array().unwrap().len(), 2, "since is inclusive");

    let text = server.call("GET", "/api/v1/processes/three/output?format=text", None).await;
    assert_eq!((text.status, text.body.as_slice()), (200, &b"line 1\nline 2\nline 3\n"[..]));

    let listed =
        server.call("GET", "/api/v1/processes?status=exited&label=team=core", None).await.json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    let none = server.call("GET", "/api/v1/processes?label=team=other", None).await.json();
    assert_eq!(none, json!([]));

    let removed = server.call("DELETE", "/api/v1/processes/three", None).await;
    assert_eq!((removed.status, id_of(&removed.json())), (200, id));
    let gone = server.call("GET", "/api/v1/processes/three", None).await;
    assert_eq!((gone.status, gone.code().as_str()), (404, "not_found"));
}

#[tokio::test(flavor = "multi_thread")]
async fn run_returns_output_and_a_failing_exit_is_200() {
    let server = TestServer::start().await;
    let ok = server.call("POST", "/api/v1/processes/run", Some(fixture(&["lines", "2"]))).await;
    assert_eq!(ok.status, 200);
    let ok = ok.json();
    assert_eq!(ok["output"], "line 1\nline 2\n");
    assert_eq!(ok["info"]["status"], "exited");

    let failed = server.call("POST", "/api/v1/processes/run", Some(fixture(&["exit", "3"]))).await;
    assert_eq!(failed.status, 200);
    let failed = failed.json();
    assert_eq!(
        (failed["info"]["status"].as_str(), failed["info"]["exit_code"].as_i64()),
        (Some("failed"), Some(3))
    );

    let script = server.call("POST", "/api/v1/processes/run", Some(json!({ "run": "echo \"$GREETING\" && pwd", "env": { "GREETING": "hi there" }, "dir": "/" }))).await.json();
    assert_eq!(script["output"], "hi there\n/\n");

    let timed = server.call("POST", "/api/v1/processes/run", Some(json!({ "command": FIXTURE, "args": ["sleep", "30"], "timeout": "200ms", "grace": "100ms" }))).await.json();
    assert_eq!(
        (timed["info"]["status"].as_str(), timed["info"]["reason"].as_str()),
        (Some("killed"), Some("timeout"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_a_400_naming_it() {
    let server = TestServer::start().await;
    let cases = [
        (json!({ "command": FIXTURE, "bogus": 1 }), "bogus"),
        (json!({ "command": FIXTURE, "timeout": 5 }), "timeout_ms"),
        (json!({ "command": FIXTURE, "timeout": "soon" }), "timeout"),
        (json!({ "args": ["x"] }), "command"),
        (json!({ "command": FIXTURE, "args": "lines" }), "args"),
        (json!({ "command": FIXTURE, "env": { "A": 1 } }), "env"),
        (json!({ "command": FIXTURE, "restart": "sometimes" }), "restart"),
        (json!({ "command": FIXTURE, "run": "true" }), "run"),
    ];
    for (body, named) in cases {
        let reply = server.call("POST", "/api/v1/processes", Some(body.clone())).await;
        assert_eq!(reply.status, 400, "{body}");
        let error = reply.json();
        assert_eq!(error["error"]["code"], "invalid_request", "{body}");
        assert!(error["error"]["message"].as_str().unwrap().contains(named), "{body} → {error}");
    }
    let auth = format!("Bearer {}", server.token);
    let not_json =
        server.raw("POST", "/api/v1/processes", &[("Authorization", &auth)], b"{nope").await;
    assert_eq!((not_json.status, not_json.code().as_str()), (400, "invalid_request"));
    let array = server.raw("POST", "/api/v1/processes", &[("Authorization", &auth)], b"[1]").await;
    assert_eq!(array.status, 400);
    let since = server.call("GET", "/api/v1/processes/abcd/output?since=-1", None).await;
    assert_eq!(since.status, 404, "the id is resolved first");
    // Query parameters: 400, naming the parameter.
    let sleeper =
        server.call("POST", "/api/v1/processes", Some(fixture(&["sleep", "30"]))).await.json();
    let sleeper = id_of(&sleeper);
    for (path, named) in [
        ("/api/v1/processes?colour=red".to_owned(), "colour"),
        ("/api/v1/processes?status=sleeping".to_owned(), "status"),
        (format!("/api/v1/processes/{sleeper}/output?since=-1"), "since"),
        (format!("/api/v1/processes/{sleeper}/output?format=xml"), "format"),
        (format!("/api/v1/processes/{sleeper}/output?limit=many"), "limit"),
        // The text form checks every parameter too (it once answered 200 and ignored them).
        (format!("/api/v1/processes/{sleeper}/output?format=text&limit="), "limit"),
        (format!("/api/v1/processes/{sleeper}/output?format=text&since=-1"), "since"),
        (format!("/api/v1/processes/{sleeper}/output?format=text&offset=x"), "offset"),
        (format!("/api/v1/processes/{sleeper}/output?follow=maybe"), "follow"),
    ] {
        let reply = server.call("GET", &path, None).await;
        assert_eq!(reply.status, 400, "{path}");
        let message = reply.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(named), "{path} → {message}");
    }
    let wait =
        server.call("POST", &format!("/api/v1/processes/{sleeper}/wait?timeout=soon"), None).await;
    assert_eq!(wait.status, 400);
    assert!(wait.json()["error"]["message"].as_str().unwrap().contains("timeout"));
    server.call("POST", &format!("/api/v1/processes/{sleeper}/kill"), None).await;

    // Refused on its Content-Length, before any byte of the body is read. Only the head is
    // sent: a client that wrote the 2 MiB body could meet the closed connection first.
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/processes HTTP/1.1\r\nHost: {}\r\nAuthorization: {auth}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        server.addr,
        2 << 20
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .expect("answered before the body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"payload_too_large\""), "{answer}");

    let missing = server
        .call("POST", "/api/v1/processes", Some(json!({ "command": "/no/such/program" })))
        .await;
    assert_eq!((missing.status, missing.code().as_str()), (422, "failed"));
    let no_route = server.call("GET", "/api/v1/nothing", None).await;
    assert_eq!((no_route.status, no_route.code().as_str()), (404, "not_found"));
    let wrong_method = server.call("PUT", "/api/v1/processes", None).await;
    assert_eq!((wrong_method.status, wrong_method.code().as_str()), (405, "method_not_allowed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_state_is_409_and_the_limit_is_429() {
    let server = TestServer::start_with(|mut config| {
        config.max_processes = Some(1);
        config
    })
    .await;
    let sleeper =
        server.call("POST", "/api/v1/processes", Some(fixture(&["sleep", "30"]))).await.json();
    let id = id_of(&sleeper);
    let over = server.call("POST", "/api/v1/processes", Some(fixture(&["sleep", "30"]))).await;
    assert_eq!((over.status, over.code().as_str()), (429, "limit_reached"));
    let delete = server.call("DELETE", &format!("/api/v1/processes/{id}"), None).await;
    assert_eq!((delete.status, delete.code().as_str()), (409, "wrong_state"));
    let input = server
        .call("POST", &format!("/api/v1/processes/{id}/input"), Some(json!({ "data": "x" })))
        .await;
    assert_eq!((input.status, input.code().as_str()), (409, "wrong_state"), "stdin not piped");
    let run = server.call("POST", "/api/v1/processes/run", Some(fixture(&["exit", "0"]))).await;
    assert_eq!((run.status, run.code().as_str()), (429, "limit_reached"), "run counts too");
    let pipeline = json!({ "steps": [{ "name": "a", "command": FIXTURE, "args": ["exit", "0"] }] });
    let pipeline = server.call("POST", "/api/v1/pipelines", Some(pipeline)).await;
    assert_eq!((pipeline.status, pipeline.code().as_str()), (429, "limit_reached"));

    let still = server
        .call("POST", &format!("/api/v1/processes/{id}/wait?timeout=50ms"), None)
        .await
        .json();
    assert_eq!(still["status"], "running");
    let killed = server.call("POST", &format!("/api/v1/processes/{id}/kill"), None).await;
    assert_eq!(killed.status, 200);
    let ended = server.call("POST", &format!("/api/v1/processes/{id}/wait"), None).await.json();
    assert_eq!(
        (ended["status"].as_str(), ended["reason"].as_str()),
        (Some("killed"), Some("killed"))
    );
    let signal = server
        .call("POST", &format!("/api/v1/processes/{id}/signal"), Some(json!({ "signal": "HUP" })))
        .await;
    assert_eq!((signal.status, signal.code().as_str()), (409, "wrong_state"));
    let again = server.call("POST", "/api/v1/processes", Some(fixture(&["exit", "0"]))).await;
    assert_eq!(again.status, 201, "the limit counts running processes only");
}

#[tokio::test(flavor = "multi_thread")]
async fn stdin_signal_and_stop() {
    let server = TestServer::start().await;
    let mut echo = fixture(&["echo"]);
    echo["stdin"] = json!("piped");
    echo["name"] = json!("echo");
    assert_eq!(server.call("POST", "/api/v1/processes", Some(echo)).await.status, 201);
    let sent = server
        .call("POST", "/api/v1/processes/echo/input", Some(json!({ "data": "hello\n" })))
        .await;
    assert_eq!((sent.status, sent.json()), (200, json!({})));
    server
        .poll("/api/v1/processes/echo/output", LONG, |p| {
            p["lines"].as_array().is_some_and(|l| l.iter().any(|l| l["line"] == "hello"))
        })
        .await;
    assert_eq!(server.call("POST", "/api/v1/processes/echo/close-stdin", None).await.status, 200);
    let done = server.call("POST", "/api/v1/processes/echo/wait?timeout=20s", None).await.json();
    assert_eq!(done["status"], "exited");
    let closed = server.call("POST", "/api/v1/processes/echo/close-stdin", None).await;
    assert_eq!((closed.status, closed.code().as_str()), (409, "wrong_state"));

    let mut victim = fixture(&["sleep", "30"]);
    victim["name"] = json!("victim");
    server.call("POST", "/api/v1/processes", Some(victim)).await;
    server
        .poll("/api/v1/processes/victim/output", LONG, |p| p["lines"][0]["line"] == "ready")
        .await;
    let bad = server
        .call("POST", "/api/v1/processes/victim/signal", Some(json!({ "signal": "NOPE" })))
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"]["message"].as_str().unwrap().contains("NOPE"), "{:?}", bad.json());
    let usr1 =
        server.call("POST", "/api/v1/processes/victim/signal", Some(json!({ "signal": 10 }))).await;
    assert_eq!(usr1.status, 200);
    let died = server.call("POST", "/api/v1/processes/victim/wait?timeout=20s", None).await.json();
    assert_eq!(
        (died["status"].as_str(), died["signal"].as_str()),
        (Some("failed"), Some("SIGUSR1"))
    );

    let mut stubborn = fixture(&["ignore-term", "30"]);
    stubborn["name"] = json!("stubborn");
    server.call("POST", "/api/v1/processes", Some(stubborn)).await;
    server
        .poll("/api/v1/processes/stubborn/output", LONG, |p| {
            p["lines"].as_array().is_some_and(|l| l.iter().any(|l| l["line"] == "ready"))
        })
        .await;
    let stopped = server
        .call("POST", "/api/v1/processes/stubborn/stop", Some(json!({ "grace": "200ms" })))
        .await;
    assert_eq!(stopped.status, 200);
    let stopped = stopped.json();
    assert_eq!(
        (stopped["status"].as_str(), stopped["signal"].as_str()),
        (Some("killed"), Some("SIGKILL"))
    );
    let bad_grace =
        server.call("POST", "/api/v1/processes/stubborn/stop", Some(json!({ "grace": 5 }))).await;
    assert_eq!(bad_grace.status, 400);
    let message = bad_grace.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("grace"), "{message}");
}
