//! The largest durations through every duration input of the API (issue 10, defect 1): a
//! humantime string is honoured (as "never" when it is that long), a `*_ms` number that is
//! negative, too large for a duration or not a number at all is a 400 naming the key. Nothing
//! panics, no record is left `running`: `true` exits 0, and `wait`, `kill`, `stop` and `rm`
//! work on whatever was started.

use std::time::Duration;

use serde_json::{Value, json};

use crate::server_support::{Reply, TestServer, fixture};

/// The largest humantime duration there is (`u64::MAX` seconds), and a century.
const HUGE: &[&str] = &["18446744073709551615s", "100years", "584542046090years"];
/// `*_ms` numbers that are no duration: negative, or past `Duration::MAX` (as JSON text).
const BAD_MS: &[&str] = &["-1", "-0.5", "1e300", "1.7976931348623157e308", "1.8446744073709552e22"];
/// Generous: each process is one `true` or a fixture sleep on a loaded machine.
const LIMIT: Duration = Duration::from_secs(30);

/// The duration keys of `POST /processes` (and `/processes/run`), with what makes each one
/// matter (`restart_delay` needs a restart policy).
fn start_bodies(key: &str, value: Value) -> Value {
    let mut body = json!({ "command": "true" });
    body[key] = value;
    if key.starts_with("restart_delay") {
        body["restart"] = json!("on_failure");
    }
    body
}

async fn wait_ended(server: &TestServer, id: &str) -> Value {
    let wait = format!("/api/v1/processes/{id}/wait?timeout=18446744073709551615s");
    let reply = tokio::time::timeout(LIMIT, server.call("POST", &wait, None))
        .await
        .unwrap_or_else(|_| panic!("wait on {id} never returned"));
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    reply.json()
}

