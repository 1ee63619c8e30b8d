//! Authentication, DNS-rebinding and Origin checks, the routes outside `/api`, and the
//! OpenAPI document.

use serde_json::Value;

use crate::server_support::{TestServer, fixture, send};

#[tokio::test(flavor = "multi_thread")]
async fn api_needs_the_token() {
    let server = TestServer::start().await;
    let none = server.raw("GET", "/api/v1/processes", &[], b"").await;
    assert_eq!((none.status, none.code().as_str()), (401, "unauthorized"));
    let wrong =
        server.raw("GET", "/api/v1/processes", &[("Authorization", "Bearer nope")], b"").await;
    assert_eq!((wrong.status, wrong.code().as_str()), (401, "unauthorized"));
    let basic =
        server.raw("GET", "/api/v1/processes", &[("Authorization", "Basic eDp5")], b"").await;
    assert_eq!(basic.status, 401);
    // The query token is for WebSocket upgrades only.
    let query =
        server.raw("GET", &format!("/api/v1/processes?token={}", server.token), &[], b"").await;
    assert_eq!(query.status, 401);
    let refused = server
        .raw("POST", "/api/v1/processes", &[], fixture(&["exit", "0"]).to_string().as_bytes())
        .await;
    assert_eq!(refused.status, 401);
    assert!(server.service.list().is_empty(), "a refused request started nothing");
    let auth = format!("Bearer {}", server.token);
    let ok = server.raw("GET", "/api/v1/processes", &[("Authorization", &auth)], b"").await;
    assert_eq!(ok.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_host_is_refused_everywhere() {
    let server = TestServer::start().await;
    let auth = format!("Bearer {}", server.token);
    for host in ["evil.example:80", "attacker.test", ""] {
        for path in ["/api/v1/processes", "/health", "/metrics"] {
            let reply =
                send(server.addr, "GET", path, host, &[("Authorization", &auth)], b"").await;
            assert_eq!(
                (reply.status, reply.code().as_str()),
                (403, "forbidden"),
                "Host `{host}` {path}"
            );
        }
    }
    // HTTP/1.1 without `Host` is malformed, so no client sends it: written by hand.
    let no_host = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n").await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer
    })
    .await
    .expect("an answer without Host");
    assert!(no_host.starts_with("HTTP/1.1 403 "), "{no_host}");
    let localhost = format!("localhost:{}", server.addr.port());
    let ok = send(server.addr, "GET", "/health", &localhost, &[], b"").await;
    assert_eq!((ok.status, ok.body.as_slice()), (200, &b"ok"[..]));
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_origin_and_query_token() {
    let server = TestServer::start().await;
    let upgrade = [
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    let with = |extra: &[(&'static str, String)]| {
        let mut headers: Vec<(&str, String)> =
            upgrade.iter().map(|(n, v)| (*n, (*v).to_owned())).collect();
        headers.extend(extra.iter().cloned());
        headers
    };
    let path = format!("/api/v1/events?token={}", server.token);
    let cases = [
        (with(&[("Origin", "http://evil.example".into())]), 403),
        (with(&[("Origin", format!("http://{}", server.addr))]), 101),
        (with(&[]), 101),
    ];
    for (headers, expected) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        // A 101 answer has no body: the client returns it and closes the connection.
        let reply = server.raw("GET", &path, &headers, b"").await;
        assert_eq!(reply.status, expected, "{headers:?}: {reply:?}");
    }
    let no_token = server.raw("GET", "/api/v1/events", &upgrade, b"").await;
    assert_eq!((no_token.status, no_token.code().as_str()), (401, "unauthorized"));
    let wrong_token = server.raw("GET", "/api/v1/events?token=nope", &upgrade, b"").await;
    assert_eq!((wrong_token.status, wrong_token.code().as_str()), (401, "unauthorized"));
}

#[tokio::test(flavor = "multi_thread")]
async fn health_ready_metrics_and_openapi() {
    let server = TestServer::start().await;
    let health = server.raw("GET", "/health", &[], b"").await;
    assert_eq!((health.status, health.body.as_slice()), (200, &b"ok"[..]));
    let ready = server.raw("GET", "/ready", &[], b"").await;
    assert_eq!(ready.status, 200);
    server.state.set_ready(false);
    let not_ready = server.raw("GET", "/ready", &[], b"").await;
    assert_eq!((not_ready.status, not_ready.body.as_slice()), (503, &b"not ready"[..]));

    server.call("POST", "/api/v1/processes/run", Some(fixture(&["lines", "2"]))).await;
    let expected = [
        "tend_processes{status=\"exited\"} 1",
        "tend_processes{status=\"running\"} 0",
        "tend_process_starts_total 1",
        "tend_process_exits_total 1",
        "tend_output_bytes_total 12",
        "tend_websocket_clients 0",
        "tend_process_restarts_total 0",
        // Event lag: what the replay log and WebSocket clients missed.
        "tend_event_log_missed_total 0",
        "tend_websocket_missed_events_total 0",
        "tend_event_log_evicted_total 0",
        "tend_event_log_lag 0",
        // Once the log has read everything, the bus holds nothing.
        "tend_event_bus_events 0",
        "tend_event_bus_bytes 0",
    ];
    // The counters follow the event feed, which runs beside the request: poll.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let metrics = server.raw("GET", "/metrics", &[], b"").await;
        assert_eq!(metrics.status, 200);
        assert!(metrics.header("content-type").unwrap().starts_with("text/plain"));
        let text = String::from_utf8(metrics.body).unwrap();
        let missing: Vec<&str> =
            expected.iter().copied().filter(|line| !text.lines().any(|l| l == *line)).collect();
        if missing.is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "missing {missing:?} in\n{text}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let doc = server.call("GET", "/api/v1/openapi.json", None).await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/processes",
        "/processes/run",
        "/processes/{id}",
        "/processes/{id}/output",
        "/processes/{id}/wait",
        "/processes/{id}/input",
        "/processes/{id}/close-stdin",
        "/processes/{id}/signal",
        "/processes/{id}/kill",
        "/processes/{id}/stop",
        "/daemons",
        "/daemons/{code}/{daemon}",
        "/daemons/{code}/{daemon}/health",
        "/daemons/{code}/{daemon}/stop",
        "/events",
        "/pipelines",
        "/pipelines/{id}",
        "/pipelines/{id}/cancel",
        "/openapi.json",
    ] {
        assert!(paths.contains_key(path), "OpenAPI lacks {path}");
    }
    // Every $ref points at a schema that exists.
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r.clone());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").expect("local schema ref");
        assert!(doc["components"]["schemas"].get(name).is_some(), "dangling {r}");
    }
}
