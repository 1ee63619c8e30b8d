//! Issue 17 ("Scale"): `GET /processes` writes each record from the JSON it keeps between
//! answers. The body must stay, byte for byte, the infos serialised as before, filters and
//! errors included, and show a change to a record in the very next answer.

use std::time::Duration;

use serde_json::{Value, json};
use tend::{ProcessInfo, Status};

use crate::server_support::{TestServer, fixture};
use crate::support::until;

const PATIENCE: Duration = Duration::from_secs(20);

/// Which infos a query keeps, as `process.list` filters them.
type Keep = Box<dyn Fn(&ProcessInfo) -> bool>;

/// The infos serialised the way the route did before: `serde_json` over the service's list,
/// filtered as `process.list` filters.
fn the_old_way(server: &TestServer, keep: impl Fn(&ProcessInfo) -> bool) -> String {
    let infos: Vec<ProcessInfo> = server.service.list().into_iter().filter(keep).collect();
    serde_json::to_string(&infos).unwrap()
}

/// `"duration_ms":NUMBER` → `"duration_ms":0`: a running process's duration moves between
/// two readings; everything else, field order included, must not.
fn durations_masked(body: &str) -> String {
    let key = "\"duration_ms\":";
    let mut out = String::new();
    let mut rest = body;
    while let Some(at) = rest.find(key) {
        out.push_str(&rest[..at + key.len()]);
        rest = &rest[at + key.len()..];
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        out.push_str(if &rest[..end] == "null" { "null" } else { "0" });
        rest = &rest[end..];
    }
    out + rest
}

async fn body(server: &TestServer, query: &str) -> String {
    let reply = server.call("GET", &format!("/api/v1/processes{query}"), None).await;
    assert_eq!(reply.status, 200, "{query}: {}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    String::from_utf8(reply.body).unwrap()
}

async fn start(server: &TestServer, request: Value) -> String {
    let reply = server.call("POST", "/api/v1/processes", Some(request)).await;
    assert_eq!(reply.status, 201, "{}", String::from_utf8_lossy(&reply.body));
    reply.json()["id"].as_str().unwrap().to_owned()
}

fn labelled(args: &[&str], tier: &str) -> Value {
    let mut request = fixture(args);
    request["labels"] = json!({ "tier": tier, "quote\"d": "back\\slash" });
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_is_the_infos_serialised_byte_for_byte_and_never_stale() {
    let server = TestServer::start().await;
    start(&server, labelled(&["exit", "0"], "web")).await;
    start(&server, labelled(&["exit", "3"], "db")).await;
    let killed = start(&server, labelled(&["sleep", "30"], "web")).await;
    server.call("POST", &format!("/api/v1/processes/{killed}/kill"), Some(json!({}))).await;
    until(PATIENCE, "every record to finish", || {
        server.service.list().iter().all(|info| info.status.is_finished())
    })
    .await;

    // Finished records: nothing moves, the bytes are the bytes.
    let queries: [(&str, Keep); 5] = [
        ("", Box::new(|_| true)),
        ("?status=exited", Box::new(|i| i.status == Status::Exited)),
        ("?status=failed", Box::new(|i| i.status == Status::Failed)),
        ("?label=tier=web", Box::new(|i| i.labels.get("tier").is_some_and(|t| t == "web"))),
        ("?status=killed&label=tier=db", Box::new(|_| false)),
    ];
    for _ in 0..2 {
        // Twice: the second answer comes from the JSON the records kept.
        for (query, keep) in &queries {
            assert_eq!(body(&server, query).await, the_old_way(&server, keep), "{query}");
        }
    }

    // A running one, then a restart, then its end: each shows in the next answer.
    let running = start(&server, labelled(&["sleep", "30"], "web")).await;
    let is_running = |i: &ProcessInfo| i.status == Status::Running;
    let listed = body(&server, "?status=running").await;
    assert_eq!(durations_masked(&listed), durations_masked(&the_old_way(&server, is_running)));
    assert!(listed.contains("\"restarts\":0"), "{listed}");
    let path = format!("/api/v1/processes/{running}/restart");
    let restarted = server.call("POST", &path, Some(json!({}))).await;
    assert_eq!(restarted.status, 200, "{}", String::from_utf8_lossy(&restarted.body));
    let listed = body(&server, "?status=running").await;
    assert!(listed.contains("\"restarts\":1"), "{listed}");
    assert!(listed.contains(&format!("\"pid\":{}", restarted.json()["pid"])), "{listed}");
    assert_eq!(durations_masked(&listed), durations_masked(&the_old_way(&server, is_running)));
    server.call("POST", &format!("/api/v1/processes/{running}/kill"), Some(json!({}))).await;
    assert_eq!(body(&server, "?status=running").await, "[]");
    assert_eq!(body(&server, "").await, the_old_way(&server, |_| true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_list_query_fails_as_the_action_fails() {
    let server = TestServer::start().await;
    let actions = server.state.actions();
    for (query, options) in [
        ("?status=zombie", json!({"status": "zombie"})),
        ("?label=no-equals", json!({"label": "no-equals"})),
    ] {
        let reply = server.call("GET", &format!("/api/v1/processes{query}"), None).await;
        let error = actions.dispatch("process.list", options).await.unwrap_err();
        assert_eq!((reply.status, reply.code()), (400, error.code().to_owned()), "{query}");
        assert_eq!(reply.json()["error"]["message"], error.to_string(), "{query}");
    }
    let unknown = server.call("GET", "/api/v1/processes?owner=me", None).await;
    assert_eq!((unknown.status, unknown.code().as_str()), (400, "invalid_request"));
}
