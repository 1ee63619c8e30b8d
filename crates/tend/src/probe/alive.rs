//! [`Liveness`]: ask a probe for as long as a service runs; report a run of failures.

use std::time::Duration;

use tokio::time::Instant;

use super::ready::{MIN_INTERVAL, nonzero_or_forever};
use super::{DEFAULT_CHECK_TIMEOUT, InvalidProbe, Probe};
use crate::CancellationToken;
use crate::deadline::{deadline_after, sleep_until};

/// How often [`Liveness`] asks unless told otherwise: every 10 s.
pub const DEFAULT_LIVENESS_INTERVAL: Duration = Duration::from_secs(10);
/// How many failed checks in a row make a service not alive unless told otherwise: 3.
pub const DEFAULT_FAILURES: u32 = 3;

/// Asks a [`Probe`] every `interval` until `failures` checks in a row have failed. Start it
/// once the service is ready: the first check comes one interval after the call.
///
/// ```no_run
/// # async fn demo(web: tend::Process) -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use tend::CancellationToken;
/// use tend::probe::{Liveness, Probe};
///
/// let stop_watching = CancellationToken::new();
/// let liveness = Liveness::new(Probe::http("http://127.0.0.1:8080/health")?)?
///     .interval(Duration::from_secs(5))
///     .failures(3)
///     .cancel(stop_watching.clone());
/// if let Some(not_alive) = liveness.watch().await {
///     // `http://127.0.0.1:8080/health: 500 (3 failures)`
///     eprintln!("not alive: {not_alive}; stopping");
///     web.shutdown(Duration::from_secs(10)).await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a liveness watch does nothing until `watch` is awaited"]
pub struct Liveness {
    probe: Probe,
    interval: Duration,
    failures: u32,
    check_timeout: Duration,
    cancel: CancellationToken,
}

/// A service failed its liveness checks: `http://127.0.0.1:8080/health: 500 (3 failures)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{target}: {last_error} ({failures} failures)")]
#[non_exhaustive]
pub struct NotAlive {
    /// The probe's [`target`](Probe::target): the address, URL or command.
    pub target: String,
    /// Why the last check failed.
    pub last_error: String,
    /// How many checks in a row failed.
    pub failures: u32,
}

impl Liveness {
    /// A watch of `probe` with the defaults: every 10 s, not alive after 3 failures in a row.
    ///
    /// # Errors
    ///
    /// [`InvalidProbe::NotFor`] for a `log` probe: a line that matched once matches for ever,
    /// so it cannot say a service stopped working.
    pub fn new(probe: impl Into<Probe>) -> Result<Liveness, InvalidProbe> {
        let probe = probe.into();
        if let Probe::Log(_) = probe {
            return Err(InvalidProbe::NotFor { kind: "log", purpose: "liveness" });
        }
        Ok(Liveness {
            probe,
            interval: DEFAULT_LIVENESS_INTERVAL,
            failures: DEFAULT_FAILURES,
            check_timeout: DEFAULT_CHECK_TIMEOUT,
            cancel: CancellationToken::new(),
        })
    }

    /// Time between the starts of two checks (default 10 s; at least 10 ms).
    /// [`FOREVER`](crate::FOREVER) or more never checks.
    pub fn interval(mut self, interval: Duration) -> Liveness {
        self.interval = interval;
        self
    }

    /// How many failed checks in a row make the service not alive (default 3; 0 is taken as
    /// 1). A success starts the count again.
    pub fn failures(mut self, failures: u32) -> Liveness {
        self.failures = failures.max(1);
        self
    }

    /// Bounds each check (default [`DEFAULT_CHECK_TIMEOUT`], 10 s); zero is no bound.
    pub fn check_timeout(mut self, check_timeout: Duration) -> Liveness {
        self.check_timeout = check_timeout;
        self
    }

    /// Stops watching when `token` is cancelled; a check under way is dropped, an `exec`
    /// command killed.
    pub fn cancel(mut self, token: CancellationToken) -> Liveness {
        self.cancel = token;
        self
    }

    /// Checks every interval until `failures` checks in a row failed (`Some`), or the token
    /// is cancelled (`None`).
    pub async fn watch(self) -> Option<NotAlive> {
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => None,
            not_alive = self.run() => Some(not_alive),
        }
    }

    /// [`watch`](Self::watch) for a service that may have no liveness probe: without one,
    /// it never resolves (nothing can find the service not alive).
    pub async fn watch_if_any(liveness: Option<Liveness>) -> Option<NotAlive> {
        match liveness {
            Some(liveness) => liveness.watch().await,
            None => std::future::pending().await,
        }
    }

    /// The watch without cancellation.
    async fn run(&self) -> NotAlive {
        let interval = self.interval.max(MIN_INTERVAL);
        let check_timeout = nonzero_or_forever(self.check_timeout);
        let mut failed = 0;
        let mut next = deadline_after(Instant::now(), interval);
        loop {
            sleep_until(next).await;
            let attempt = Instant::now();
            match self.probe.check_remote(check_timeout, &self.cancel).await {
                Ok(()) => failed = 0,
                Err(last_error) => {
                    failed += 1;
                    if failed >= self.failures {
                        let target = self.probe.target().to_owned();
                        return NotAlive { target, last_error, failures: failed };
                    }
                }
            }
            next = deadline_after(attempt, interval);
        }
    }
}
