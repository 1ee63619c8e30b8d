//! Between two runs: whether another run follows, and the delay before it.

use std::process::ExitStatus;
use std::time::Duration;

use tokio::time::Instant;

use super::exit_code::exit_signal;
use super::info::{Reason, Status};
use super::owner::Owner;
use super::restart::{Restart, RestartPolicy};
use super::shared::{ProcessShared, State};
use crate::{Signal, deadline};

/// The restart decisions for one process: the budget spent so far and the next delay.
#[derive(Debug)]
pub(crate) struct Backoff {
    restart: Restart,
    done: u32,
    next_delay: Duration,
}

impl Backoff {
    pub(crate) fn new(restart: &Restart) -> Self {
        Self { restart: restart.clone(), done: 0, next_delay: restart.delay }
    }

    /// Whether the policy could ever restart anything.
    pub(crate) fn enabled(&self) -> bool {
        self.restart.policy != RestartPolicy::Never
    }

    /// After a run that ended by itself (`success`: exit code 0) and lasted `ran_for`: the
    /// delay before the next run, or `None` when this run was the last. Counts the restart.
    pub(crate) fn next(&mut self, success: bool, ran_for: Duration) -> Option<Duration> {
        if !self.restart.policy.restarts_after(success) || !self.restart.max.allows(self.done) {
            return None;
        }
        if self.restart.reset_after.is_some_and(|long| ran_for >= long) {
            self.next_delay = self.restart.delay;
        }
        self.done += 1;
        // The cap never shortens the first delay: a long one asked for is a long one given.
        let cap = self.restart.max_delay.max(self.restart.delay);
        let delay = self.next_delay.min(cap);
        let factor = if self.restart.multiplier >= 1.0 { self.restart.multiplier } else { 1.0 };
        // Saturates instead of overflowing: the cap applies anyway.
        let grown = Duration::try_from_secs_f64(delay.as_secs_f64() * factor).unwrap_or(cap);
        self.next_delay = grown.min(cap);
        Some(delay)
    }
}

/// Decides whether a run that just ended is followed by another, and after what delay. When
/// it is, the record shows the run's outcome with status `pending` and no PID until then.
pub(super) fn restart_delay(
    shared: &ProcessShared,
    backoff: &mut Backoff,
    status: &std::io::Result<ExitStatus>,
    ran_for: Duration,
    owner: &dyn Owner,
) -> Option<Duration> {
    if !backoff.enabled() {
        return None;
    }
    let mut state = shared.state();
    if state.reason.is_some() {
        return None; // we ended it
    }
    let success = status.as_ref().is_ok_and(ExitStatus::success);
    let delay = backoff.next(success, ran_for)?;
    if let Some(halt) = state.halt.take() {
        // Asked to stop once this run had ended by itself: the restart it would get is off.
        state.reason = Some(halt);
        return None;
    }
    if !owner.is_alive() {
        return None;
    }
    between_runs(&mut state, status);
    Some(delay)
}

/// The record between two runs: status `pending`, no PID, the outcome of the run that ended.
pub(super) fn between_runs(state: &mut State, status: &std::io::Result<ExitStatus>) {
    state.status = Status::Pending;
    state.pid = None;
    if let Ok(status) = status {
        state.exit_code = status.code();
        state.signal = exit_signal(*status);
    }
}

