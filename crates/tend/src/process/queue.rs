//! Queued processes: accepted by the service beyond its running bound, not started yet.
//!
//! A queued record has an id, is listed, and has no PID, no output and no event. It keeps
//! the owner it will be started with (`Parked`); the service's table decides when its turn
//! comes (see `service::table`). Stopped or killed while queued, it ends `killed` with the
//! reason, publishes its one `exited` event, and never starts.

use std::fmt;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;

use super::info::{Reason, Status};
use super::owner::Owner;
use super::shared::ProcessShared;
use crate::event::EventKind;

/// The owner a queued process is started with once a slot frees.
#[derive(Default)]
pub(crate) struct Parked(Mutex<Option<Arc<dyn Owner>>>);

impl fmt::Debug for Parked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Parked")
    }
}

impl Parked {
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Arc<dyn Owner>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take(&self) -> Option<Arc<dyn Owner>> {
        self.slot().take()
    }
}

impl ProcessShared {
    /// Marks a new record queued, keeping the owner it will be started with. Called before
    /// the record is visible to anyone who could start or cancel it.
    pub(crate) fn park(&self, owner: Arc<dyn Owner>) {
        self.state().status = Status::Queued;
        *self.parked.slot() = Some(owner);
    }

    /// Takes a queued record's turn: `false` when it is no longer queued (being cancelled).
    /// Called by the owner under its table's lock; [`start_parked`](Self::start_parked)
    /// follows once that lock is released.
    pub(crate) fn leave_queue(&self) -> bool {
        let mut state = self.state();
        if state.status != Status::Queued {
            return false;
        }
        state.status = Status::Pending;
        true
    }

    /// Starts a record that has left the queue, as a first start would (a failure to start
    /// ends the record `failed`, as there).
    pub(crate) fn start_parked(self: &Arc<Self>) {
        if let Some(owner) = self.parked.take() {
            // The error is in the record (`failed`, with the reason); nobody is waiting for it.
            let _ = super::spawn(self, owner);
        }
    }

    /// Ends a queued record for `reason` without ever starting it; `false` when it is not
    /// queued (it has started, or is over).
    pub(crate) fn cancel_queued(self: &Arc<Self>, reason: Reason) -> bool {
        {
            let mut state = self.state();
            if state.status != Status::Queued {
                return false;
            }
            state.status = Status::Killed;
            state.reason = Some(reason);
            state.ended_at = Some(Timestamp::now());
            state.reaped = true;
        }
        self.bus.publish(
            self.id,
            [EventKind::Exited {
                status: Status::Killed,
                exit_code: None,
                signal: None,
                reason: Some(reason),
                duration_ms: 0.0,
                error: None,
            }],
        );
        self.reaped.send_replace(true);
        // The owner first (it takes the record out of its queue), then `done`.
        if let Some(owner) = self.parked.take() {
            owner.finished(self);
        }
        self.done.send_replace(true);
        true
    }
}
