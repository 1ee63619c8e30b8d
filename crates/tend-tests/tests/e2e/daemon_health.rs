//! The health server over real sockets: checks, timeouts, readiness and graceful stop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tend::daemon::{HealthError, HealthOptions, HealthServer};

use crate::daemon_support::{http_get, must_get, port_open, wait_for_flag};

fn any_port() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_ok_without_checks_and_names_the_first_failing_check() {
    let mut server = HealthServer::bind(any_port()).await.unwrap();
    assert_ne!(server.local_addr().port(), 0, "the bound port is readable");
    let addr = server.local_addr().to_string();
    assert_eq!(must_get(&addr, "/health").await, (200, "ok".to_owned()));

    let db_up = Arc::new(AtomicBool::new(true));
    let flag = Arc::clone(&db_up);
    server.add_check("cache", || async { Ok(()) });
    server.add_check("db", move || {
        let up = flag.load(Ordering::SeqCst);
        async move { if up { Ok(()) } else { Err("connection refused".to_owned()) } }
    });
    server.add_check("queue", || async { Err("backlog too long".to_owned()) });
    assert_eq!(
        must_get(&addr, "/health").await,
        (503, "unhealthy: queue: backlog too long".into())
    );

    db_up.store(false, Ordering::SeqCst);
    assert_eq!(
        must_get(&addr, "/health").await,
        (503, "unhealthy: db: connection refused".to_owned()),
        "the first failing check in registration order"
    );
    assert_eq!(must_get(&addr, "/nope").await.0, 404);
    server.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_check_times_out() {
    let options = HealthOptions::new()
        .check_timeout(Duration::from_millis(300))
        .check("fast", || async { Ok(()) })
        .check("stuck", std::future::pending::<Result<(), String>>)
        .check("panics", || async { panic!("check bug") });
    let mut server = HealthServer::bind_with(any_port(), options).await.unwrap();
    let addr = server.local_addr().to_string();
    let started = Instant::now();
    let (status, body) = must_get(&addr, "/health").await;
    let took = started.elapsed();
    assert_eq!((status, body.as_str()), (503, "unhealthy: stuck: timed out after 300ms"));
    assert!(took >= Duration::from_millis(290), "answered before the timeout: {took:?}");
    assert!(took < Duration::from_secs(3), "bounded by the check timeout: {took:?}");
    server.stop(Duration::from_secs(5)).await.unwrap();

    let options = HealthOptions::new().check("panics", || async { panic!("check bug") });
    let mut server = HealthServer::bind_with(any_port(), options).await.unwrap();
    let addr = server.local_addr().to_string();
    assert_eq!(must_get(&addr, "/health").await, (503, "unhealthy: panics: panicked".into()));
    // The server survives a panicking check.
    assert_eq!(must_get(&addr, "/ready").await.0, 503);
    server.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_toggles() {
    let mut server = HealthServer::bind(any_port()).await.unwrap();
    let addr = server.local_addr().to_string();
    assert_eq!(must_get(&addr, "/ready").await, (503, "not ready".to_owned()), "starts not ready");
    server.set_ready(true);
    assert!(server.is_ready());
    assert_eq!(must_get(&addr, "/ready").await, (200, "ready".to_owned()));
    server.set_ready(false);
    assert_eq!(must_get(&addr, "/ready").await, (503, "not ready".to_owned()));
    server.set_ready(true);
    assert_eq!(must_get(&addr, "/ready").await, (200, "ready".to_owned()));
    server.stop(Duration::from_secs(5)).await.unwrap();
}

/// A check that answers only after `delay`, to keep a request in flight; the flag goes up
/// when a request reaches it.
fn slow_options(delay: Duration) -> (HealthOptions, Arc<AtomicBool>) {
    let entered = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&entered);
    let options =
        HealthOptions::new().check_timeout(Duration::from_secs(60)).check("slow", move || {
            flag.store(true, Ordering::SeqCst);
            async move {
                tokio::time::sleep(delay).await;
                Ok(())
            }
        });
    (options, entered)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_stop_lets_in_flight_requests_finish_and_closes_the_port() {
    let (options, entered) = slow_options(Duration::from_millis(800));
    let mut server = HealthServer::bind_with(any_port(), options).await.unwrap();
    let addr = server.local_addr().to_string();
    let in_flight = tokio::spawn({
        let addr = addr.clone();
        async move { http_get(&addr, "/health").await }
    });
    wait_for_flag(&entered).await;
    let started = Instant::now();
    server.stop(Duration::from_secs(10)).await.expect("stopped within the timeout");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(300), "stop waited for the request: {took:?}");
    assert!(took < Duration::from_secs(5), "and no longer: {took:?}");
    let answer = in_flight.await.unwrap().expect("in-flight request answered");
    assert_eq!(answer, (200, "ok".to_owned()));
    assert!(!port_open(&addr), "port closed after stop");
    server.stop(Duration::from_secs(1)).await.expect("a second stop does nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_is_bounded_by_its_timeout() {
    let (options, entered) = slow_options(Duration::from_secs(50));
    let mut server = HealthServer::bind_with(any_port(), options).await.unwrap();
    let addr = server.local_addr().to_string();
    let in_flight = tokio::spawn({
        let addr = addr.clone();
        async move { http_get(&addr, "/health").await }
    });
    wait_for_flag(&entered).await;
    let started = Instant::now();
    let outcome = server.stop(Duration::from_millis(300)).await;
    let took = started.elapsed();
    assert!(matches!(outcome, Err(HealthError::StopTimedOut { .. })), "{outcome:?}");
    assert!(took < Duration::from_secs(3), "stop overran its bound: {took:?}");
    let answer = tokio::time::timeout(Duration::from_secs(5), in_flight)
        .await
        .expect("the cut-short request is answered promptly")
        .unwrap()
        .expect("answered, not dropped");
    assert_eq!(answer, (503, "unhealthy: server stopping".to_owned()));
    assert!(!port_open(&addr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binding_a_taken_port_names_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let error = HealthServer::bind(addr).await.unwrap_err();
    assert!(matches!(error, HealthError::Bind { .. }), "{error:?}");
    assert!(error.to_string().contains(&addr.to_string()), "{error}");
}
