//! Deadlines that cannot overflow: the crate's one rule for durations.
//!
//! Every duration tend takes — a timeout, a grace period, a restart or retry delay, a drain
//! or leak timeout, from the library, a pipeline file, the API or the command line — is
//! accepted. One of [`FOREVER`] (100 years) or more means "never": that timeout never fires,
//! that grace period never ends in SIGKILL, that delay never ends. Adding a huge duration to
//! a clock reading would overflow (and panic, or wrap): no duration the crate is given is
//! added to a clock reading except through [`deadline_after`]. A timeout of zero means no timeout.
//!
//! Numbers of milliseconds (the API's `*_ms` keys) are another matter: one that is negative,
//! not a number, infinite or too large for a [`Duration`] is refused, naming the key.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// The longest finite wait: 100 years. A timeout, grace period or delay of this much or more
/// never ends.
///
/// ```
/// assert_eq!(tend::FOREVER.as_secs(), 100 * 365 * 24 * 3600);
/// ```
pub const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// The instant `after` past `start`, or `None` ("never") when `after` is [`FOREVER`] or more.
pub(crate) fn deadline_after(start: Instant, after: Duration) -> Option<Instant> {
    if after >= FOREVER { None } else { start.checked_add(after) }
}

/// When a timeout counted from `start` fires: never without one, for a zero one ("0 means no
/// timeout", everywhere a timeout is taken) and for one of [`FOREVER`] or more.
pub(crate) fn timeout_deadline(start: Instant, timeout: Option<Duration>) -> Option<Instant> {
    timeout.filter(|timeout| !timeout.is_zero()).and_then(|timeout| deadline_after(start, timeout))
}

/// Sleeps until `deadline`; forever when there is none.
pub(crate) async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Sleeps for `duration`; forever when it is [`FOREVER`] or more.
pub(crate) async fn sleep(duration: Duration) {
    sleep_until(deadline_after(Instant::now(), duration)).await;
}

/// Runs `future` until `deadline`: `None` when the deadline came first.
pub(crate) async fn until<F: Future>(deadline: Option<Instant>, future: F) -> Option<F::Output> {
    tokio::select! {
        biased;
        output = future => Some(output),
        () = sleep_until(deadline) => None,
    }
}

/// Runs `future` for at most `duration` (forever when it is [`FOREVER`] or more): `None` when
/// the time ran out first.
pub(crate) async fn within<F: Future>(duration: Duration, future: F) -> Option<F::Output> {
    until(deadline_after(Instant::now(), duration), future).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_durations_have_no_deadline() {
        let now = Instant::now();
        for huge in [FOREVER, Duration::MAX, Duration::from_secs(u64::MAX / 2), FOREVER * 2] {
            assert_eq!(deadline_after(now, huge), None, "{huge:?}");
        }
        let just_under = FOREVER - Duration::from_nanos(1);
        assert_eq!(deadline_after(now, just_under), Some(now + just_under));
        assert_eq!(deadline_after(now, Duration::ZERO), Some(now));
        assert_eq!(timeout_deadline(now, Some(Duration::ZERO)), None, "0 means no timeout");
        assert_eq!(timeout_deadline(now, Some(Duration::MAX)), None);
        assert_eq!(timeout_deadline(now, Some(just_under)), Some(now + just_under));
    }

    #[tokio::test]
    async fn waits_end_or_never_do() {
        let quick = within(Duration::MAX, async { 7 }).await;
        assert_eq!(quick, Some(7));
        let never = within(Duration::ZERO, std::future::pending::<()>()).await;
        assert_eq!(never, None);
        let forever = within(Duration::from_millis(30), sleep(Duration::MAX)).await;
        assert_eq!(forever, None, "a sleep of Duration::MAX outlasts 30 ms");
        within(Duration::from_secs(5), sleep(Duration::from_millis(1))).await.unwrap();
    }
}
