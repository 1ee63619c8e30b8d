//! `tend run --restart`: one line on stderr for each restart, when the run that ended is
//! known and before the delay (`tend: exited with code 1; restart 2 in 400ms`).
//!
//! The library publishes no event when a run ends and a restart is coming (only `restarted`,
//! after the delay, and `exited`, after the last run), but the record shows it: between two
//! runs it is `pending`, with the ended run's exit code or signal. So the record is polled,
//! and the delay is worked out by the rule [`tend::Restart`] documents (the same builder
//! values `tend run` gave it).

use std::time::Duration;

use tend::{Process, ProcessInfo, Status};

/// How often the record is looked at: a restart delay much shorter than this may go
/// unannounced.
const POLL: Duration = Duration::from_millis(10);

/// The delays `tend run`'s restart options give: `delay × 2ⁿ`, capped at 30 s (or at `delay`
/// when longer), back to `delay` after a run of 10 s or more.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Delays {
    first: Duration,
    next: Duration,
}

impl Delays {
    pub(crate) fn new(first: Duration) -> Self {
        Self { first, next: first }
    }

    /// The delay before the restart after a run of `ran_for`.
    fn after(&mut self, ran_for: Duration) -> Duration {
        if ran_for >= tend::process::DEFAULT_RESTART_RESET_AFTER {
            self.next = self.first;
        }
        let cap = tend::process::DEFAULT_MAX_RESTART_DELAY.max(self.first);
        let delay = self.next.min(cap);
        let grown = Duration::try_from_secs_f64(
            delay.as_secs_f64() * tend::process::DEFAULT_RESTART_MULTIPLIER,
        )
        .unwrap_or(cap);
        self.next = grown.min(cap);
        delay
    }
}

/// Prints a line on stderr for each restart of `process` until it has ended for good.
///
/// A run is announced once, keyed by its start time: the record stays `pending` with that
/// run's times a moment after its restart is counted. A restart whose whole pause fell
/// between two looks is not announced, but still counted, so the next delay is right.
pub(crate) async fn announce_restarts(process: Process, mut delays: Delays) {
    let mut announced = 0;
    let mut announced_run = None;
    loop {
        let info = process.info();
        if info.status.is_finished() {
            return;
        }
        if info.status == Status::Pending && info.pid.is_none() && info.started_at != announced_run
        {
            let ran_for = info.duration().unwrap_or_default();
            announced += 1;
            announced_run = info.started_at;
            eprintln!(
                "tend: {}; restart {announced} in {}",
                ended(&info),
                show(delays.after(ran_for))
            );
        } else {
            while info.restarts > announced {
                delays.after(Duration::ZERO);
                announced += 1;
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

/// How the run ended, from the record between two runs.
fn ended(info: &ProcessInfo) -> String {
    match (info.exit_code, info.signal) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(signal)) => format!("ended by {signal}"),
        (None, None) => "ended".to_owned(),
    }
}

/// `400ms`, `1.5s`, `30s`: as the delay flags are written.
fn show(delay: Duration) -> String {
    humantime::format_duration(Duration::from_millis(delay.as_millis() as u64)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_reset_after_a_long_run() {
        let mut delays = Delays::new(Duration::from_millis(100));
        let short = Duration::from_millis(5);
        let got: Vec<_> = (0..3).map(|_| delays.after(short)).collect();
        assert_eq!(got, [100, 200, 400].map(Duration::from_millis));
        assert_eq!(delays.after(Duration::from_secs(10)), Duration::from_millis(100));
        let mut long = Delays::new(Duration::from_secs(40));
        assert_eq!(long.after(short), Duration::from_secs(40));
        assert_eq!(long.after(short), Duration::from_secs(40));
        assert_eq!(show(Duration::from_millis(400)), "400ms");
    }
}