/// Sleeps the restart delay. Returns `false` when the process must end instead: stopped
/// during the delay (by kill or shutdown), or out of time.
pub(super) async fn wait_before_restart(
    shared: &ProcessShared,
    delay: Duration,
    deadline: Option<Instant>,
) -> bool {
    let mut halted = shared.halted.subscribe();
    let mut restart_now = shared.restart_now.subscribe();
    let timed_out = tokio::select! {
        // A stop or the deadline wins over a delay that ends at the same moment.
        biased;
        _ = halted.wait_for(|halted| *halted) => false,
        () = deadline::sleep_until(deadline) => true,
        // `Process::restart` between two runs: the next one starts now.
        _ = restart_now.wait_for(|now| *now) => false,
        () = deadline::sleep(delay) => false,
    };
    let mut state = shared.state();
    if timed_out {
        state.halt.get_or_insert(Reason::Timeout);
        state.sent.get_or_insert(Signal::TERM);
    }
    match state.halt.take() {
        Some(halt) => {
            state.reason = Some(halt);
            false
        }
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MaxRestarts;
    use crate::process::restart::DEFAULT_MAX_RESTART_DELAY;

    const MS: Duration = Duration::from_millis(1);

    fn delays(backoff: &mut Backoff, runs: &[(bool, Duration)]) -> Vec<Option<Duration>> {
        runs.iter().map(|&(success, ran)| backoff.next(success, ran)).collect()
    }

    #[test]
    fn delay_doubles_up_to_the_cap() {
        let restart = Restart::always().delay(100 * MS).max_delay(500 * MS);
        let mut backoff = Backoff::new(&restart);
        let got = delays(&mut backoff, &[(true, MS); 6]);
        let want = [100, 200, 400, 500, 500, 500].map(|ms| Some(ms * MS));
        assert_eq!(got, want);
    }

    #[test]
    fn a_long_run_resets_the_delay_but_not_the_budget() {
        let restart = Restart::on_failure()
            .delay(10 * MS)
            .max(MaxRestarts::Limited(4))
            .reset_after(Some(Duration::from_secs(1)));
        let mut backoff = Backoff::new(&restart);
        let long = Duration::from_secs(2);
        let got = delays(&mut backoff, &[(false, MS), (false, MS), (false, long), (false, MS)]);
        assert_eq!(got, [10, 20, 10, 20].map(|ms| Some(ms * MS)));
        assert_eq!(backoff.next(false, long), None, "budget of 4 spent");
    }

    #[test]
    fn policies_decide_by_outcome() {
        assert_eq!(Backoff::new(&Restart::never()).next(false, MS), None);
        assert_eq!(Backoff::new(&Restart::on_failure()).next(true, MS), None);
        assert!(Backoff::new(&Restart::on_failure()).next(false, MS).is_some());
        assert!(Backoff::new(&Restart::always()).next(true, MS).is_some());
    }

    #[test]
    fn a_first_delay_beyond_the_cap_is_kept_and_huge_ones_do_not_overflow() {
        let restart =
            Restart::always().delay(Duration::from_secs(60)).max_delay(Duration::from_secs(30));
        let mut backoff = Backoff::new(&restart);
        assert_eq!(delays(&mut backoff, &[(true, MS); 2]), [Some(Duration::from_secs(60)); 2]);
        for huge in [Duration::MAX, crate::FOREVER] {
            let mut backoff = Backoff::new(&Restart::always().delay(huge).multiplier(f64::MAX));
            assert_eq!(delays(&mut backoff, &[(true, MS); 3]), [Some(huge); 3]);
        }
    }

    #[test]
    fn zero_restarts_means_none() {
        let mut backoff = Backoff::new(&Restart::always().max(MaxRestarts::Limited(0)));
        assert_eq!(backoff.next(false, MS), None);
    }

    #[test]
    fn odd_multipliers_keep_the_delay_constant_and_huge_ones_hit_the_cap() {
        for multiplier in [0.5, f64::NAN, -3.0] {
            let mut backoff = Backoff::new(&Restart::always().delay(7 * MS).multiplier(multiplier));
            assert_eq!(delays(&mut backoff, &[(true, MS); 3]), [Some(7 * MS); 3]);
        }
        let restart = Restart::always().delay(Duration::from_secs(1)).multiplier(f64::MAX);
        let mut backoff = Backoff::new(&restart);
        let got = delays(&mut backoff, &[(true, MS); 3]);
        assert_eq!(got[1], Some(DEFAULT_MAX_RESTART_DELAY));
        assert_eq!(got[2], Some(DEFAULT_MAX_RESTART_DELAY));
    }
}
