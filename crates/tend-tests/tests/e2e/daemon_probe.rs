//! `wait_for_health` / `wait_for_ready`: polling cadence, deadline accuracy, last reason.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tend::daemon::{HealthOptions, HealthServer, ProbeError, wait_for_health, wait_for_ready};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The contract: the probe gives up no later than 250 ms after its deadline.
const MAX_OVERRUN: Duration = Duration::from_millis(250);

/// A port nothing listens on (bound, then closed).
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

async fn timed<F: std::future::Future>(future: F) -> (F::Output, Duration) {
    let started = Instant::now();
    let output = future.await;
    (output, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connection_fails_at_the_deadline_with_the_connection_error() {
    for timeout_ms in [0u64, 450, 1000] {
        let timeout = Duration::from_millis(timeout_ms);
        let (outcome, took) = timed(wait_for_health(&closed_port(), timeout)).await;
        let error: ProbeError = outcome.unwrap_err();
        assert!(error.reason.to_lowercase().contains("refused"), "{error}");
        assert!(took <= timeout + MAX_OVERRUN, "{timeout:?}: overran, took {took:?}");
        // The last attempt is made at the deadline, not an interval before it.
        assert!(
            took + Duration::from_millis(50) >= timeout,
            "{timeout:?}: gave up early: {took:?}"
        );
    }
}

/// A server that accepts and never answers: each attempt must be cut at the deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_server_does_not_make_the_probe_overrun() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let timeout = Duration::from_millis(700);
    let (outcome, took) = timed(wait_for_ready(&addr, timeout)).await;
    let error = outcome.unwrap_err();
    assert!(error.reason.starts_with("no answer within"), "{error}");
    assert!(took <= timeout + MAX_OVERRUN, "overran: {took:?}");
    assert!(took >= timeout - Duration::from_millis(50), "gave up early: {took:?}");
    holder.abort();
}

/// Counts connections and answers each with a bodiless status, to observe the cadence and the
/// status-only reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_every_200ms_and_reports_a_bodiless_status() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let count = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&count);
    let server = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await;
            let _ = socket
                .write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    });
    let timeout = Duration::from_millis(2000);
    let (outcome, took) = timed(wait_for_health(&addr, timeout)).await;
    let error = outcome.unwrap_err();
    assert_eq!(error.reason, "HTTP 500");
    assert_eq!(error.what, "healthy");
    assert!(error.to_string().contains(&addr), "{error}");
    assert!(took <= timeout + MAX_OVERRUN, "overran: {took:?}");
    let attempts = count.load(Ordering::SeqCst);
    // Every 200 ms from 0 to 2000 ms: eleven on an idle machine, a few fewer if it stalls;
    // a 300 ms cadence would give seven, a 100 ms one twenty-one.
    assert!((8..=12).contains(&attempts), "{attempts} attempts in {took:?}");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn succeeds_once_the_server_turns_healthy_and_carries_the_body_otherwise() {
    let healthy_at = Instant::now() + Duration::from_millis(600);
    let options = HealthOptions::new().check("warmup", move || async move {
        if Instant::now() >= healthy_at { Ok(()) } else { Err("still warming up".to_owned()) }
    });
    let mut server =
        HealthServer::bind_with("127.0.0.1:0".parse().unwrap(), options).await.unwrap();
    let addr = server.local_addr().to_string();

    let (early, _) = timed(wait_for_health(&addr, Duration::from_millis(200))).await;
    assert_eq!(early.unwrap_err().reason, "unhealthy: warmup: still warming up");

    let (outcome, took) =
        timed(wait_for_health(&format!("http://{addr}/"), Duration::from_secs(10))).await;
    outcome.expect("healthy after warm-up");
    assert!(took < Duration::from_secs(5), "noticed soon after turning healthy: {took:?}");

    let ready = wait_for_ready(&addr, Duration::from_millis(300)).await.unwrap_err();
    assert_eq!(ready.reason, "not ready");
    assert_eq!(ready.what, "ready");
    server.set_ready(true);
    wait_for_ready(&addr, Duration::from_secs(5)).await.expect("ready");
    server.stop(Duration::from_secs(5)).await.unwrap();
}
