//! Waiting for a health server to answer `200` on `/health` or `/ready`.

use std::fmt::Display;
use std::time::Duration;

use tokio::time::Instant;

use super::error::ProbeError;
use crate::FOREVER;
use crate::deadline::deadline_after;
use crate::http::{HttpError, Request};

/// How often the probes ask.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(200);
/// The least time one attempt gets, even at the deadline, so a zero timeout still asks once.
/// It is also the most a probe can overrun its deadline.
const MIN_ATTEMPT: Duration = Duration::from_millis(100);
/// Largest answer read; health answers are a few bytes.
const MAX_ANSWER: usize = 64 * 1024;

/// Waits until `GET /health` on `addr` answers `200`, asking every 200 ms.
///
/// `addr` is anything that prints as `host:port`: a `&str` or `String` (an `http://` prefix
/// and a trailing `/` are accepted) or a [`SocketAddr`](std::net::SocketAddr), such as
/// [`Daemon::health_addr`](super::Daemon::health_addr) returns. Every attempt is bounded by the
/// time left, so the call returns within `timeout` plus at most 100 ms.
///
/// # Errors
///
/// [`ProbeError`] with the last reason: the body of the last non-200 answer (such as
/// `unhealthy: db: connection refused`), its status if the body was empty, or the connection
/// error.
///
/// ```no_run
/// # async fn demo(daemon: tend::daemon::Daemon) -> Result<(), tend::daemon::ProbeError> {
/// use std::time::Duration;
///
/// tend::daemon::wait_for_health("127.0.0.1:9000", Duration::from_secs(5)).await?;
/// if let Some(addr) = daemon.health_addr() {
///     tend::daemon::wait_for_health(addr, Duration::from_secs(5)).await?;
/// }
/// # Ok(()) }
/// ```
pub async fn wait_for_health(addr: impl Display, timeout: Duration) -> Result<(), ProbeError> {
    wait_for(&addr.to_string(), "/health", "healthy", timeout).await
}

/// Waits until `GET /ready` on `addr` answers `200`; otherwise like [`wait_for_health`].
///
/// # Errors
///
/// [`ProbeError`] with the last reason, as for [`wait_for_health`].
///
/// ```no_run
/// # async fn demo() -> Result<(), tend::daemon::ProbeError> {
/// tend::daemon::wait_for_ready("127.0.0.1:9000", std::time::Duration::from_secs(5)).await?;
/// # Ok(()) }
/// ```
pub async fn wait_for_ready(addr: impl Display, timeout: Duration) -> Result<(), ProbeError> {
    wait_for(&addr.to_string(), "/ready", "ready", timeout).await
}

async fn wait_for(
    addr: &str,
    path: &str,
    what: &'static str,
    timeout: Duration,
) -> Result<(), ProbeError> {
    let host = addr.trim().trim_start_matches("http://").trim_end_matches('/');
    // A timeout too long to have a deadline keeps asking for ever.
    let deadline = deadline_after(Instant::now(), timeout);
    let mut reason;
    loop {
        let attempt = Instant::now();
        let allowance = deadline
            .map_or(FOREVER, |deadline| deadline.saturating_duration_since(attempt))
            .max(MIN_ATTEMPT);
        let request = Request::get(path).timeout(allowance).max_answer(MAX_ANSWER);
        reason = match request.send(host).await {
            Ok(answer) if answer.status() == 200 => return Ok(()),
            Ok(answer) => match answer.text().trim() {
                "" => format!("HTTP {}", answer.status()),
                body => body.to_owned(),
            },
            // The probe error names the address already.
            Err(HttpError::Connect { error, .. }) => error.to_string(),
            Err(HttpError::TimedOut { .. }) => {
                format!("no answer within {}", humantime::format_duration(allowance))
            }
            Err(error) => error.to_string(),
        };
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            break;
        }
        // The last attempt falls on the deadline itself, not up to an interval before it.
        let next = attempt + PROBE_INTERVAL;
        tokio::time::sleep_until(deadline.map_or(next, |deadline| next.min(deadline))).await;
    }
    Err(ProbeError { addr: addr.to_owned(), what, timeout, reason })
}
