//! [`Owner`]: what a managed process needs from the service that owns it.

use std::sync::Arc;

use super::shared::ProcessShared;

/// What a process needs from whoever owns it (the service): group bookkeeping for the
/// guardian, and a call when it is over.
pub(crate) trait Owner: Send + Sync + 'static {
    /// Prepares the protection of a non-detached run so that its group is known to the
    /// guardian from before its `exec` (and its escaped descendants can be found).
    fn protect(&self, protection: &mut crate::os::Protection);
    /// A non-detached process group now exists (the guardian ignores it if the child
    /// registered itself).
    fn watch_group(&self, pgid: u32);
    /// That group is gone.
    fn forget_group(&self, pgid: u32);
    /// The process is over; its record may be retired.
    fn finished(&self, shared: &Arc<ProcessShared>);
    /// Whether the owner still exists. Once it is gone nothing is restarted: its guardian
    /// no longer protects new groups.
    fn is_alive(&self) -> bool {
        true
    }
    /// Whether a run may start now that was not asked for by a start: a restart asked for,
    /// or a queued process's first run. Not while the owner shuts down.
    fn accepts_starts(&self) -> bool {
        self.is_alive()
    }
}
