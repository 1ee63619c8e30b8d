//! [`Readiness`]: ask a probe until it succeeds or the time is up.

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

use super::log::NO_MATCH;
use super::{DEFAULT_CHECK_TIMEOUT, Probe};
use crate::deadline::{deadline_after, sleep_until, timeout_deadline, until};
use crate::{CancellationToken, FOREVER, Process};

/// How often [`Readiness`] asks unless told otherwise: every 250 ms.
pub const DEFAULT_READY_INTERVAL: Duration = Duration::from_millis(250);
/// How long [`Readiness`] waits unless told otherwise: 60 s.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long [`Readiness`] waits before its first check unless told otherwise: not at all.
pub const DEFAULT_INITIAL_DELAY: Duration = Duration::ZERO;
/// The shortest interval between two checks; a shorter one is taken as this, so a probe never
/// spins.
pub(super) const MIN_INTERVAL: Duration = Duration::from_millis(10);
/// The least time a check gets, even at the deadline, so the last check is a real one. It is
/// also the most a wait can overrun its timeout.
const MIN_CHECK: Duration = Duration::from_millis(100);

/// Waits until a [`Probe`] succeeds: every `interval` after an `initial_delay`, for at most
/// `timeout`, all counted from the call to [`wait`](Readiness::wait).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use tend::probe::{NotReady, Probe, Readiness};
///
/// let db = Readiness::new(Probe::tcp("127.0.0.1:5432")?)
///     .interval(Duration::from_millis(100))
///     .timeout(Duration::from_secs(30))
///     .wait()
///     .await;
/// match db {
///     Ok(ready) => println!("db ready after {:.1?}", ready.after),
///     // `not ready after 30s: tcp 127.0.0.1:5432: connection refused`
///     Err(not_ready) => eprintln!("{not_ready}"),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a readiness wait does nothing until `wait` is awaited"]
pub struct Readiness {
    probe: Probe,
    process: Option<Process>,
    interval: Duration,
    timeout: Duration,
    initial_delay: Duration,
    check_timeout: Duration,
    cancel: CancellationToken,
}

/// The probe succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ready {
    /// From the call to [`Readiness::wait`] to the end of the check that succeeded.
    pub after: Duration,
}

/// Why [`Readiness::wait`] gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotReady {
    /// The timeout passed: `not ready after 60s: tcp 127.0.0.1:5432: connection refused`.
    #[error("not ready after {timeout:?}: {probe}: {last_error}")]
    TimedOut {
        /// The probe, in its written form.
        probe: String,
        /// The timeout that passed.
        timeout: Duration,
        /// Why the last check failed.
        last_error: String,
    },
    /// It can never succeed: the process given to [`Readiness::process`] ended first (for a
    /// `log` probe: without a matching line), or a `log` probe was given no process.
    #[error("not ready: {probe}: {reason}")]
    Failed {
        /// The probe, in its written form.
        probe: String,
        /// What happened.
        reason: String,
    },
    /// The cancellation token was cancelled first.
    #[error("not ready: {probe}: cancelled")]
    Cancelled {
        /// The probe, in its written form.
        probe: String,
    },
}

impl NotReady {
    /// The reason without the probe: the last error, what happened, or `cancelled`.
    pub fn reason(&self) -> &str {
        match self {
            NotReady::TimedOut { last_error, .. } => last_error,
            NotReady::Failed { reason, .. } => reason,
            NotReady::Cancelled { .. } => "cancelled",
        }
    }
}

impl Readiness {
    /// A wait for `probe` with the defaults: every 250 ms, for 60 s, from the start.
    pub fn new(probe: impl Into<Probe>) -> Readiness {
        Readiness {
            probe: probe.into(),
            process: None,
            interval: DEFAULT_READY_INTERVAL,
            timeout: DEFAULT_READY_TIMEOUT,
            initial_delay: DEFAULT_INITIAL_DELAY,
            check_timeout: DEFAULT_CHECK_TIMEOUT,
            cancel: CancellationToken::new(),
        }
    }

    /// The process the probe is about. A `log` probe reads its output (required for it):
    /// every line its capture ring holds counts, also those written before the wait. For
    /// every kind, the wait ends when the process has ended for good before the probe
    /// succeeded ([`NotReady::Failed`]: `the process ended before it was ready`; for `log`:
    /// `the process ended before a line matched`).
    pub fn process(mut self, process: &Process) -> Readiness {
        self.process = Some(process.clone());
        self
    }

    /// Time between the starts of two checks (default 250 ms; at least 10 ms). A `log` probe
    /// does not poll: it is woken by each line.
    pub fn interval(mut self, interval: Duration) -> Readiness {
        self.interval = interval;
        self
    }

    /// Gives up this long after the call (default 60 s): [`NotReady::TimedOut`]. Zero, or
    /// [`FOREVER`](crate::FOREVER) or more, waits for ever.
    pub fn timeout(mut self, timeout: Duration) -> Readiness {
        self.timeout = timeout;
        self
    }

