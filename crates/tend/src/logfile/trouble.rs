//! [`Trouble`]: a log file's failing writes, from the first failure to the next success,
//! and the process-wide count of failed writes ([`write_errors_total`]).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::LogFileError;

/// Failed log-file writes (and opens) in this process since it started.
static WRITE_ERRORS: AtomicU64 = AtomicU64::new(0);

/// How many writes to a [`SharedLogFile`](super::SharedLogFile) (or attempts to open its
/// file) have failed in this process so far, all files together: the
/// `tend_log_write_errors_total` counter a daemon serves in `/metrics`.
pub fn write_errors_total() -> u64 {
    WRITE_ERRORS.load(Ordering::Relaxed)
}

pub(super) fn count_error() {
    WRITE_ERRORS.fetch_add(1, Ordering::Relaxed);
}

/// Changes to the trouble of any log file in this process (one begun, grown or ended).
static TROUBLE_CHANGES: AtomicU64 = AtomicU64::new(0);

/// How many times the [`error`](super::SharedLogFile::error) of any log file of this process
/// has changed: a list that read those errors at one count still holds while it has not
/// moved (see [`ListCache`](crate::service::ListCache)).
pub(crate) fn trouble_changes() -> u64 {
    TROUBLE_CHANGES.load(Ordering::SeqCst)
}

/// Counts a change, under the trouble's lock, after it: whoever reads the new count and then
/// takes that lock sees the change.
pub(super) fn count_change() {
    TROUBLE_CHANGES.fetch_add(1, Ordering::SeqCst);
}

/// An episode of failing writes: the latest error and the bytes lost since the first.
#[derive(Debug)]
pub(super) struct Trouble {
    cause: String,
    lost: u64,
}

impl Trouble {
    pub(super) fn new(error: &LogFileError, lost: u64) -> Self {
        Self { cause: cause(error), lost }
    }

    pub(super) fn again(&mut self, error: &LogFileError, lost: u64) {
        self.cause = cause(error);
        self.lost += lost;
    }

    pub(super) fn lost(&self) -> u64 {
        self.lost
    }

    /// `log file PATH: CAUSE (N bytes not written)`.
    pub(super) fn message(&self, path: &Path) -> String {
        format!("log file {}: {} ({} bytes not written)", path.display(), self.cause, self.lost)
    }
}

/// The error in words without the path (the message names it once): the OS's text for a
/// failed write or open (`No space left on device`), the step for the others.
fn cause(error: &LogFileError) -> String {
    match error {
        LogFileError::Io { action: "write", source, .. } => os_text(source),
        LogFileError::Io { action, source, .. } => format!("cannot {action}: {}", os_text(source)),
        LogFileError::Rotate { source, .. } => format!("cannot rotate: {}", os_text(source)),
        other => other.to_string(),
    }
}

/// `No space left on device`, without std's ` (os error 28)`.
fn os_text(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(cut) if text.ends_with(')') => text[..cut].to_owned(),
        _ => text,
    }
}
