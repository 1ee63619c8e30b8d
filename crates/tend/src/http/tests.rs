//! The client against real sockets: a `TcpListener` that answers with exact bytes.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use super::*;

/// Reads a request: its head and the `Content-Length` bytes after it.
async fn read_request(stream: &mut TcpStream) -> String {
    let mut raw = Vec::new();
    let mut buffer = [0; 4096];
    loop {
        let n = stream.read(&mut buffer).await.expect("read request");
        raw.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&raw).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| line.strip_prefix("content-length: "))
                .map_or(0, |n| n.trim().parse::<usize>().unwrap());
            if raw.len() >= end + 4 + length || n == 0 {
                return text;
            }
        }
        if n == 0 {
            return text;
        }
    }
}

/// A listener that answers one connection with `answer` and hands back the request.
async fn answering(answer: &'static [u8]) -> (String, oneshot::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (sent, received) = oneshot::channel();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let request = read_request(&mut stream).await;
        let _ = stream.write_all(answer).await;
        let _ = stream.shutdown().await;
        let _ = sent.send(request);
    });
    (addr, received)
}

#[tokio::test]
async fn sends_the_request_and_reads_status_headers_and_body() {
    let (addr, request) =
        answering(b"HTTP/1.1 201 Created\r\nX-Tend-Offset: 7\r\nContent-Length: 2\r\n\r\n{}").await;
    let answer = Request::post("/api/v1/processes?x=1")
        .bearer("secret")
        .json(&serde_json::json!({ "command": "true" }))
        .send(&addr)
        .await
        .unwrap();
    assert_eq!((answer.status(), answer.body()), (201, &b"{}"[..]));
    assert!(answer.is_success());
    assert_eq!(answer.header("x-tend-offset"), Some("7"));
    assert_eq!(answer.header("X-Tend-Offset"), Some("7"), "any case");
    assert_eq!(answer.json::<serde_json::Value>().unwrap(), serde_json::json!({}));
    let request = request.await.unwrap();
    assert!(request.starts_with("POST /api/v1/processes?x=1 HTTP/1.1\r\n"), "{request}");
    for line in [
        format!("host: {addr}"),
        "authorization: Bearer secret".to_owned(),
        "content-type: application/json".to_owned(),
        "connection: close".to_owned(),
        "content-length: 18".to_owned(),
    ] {
        assert!(request.contains(&format!("{line}\r\n")), "{line} in {request}");
    }
    assert!(request.ends_with("\r\n\r\n{\"command\":\"true\"}"), "{request}");
}

#[tokio::test]
async fn joins_a_chunked_body_and_reads_one_that_ends_with_the_connection() {
    let (addr, _) = answering(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n1\r\n!\r\n0\r\n\r\n",
    )
    .await;
    let answer = Request::get("/").send(&addr).await.unwrap();
    assert_eq!(answer.body(), b"ok!");
    let (addr, _) = answering(b"HTTP/1.0 503 Service Unavailable\r\n\r\nnot ready").await;
    let answer = Request::get("/ready").send(&addr).await.unwrap();
    assert_eq!((answer.status(), answer.text().as_str()), (503, "not ready"));
    assert!(!answer.is_success());
}

#[tokio::test]
async fn a_given_host_replaces_the_default_one() {
    let (addr, request) = answering(b"HTTP/1.1 204 No Content\r\n\r\n").await;
    let answer = Request::get("/").header("Host", "localhost:1").send(&addr).await.unwrap();
    assert_eq!(answer.status(), 204);
    let request = request.await.unwrap();
    assert!(request.contains("host: localhost:1\r\n"), "{request}");
    assert!(!request.contains(&addr), "{request}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_within_the_bound() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = tokio::spawn(async move {
        // Accepts and reads, but never answers.
        let (mut stream, _) = listener.accept().await.unwrap();
        let _ = read_request(&mut stream).await;
        std::future::pending::<()>().await;
    });
    let started = Instant::now();
    let error =
        Request::get("/health").timeout(Duration::from_millis(300)).send(&addr).await.unwrap_err();
    let took = started.elapsed();
    assert!(matches!(error, HttpError::TimedOut { .. }), "{error:?}");
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(10), "{took:?}");
    assert_eq!(error.to_string(), format!("no answer from {addr} within 300ms"));
    assert_eq!(error.addr(), addr);
    server.abort();
}

#[tokio::test]
async fn an_answer_over_the_bound_is_refused() {
    // Declared too large: refused before the body is read.
    let (addr, _) =
        answering(b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\nonly this").await;
    let error = Request::get("/").max_answer(1024).send(&addr).await.unwrap_err();
    assert!(matches!(error, HttpError::TooLarge { limit: 1024, .. }), "{error:?}");
    assert_eq!(error.to_string(), format!("the answer from {addr} is larger than 1024 bytes"));

    // Chunks without end: reading stops at the bound, with memory bounded, long before the
    // time bound.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let _ = read_request(&mut stream).await;
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").await;
        let chunk = format!("10000\r\n{}\r\n", "x".repeat(0x10000));
        while stream.write_all(chunk.as_bytes()).await.is_ok() {}
    });
    let started = Instant::now();
    let error = Request::get("/").max_answer(1 << 20).send(&addr).await.unwrap_err();
    assert!(matches!(error, HttpError::TooLarge { limit: 1048576, .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    server.abort();
}

#[tokio::test]
async fn refused_garbage_and_broken_are_told_apart() {
    // Nothing listens on a port just freed.
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    let error = Request::get("/").send(&addr).await.unwrap_err();
    assert!(matches!(error, HttpError::Connect { .. }), "{error:?}");
    assert!(error.is_unreachable());
    assert!(error.to_string().starts_with(&format!("cannot connect to {addr}: ")), "{error}");

    let (addr, _) = answering(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await;
    let error = Request::get("/").send(&addr).await.unwrap_err();
    assert!(matches!(error, HttpError::Malformed { .. }), "{error:?}");
    assert!(!error.is_unreachable());
    assert!(error.to_string().starts_with(&format!("malformed HTTP answer from {addr}")));

    let (addr, _) = answering(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort").await;
    let error = Request::get("/").send(&addr).await.unwrap_err();
    assert!(matches!(error, HttpError::Broken { .. }), "{error:?}");
}

#[tokio::test]
async fn an_invalid_request_is_refused_before_connecting() {
    // The address is never dialed: port 9 on loopback would be refused.
    let error = Request::new("GET", "/").header("Bad Name", "x").send("127.0.0.1:9").await;
    assert!(matches!(error, Err(HttpError::InvalidRequest { .. })), "{error:?}");
    let error = Request::new("GE T", "/").send("127.0.0.1:9").await.unwrap_err();
    assert!(error.to_string().starts_with("invalid request for 127.0.0.1:9"), "{error}");
}