    /// Waits this long before the first check (default none). It counts in the timeout; one
    /// check is made even when it reaches past it.
    pub fn initial_delay(mut self, initial_delay: Duration) -> Readiness {
        self.initial_delay = initial_delay;
        self
    }

    /// Bounds each check (default [`DEFAULT_CHECK_TIMEOUT`], 10 s), besides the time left.
    /// Zero is no bound but the time left.
    pub fn check_timeout(mut self, check_timeout: Duration) -> Readiness {
        self.check_timeout = check_timeout;
        self
    }

    /// Stops the wait when `token` is cancelled ([`NotReady::Cancelled`]); a check under way
    /// is dropped, an `exec` command killed.
    pub fn cancel(mut self, token: CancellationToken) -> Readiness {
        self.cancel = token;
        self
    }

    /// The probe it asks.
    pub fn probe(&self) -> &Probe {
        &self.probe
    }

    /// Waits until the probe succeeds, the timeout passes, or the token is cancelled.
    ///
    /// # Errors
    ///
    /// [`NotReady`], whose message names the probe and its last error.
    pub async fn wait(self) -> Result<Ready, NotReady> {
        let start = Instant::now();
        let deadline = timeout_deadline(start, Some(self.timeout));
        let cancel = self.cancel.clone();
        let outcome = tokio::select! {
            biased;
            () = cancel.cancelled() => Err(None),
            outcome = self.run(start, deadline) => outcome,
        };
        let probe = self.probe.to_string();
        match outcome {
            Ok(()) => Ok(Ready { after: start.elapsed() }),
            Err(None) => Err(NotReady::Cancelled { probe }),
            Err(Some(Stop::TimedOut(last_error))) => {
                Err(NotReady::TimedOut { probe, timeout: self.timeout, last_error })
            }
            Err(Some(Stop::Failed(reason))) => Err(NotReady::Failed { probe, reason }),
        }
    }

    /// The wait without cancellation.
    async fn run(&self, start: Instant, deadline: Option<Instant>) -> Result<(), Option<Stop>> {
        let first = deadline_after(start, self.initial_delay);
        if let Probe::Log(probe) = &self.probe {
            let Some(process) = &self.process else {
                return Err(Some(Stop::Failed(super::log::NO_PROCESS.to_owned())));
            };
            // Taken now: lines written during the initial delay are kept by the ring anyway.
            // A restarted run (the same record) is ready by its own lines, not its
            // predecessors'.
            let mut lines = crate::process::lines::Lines::of_current_run(process.clone());
            sleep_until(earliest(first, deadline)).await;
            return match until(deadline, probe.wait(&mut lines)).await {
                Some(Ok(())) => Ok(()),
                Some(Err(reason)) => Err(Some(Stop::Failed(reason))),
                None => Err(Some(Stop::TimedOut(NO_MATCH.to_owned()))),
            };
        }
        let polling = self.poll(first, deadline);
        let Some(process) = &self.process else { return polling.await };
        tokio::select! {
            // A success found at the moment the process ends still counts.
            biased;
            outcome = polling => outcome,
            _ = process.wait() => Err(Some(Stop::Failed(ENDED_BEFORE_READY.to_owned()))),
        }
    }

    /// Checks a probe of a kind that asks from outside every interval from `first`.
    async fn poll(
        &self,
        first: Option<Instant>,
        deadline: Option<Instant>,
    ) -> Result<(), Option<Stop>> {
        sleep_until(earliest(first, deadline)).await;
        let check_timeout = nonzero_or_forever(self.check_timeout);
        loop {
            let attempt = Instant::now();
            let left =
                deadline.map_or(FOREVER, |deadline| deadline.saturating_duration_since(attempt));
            let allowance = left.max(MIN_CHECK).min(check_timeout);
            let last_error = match self.probe.check_remote(allowance, &self.cancel).await {
                Ok(()) => return Ok(()),
                Err(error) => error,
            };
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return Err(Some(Stop::TimedOut(last_error)));
            }
            // The last check falls on the deadline itself, not up to an interval before it.
            let next = deadline_after(attempt, self.interval.max(MIN_INTERVAL));
            sleep_until(earliest(next, deadline)).await;
        }
    }
}

/// Why a wait given a process ended when the process did.
const ENDED_BEFORE_READY: &str = "the process ended before it was ready";

/// How a wait ended without success, before the probe is named.
enum Stop {
    TimedOut(String),
    Failed(String),
}

/// The earlier of two optional instants (`None` is never).
pub(super) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A bound where zero means none.
pub(super) fn nonzero_or_forever(bound: Duration) -> Duration {
    if bound.is_zero() { FOREVER } else { bound }
}

impl fmt::Display for Ready {
    /// `ready after 1.2s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ready after {:.1?}", self.after)
    }
}
