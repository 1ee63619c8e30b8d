//! The HTTP health server: `/health` runs the registered checks, `/ready` reports readiness.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::error::HealthError;
use crate::deadline::within;

/// The default bound on one health check.
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// After the shutdown timeout, how long cut-short handlers get to answer and close.
const FORCE_GRACE: Duration = Duration::from_secs(1);

type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type CheckFn = Arc<dyn Fn() -> CheckFuture + Send + Sync>;

/// The checks and settings a [`HealthServer`] starts with.
///
/// A check is an async function returning `Ok(())` when healthy or `Err(reason)`. Checks run
/// concurrently on every `/health` request, each bounded by the check timeout (default 5 s); a
/// check that overruns fails with `timed out after ...`.
#[derive(Clone)]
pub struct HealthOptions {
    checks: Vec<(String, CheckFn)>,
    check_timeout: Duration,
}

impl std::fmt::Debug for HealthOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.checks.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("HealthOptions")
            .field("checks", &names)
            .field("check_timeout", &self.check_timeout)
            .finish()
    }
}

impl Default for HealthOptions {
    fn default() -> Self {
        Self { checks: Vec::new(), check_timeout: DEFAULT_CHECK_TIMEOUT }
    }
}

impl HealthOptions {
    /// No checks, the default check timeout.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a named check. `/health` reports the first failing check in the order added.
    pub fn check<F, Fut>(mut self, name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.checks.push((name.into(), box_check(check)));
        self
    }

    /// Sets the bound on each check.
    pub fn check_timeout(mut self, timeout: Duration) -> Self {
        self.check_timeout = timeout;
        self
    }
}

fn box_check<F, Fut>(check: F) -> CheckFn
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    Arc::new(move || Box::pin(check()) as CheckFuture)
}

/// What the request handlers share with the server handle.
struct Shared {
    checks: Mutex<Vec<(String, CheckFn)>>,
    check_timeout: Duration,
    ready: Arc<AtomicBool>,
    /// Cancelled when the shutdown timeout ran out: handlers still running answer at once.
    force: CancellationToken,
}

/// A running HTTP/1.1 health server.
///
/// * `GET /health` runs every check: `200 ok`, or `503 unhealthy: <check>: <reason>` naming the
///   first failing check.
/// * `GET /ready`: `200 ready` or `503 not ready`, as last set by [`set_ready`](Self::set_ready)
///   (initially not ready).
///
/// It must be started inside a Tokio runtime. Dropping it without [`stop`](Self::stop) closes
/// the port and cuts in-flight requests short.
///
/// ```no_run
/// use tend::daemon::{HealthOptions, HealthServer};
///
/// # async fn demo() -> Result<(), tend::daemon::HealthError> {
/// let options = HealthOptions::new().check("disk", || async { Ok(()) });
/// let mut server = HealthServer::bind_with("127.0.0.1:0".parse().unwrap(), options).await?;
/// println!("health on {}", server.local_addr());
/// server.set_ready(true);
/// // ...
/// server.stop(std::time::Duration::from_secs(30)).await?;
/// # Ok(()) }
/// ```
pub struct HealthServer {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for HealthServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthServer")
            .field("local_addr", &self.local_addr)
            .field("ready", &self.is_ready())
            .field("running", &self.task.is_some())
            .finish()
    }
}

impl HealthServer {
    /// Binds `addr` (port 0 picks a free port) with no checks and starts serving.
    ///
    /// # Errors
    ///
    /// [`HealthError::Bind`] if the address cannot be bound.
    pub async fn bind(addr: SocketAddr) -> Result<Self, HealthError> {
        Self::bind_with(addr, HealthOptions::default()).await
    }

    /// Binds `addr` with the given checks and settings and starts serving.
    ///
    /// # Errors
    ///
    /// [`HealthError::Bind`] if the address cannot be bound.
    pub async fn bind_with(addr: SocketAddr, options: HealthOptions) -> Result<Self, HealthError> {
        Self::bind_sharing(addr, options, Arc::new(AtomicBool::new(false))).await
    }