async fn remove(server: &TestServer, id: &str) {
    let reply = server.call("DELETE", &format!("/api/v1/processes/{id}"), None).await;
    assert_eq!(reply.status, 200, "rm {id}: {}", String::from_utf8_lossy(&reply.body));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_durations_on_process_start_are_honoured() {
    let server = TestServer::start().await;
    for key in ["timeout", "grace", "restart_delay"] {
        for huge in HUGE {
            let reply = server
                .call("POST", "/api/v1/processes", Some(start_bodies(key, json!(huge))))
                .await;
            assert_eq!(reply.status, 201, "{key}={huge}: {}", String::from_utf8_lossy(&reply.body));
            let id = reply.json()["id"].as_str().expect("an id").to_owned();
            let info = wait_ended(&server, &id).await;
            assert_eq!((&info["status"], &info["exit_code"]), (&json!("exited"), &json!(0)));
            remove(&server, &id).await;

            let ran =
                server.call("POST", "/api/v1/processes/run", Some(start_bodies(key, json!(huge))));
            let ran = tokio::time::timeout(LIMIT, ran).await.expect("process.run returns");
            assert_eq!(ran.status, 200, "run {key}={huge}: {}", String::from_utf8_lossy(&ran.body));
            assert_eq!(ran.json()["info"]["exit_code"], 0);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_timeout_means_no_timeout() {
    let server = TestServer::start().await;
    for (key, zero) in [("timeout", json!("0s")), ("timeout_ms", json!(0))] {
        let mut body = fixture(&["sleep", "0.3"]);
        body[key] = zero;
        let reply = server.call("POST", "/api/v1/processes", Some(body)).await;
        assert_eq!(reply.status, 201, "{}", String::from_utf8_lossy(&reply.body));
        let id = reply.json()["id"].as_str().expect("an id").to_owned();
        let info = wait_ended(&server, &id).await;
        assert_eq!((&info["status"], &info["reason"]), (&json!("exited"), &Value::Null), "{key}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_with_a_huge_timeout_can_be_killed_stopped_and_removed() {
    let server = TestServer::start().await;
    for (action, grace) in [("kill", None), ("stop", Some("18446744073709551615s"))] {
        let mut body = fixture(&["sleep", "60"]);
        body["timeout"] = json!("18446744073709551615s");
        let reply = server.call("POST", "/api/v1/processes", Some(body)).await;
        assert_eq!(reply.status, 201, "{}", String::from_utf8_lossy(&reply.body));
        let id = reply.json()["id"].as_str().expect("an id").to_owned();
        let path = format!("/api/v1/processes/{id}");
        server.poll(&path, LIMIT, |info| info["status"] == "running").await;
        let still = server.call("DELETE", &path, None).await;
        assert_eq!(still.status, 409, "rm refuses a running one");
        // The fixture dies of SIGTERM, so a grace of u64::MAX seconds is never used up.
        let control = format!("{path}/{action}");
        let body = grace.map_or_else(|| json!({}), |grace| json!({ "grace": grace }));
        let control = server.call("POST", &control, Some(body));
        let reply = tokio::time::timeout(LIMIT, control).await.expect("the control call returns");
        assert_eq!(reply.status, 200, "{action}: {}", String::from_utf8_lossy(&reply.body));
        let info = wait_ended(&server, &id).await;
        assert_eq!(info["status"], "killed", "{action}: {info}");
        remove(&server, &id).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn millisecond_numbers_that_are_no_duration_are_400_naming_the_key() {
    let server = TestServer::start().await;
    let sleeper = server.call("POST", "/api/v1/processes", Some(fixture(&["sleep", "60"]))).await;
    let id = sleeper.json()["id"].as_str().expect("an id").to_owned();
    for key in ["timeout_ms", "grace_ms", "restart_delay_ms"] {
        for bad in BAD_MS {
            // Sent as raw JSON text: `1e300` must reach the server as written.
            let body = start_bodies(key, json!(0)).to_string().replace(":0", &format!(":{bad}"));
            let reply = post_raw(&server, "/api/v1/processes", &body).await;
            assert_eq!(reply.status, 400, "{key}={bad}: {}", String::from_utf8_lossy(&reply.body));
            let message = reply.json()["error"]["message"].as_str().unwrap_or_default().to_owned();
            assert!(message.contains(key), "{key}={bad}: {message}");
        }
    }
    for bad in BAD_MS {
        let body = format!("{{\"grace_ms\":{bad}}}");
        let path = format!("/api/v1/processes/{id}/stop");
        let reply = post_raw(&server, &path, &body).await;
        assert_eq!(reply.status, 400, "grace_ms={bad}: {}", String::from_utf8_lossy(&reply.body));
        assert!(String::from_utf8_lossy(&reply.body).contains("grace_ms"));
    }
    // Numbers JSON cannot hold are a 400 too (the body is not JSON).
    for bad in ["1e400", "NaN", "Infinity", "-Infinity"] {
        let body = format!("{{\"command\":\"true\",\"timeout_ms\":{bad}}}");
        let reply = post_raw(&server, "/api/v1/processes", &body).await;
        assert_eq!(reply.status, 400, "timeout_ms={bad}");
    }
    let reply = server.call("POST", &format!("/api/v1/processes/{id}/kill"), Some(json!({}))).await;
    assert_eq!(reply.status, 200);
    wait_ended(&server, &id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelines_take_huge_durations_and_refuse_bad_milliseconds() {
    let server = TestServer::start().await;
    for key in ["timeout", "grace", "retry_delay"] {
        for huge in HUGE {
            let step = json!({ "name": "a", "command": "true", key: huge, "retries": 1 });
            let reply =
                server.call("POST", "/api/v1/pipelines", Some(json!({ "steps": [step] }))).await;
            assert_eq!(reply.status, 202, "{key}={huge}: {}", String::from_utf8_lossy(&reply.body));
            let id = reply.json()["id"].as_str().expect("an id").to_owned();
            let view = server
                .poll(&format!("/api/v1/pipelines/{id}"), LIMIT, |p| p["status"] != "running")
                .await;
            assert_eq!(view["report"]["steps"][0]["status"], "passed", "{key}={huge}: {view}");
        }
        for bad in BAD_MS {
            let body = format!(
                "{{\"steps\":[{{\"name\":\"a\",\"command\":\"true\",\"{key}_ms\":{bad}}}]}}"
            );
            let reply = post_raw(&server, "/api/v1/pipelines", &body).await;
            assert_eq!(
                reply.status,
                400,
                "{key}_ms={bad}: {}",
                String::from_utf8_lossy(&reply.body)
            );
            assert!(String::from_utf8_lossy(&reply.body).contains(&format!("{key}_ms")));
        }
    }
}

/// POSTs `body` exactly as written (numbers JSON libraries would reformat or refuse).
async fn post_raw(server: &TestServer, path: &str, body: &str) -> Reply {
    let auth = format!("Bearer {}", server.token);
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
    server.raw("POST", path, &headers, body.as_bytes()).await
}
