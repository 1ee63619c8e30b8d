//! Restarting on demand ([`Process::restart`](crate::Process::restart)): the current run is
//! stopped as a shutdown would stop it, and the next one starts at once on the same record.
//!
//! The request is a flag in the state (`restart_asked`) that the supervisor reads when the
//! run has ended (see `spawn::supervise`): set, and nobody ended the process for good in the
//! meantime, the next run starts without a delay and whatever the restart policy says; it
//! is counted and announced (`restarted`) like a policy restart. The flag is cleared when
//! the next run starts, so concurrent requests before that join one restart.

use std::process::ExitStatus;
use std::time::Duration;

use super::backoff::between_runs;
use super::control::Target;
use super::info::{Reason, Status};
use super::owner::Owner;
use super::shared::ProcessShared;
use crate::{Error, Signal, deadline};

impl ProcessShared {
    /// Asks for a restart and waits until the next run has started, or the process is over
    /// (stopped for good meanwhile, or the next run could not start).
    ///
    /// Refuses ([`Error::NotRunning`]) a process that is over, being stopped for good, or
    /// queued (it has no run to restart).
    pub(crate) async fn restart(&self, grace: Duration) -> Result<(), Error> {
        let mut runs = self.runs.subscribe();
        let (run, signalled) = {
            let mut state = self.state();
            let stopping = state.reason.is_some() || state.halt.is_some();
            if self.is_done() || stopping || state.status == Status::Queued {
                return Err(Error::NotRunning(self.id.to_string()));
            }
            let first = !std::mem::replace(&mut state.restart_asked, true);
            // Under the lock, in step with the flag: the supervisor clears both together.
            self.restart_now.send_replace(true);
            let run = state.runs;
            let stop_signal = self.options.stop_signal;
            // Between two runs there is nothing to stop: the next run simply starts now.
            let signalled = first
                && !state.reaped
                && self.deliver_locked(&mut state, stop_signal, Target::GroupIfConfigured, None)?;
            (run, signalled)
        };
        if signalled {
            // A stopped process cannot act on the stop signal until it continues.
            let _ = self.signal_run(run, Signal::CONT);
            if deadline::within(grace, self.run_ended(run)).await.is_none() {
                self.signal_run(run, Signal::KILL)?;
            }
        }
        let mut done = self.done.subscribe();
        loop {
            if self.state().runs > run || self.is_done() {
                return Ok(());
            }
            // Both senders live in `self`: neither can close here.
            tokio::select! {
                _ = runs.changed() => {}
                _ = done.wait_for(|done| *done) => {}
            }
        }
    }

    /// Sends `signal` to run number `run`'s group if that run is still the current one and
    /// not reaped: never to the next run, which may start as soon as this one is reaped.
    fn signal_run(&self, run: u32, signal: Signal) -> Result<bool, Error> {
        let mut state = self.state();
        if state.runs != run || state.reaped {
            return Ok(false);
        }
        self.deliver_locked(&mut state, signal, Target::GroupIfConfigured, None)
    }

    /// Waits until run number `run` has been reaped (or a later one started, or it is over).
    async fn run_ended(&self, run: u32) {
        let mut reaped = self.reaped.subscribe();
        let mut runs = self.runs.subscribe();
        loop {
            {
                let state = self.state();
                if state.runs != run || state.reaped || self.is_done() {
                    return;
                }
            }
            // The senders live in `self`; `done` is set only after the last reap.
            tokio::select! {
                _ = reaped.changed() => {}
                _ = runs.changed() => {}
            }
        }
    }

    /// After a run ended (`status`): whether a restart was asked for and the next run starts
    /// now. When it does, the record shows the run's outcome with status `pending` until then.
    pub(super) fn take_restart(
        &self,
        status: &std::io::Result<ExitStatus>,
        owner: &dyn Owner,
    ) -> bool {
        let mut state = self.state();
        if !state.restart_asked || state.reason.is_some() {
            return false; // not asked, or ended for good (kill, shutdown, timeout) meanwhile
        }
        if let Some(halt) = state.halt.take() {
            state.reason = Some(halt);
            return false;
        }
        if !owner.accepts_starts() {
            // The service is shutting down (or gone): the run we ended stays ended.
            state.reason = Some(Reason::Shutdown);
            return false;
        }
        between_runs(&mut state, status);
        true
    }

    /// Marks the start of a run in the state: counts it and clears a restart request, which
    /// this run answers.
    pub(super) fn count_run(&self, state: &mut super::shared::State) {
        state.runs += 1;
        state.restart_asked = false;
        self.restart_now.send_replace(false);
        self.runs.send_replace(state.runs);
    }
}