    /// Like [`bind_with`](Self::bind_with), with `/ready` reading the given flag, so a
    /// [`Daemon`](super::Daemon) can own readiness whether or not it runs a server.
    pub(crate) async fn bind_sharing(
        addr: SocketAddr,
        options: HealthOptions,
        ready: Arc<AtomicBool>,
    ) -> Result<Self, HealthError> {
        let bind_error = |source| HealthError::Bind { addr, source };
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        let shared = Arc::new(Shared {
            checks: Mutex::new(options.checks),
            check_timeout: options.check_timeout,
            ready,
            force: CancellationToken::new(),
        });
        let app = Router::new()
            .route("/health", get(health_endpoint))
            .route("/ready", get(ready_endpoint))
            .with_state(Arc::clone(&shared));
        let shutdown = CancellationToken::new();
        let serve =
            axum::serve(listener, app).with_graceful_shutdown(shutdown.clone().cancelled_owned());
        // `serve` only returns once shut down; accept errors are retried inside axum.
        let task = tokio::spawn(async move {
            let _ = serve.await;
        });
        Ok(Self { local_addr, shared, shutdown, task: Some(task) })
    }

    /// The bound address (with the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Adds a named check to the running server; it takes part from the next request on.
    pub fn add_check<F, Fut>(&self, name: impl Into<String>, check: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        lock(&self.shared.checks).push((name.into(), box_check(check)));
    }

    /// Sets what `/ready` answers.
    pub fn set_ready(&self, ready: bool) {
        self.shared.ready.store(ready, Ordering::SeqCst);
    }

    /// What `/ready` answers now.
    pub fn is_ready(&self) -> bool {
        self.shared.ready.load(Ordering::SeqCst)
    }

    /// Stops the server: the port closes at once, idle connections are closed, and in-flight
    /// requests may finish within `timeout`. Past it they are answered
    /// `503 unhealthy: server stopping` and closed. Calling it again does nothing.
    ///
    /// # Errors
    ///
    /// [`HealthError::StopTimedOut`] if requests had to be cut short; the server is stopped
    /// all the same.
    pub async fn stop(&mut self, timeout: Duration) -> Result<(), HealthError> {
        let Some(mut task) = self.task.take() else { return Ok(()) };
        self.shutdown.cancel();
        if within(timeout, &mut task).await.is_some() {
            return Ok(());
        }
        self.shared.force.cancel();
        if tokio::time::timeout(FORCE_GRACE, &mut task).await.is_err() {
            // A client that never finishes its request keeps its connection task alive; the
            // port is closed already, so stop waiting for it.
            task.abort();
        }
        Err(HealthError::StopTimedOut { timeout })
    }
}

impl Drop for HealthServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
        self.shared.force.cancel();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn ready_endpoint(State(shared): State<Arc<Shared>>) -> (StatusCode, &'static str) {
    if shared.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    }
}

async fn health_endpoint(State(shared): State<Arc<Shared>>) -> (StatusCode, String) {
    let outcome = tokio::select! {
        outcome = run_checks(&shared) => outcome,
        () = shared.force.cancelled() => Err("server stopping".to_owned()),
    };
    match outcome {
        Ok(()) => (StatusCode::OK, "ok".to_owned()),
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, format!("unhealthy: {reason}")),
    }
}

/// Aborts the spawned checks when a request is dropped (client gone, server forced down).
struct AbortOnDrop(Vec<JoinHandle<Option<Result<(), String>>>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.iter().for_each(JoinHandle::abort);
    }
}

/// Runs all checks at once, each in its own task (so a panicking check fails alone) under the
/// timeout, and reports the first failure in registration order.
async fn run_checks(shared: &Shared) -> Result<(), String> {
    let checks = lock(&shared.checks).clone();
    let timeout = shared.check_timeout;
    let mut tasks = AbortOnDrop(Vec::with_capacity(checks.len()));
    for (_, check) in &checks {
        let future = check();
        tasks.0.push(tokio::spawn(within(timeout, future)));
    }
    for (index, (name, _)) in checks.iter().enumerate() {
        let reason = match (&mut tasks.0[index]).await {
            Ok(Some(Ok(()))) => continue,
            Ok(Some(Err(reason))) => reason,
            Ok(None) => format!("timed out after {}", humantime::format_duration(timeout)),
            Err(join) if join.is_panic() => "panicked".to_owned(),
            Err(_) => "cancelled".to_owned(),
        };
        return Err(format!("{name}: {reason}"));
    }
    Ok(())
}
