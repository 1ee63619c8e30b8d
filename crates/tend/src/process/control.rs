//! Signals, kill and graceful shutdown.
//!
//! Policy: `kill` and shutdown reach the whole process group unless `kill_group` is off;
//! [`signal`](crate::Process::signal) reaches only the leader, once, exactly as asked. A
//! process that has already ended is not an error for kill or shutdown. With a restart
//! policy, kill and shutdown also stop any further restart, even between two runs.

use std::time::Duration;

use super::info::Reason;
use super::shared::{ProcessShared, State};
use crate::deadline;
use crate::os::{self, Delivery};
use crate::{Error, Signal};

/// Whom a signal is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Leader,
    /// The group when the process was started with `kill_group`, else the leader.
    GroupIfConfigured,
}

impl ProcessShared {
    /// Delivers `signal` once. With `ending`, records that we are ending the process (the
    /// first reason sticks) so its final status is `killed`. Returns `false` when there was
    /// nothing left to signal.
    pub(crate) fn deliver(
        &self,
        signal: Signal,
        target: Target,
        ending: Option<Reason>,
    ) -> Result<bool, Error> {
        let mut state = self.state();
        self.deliver_locked(&mut state, signal, target, ending)
    }

    /// [`deliver`](Self::deliver) with the state already locked, for callers that check
    /// something about the run in the same critical section.
    pub(crate) fn deliver_locked(
        &self,
        state: &mut State,
        signal: Signal,
        target: Target,
        ending: Option<Reason>,
    ) -> Result<bool, Error> {
        if self.is_done() {
            return Ok(false);
        }
        if let Some(reason) = ending
            && state.reaped
            && state.reason.is_none()
        {
            // The run has ended by itself (or we are between runs): nothing is left to end,
            // but no restart may follow.
            state.halt.get_or_insert(reason);
            state.sent.get_or_insert(signal);
            self.halted.send_replace(true);
        }
        // No PID while waiting to restart: the last run's group is gone and its ID may be
        // reused.
        let Some(pid) = state.pid else { return Ok(false) };
        let group = target == Target::GroupIfConfigured && self.options.kill_group;
        if state.reaped && !group {
            return Ok(false);
        }
        if let Some(reason) = ending.filter(|_| !state.reaped) {
            state.reason.get_or_insert(reason);
            state.sent = Some(signal);
        }
        // kill(2) does not block, so it is fine under the lock. Tokio reaps inside `wait`,
        // just before we set `reaped`: a PID could be reused only in that instant, and the
        // kernel hands out PIDs in increasing order up to pid_max before it reuses one.
        let delivery = if group {
            os::signal_group(pid, signal.number())
        } else {
            os::signal_process(pid, signal.number())
        };
        match delivery {
            Ok(Delivery::Sent) => Ok(true),
            Ok(Delivery::Gone) => Ok(false),
            Err(source) => Err(Error::Signal { id: self.id.to_string(), signal, source }),
        }
    }

    /// The stop signal (SIGTERM unless [`StartOptions::stop_signal`](crate::StartOptions::stop_signal)
    /// says otherwise), keep draining output through `grace`, then SIGKILL; waits until the
    /// end.
    pub(crate) async fn terminate(&self, reason: Reason, grace: Duration) -> Result<(), Error> {
        let stop_signal = self.options.stop_signal;
        if self.deliver(stop_signal, Target::GroupIfConfigured, Some(reason))? {
            // A stopped process cannot act on the stop signal until it continues.
            let _ = self.deliver(Signal::CONT, Target::GroupIfConfigured, None);
            if deadline::within(grace, self.wait_reaped()).await.is_none() {
                self.deliver(Signal::KILL, Target::GroupIfConfigured, Some(reason))?;
            }
        }
        self.wait_done().await;
        Ok(())
    }
}
