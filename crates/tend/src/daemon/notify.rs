//! Readiness as the program sets it, mirrored to the service manager (systemd's
//! `NOTIFY_SOCKET` protocol) when there is one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The environment variable systemd sets for `Type=notify` services.
pub const NOTIFY_SOCKET_ENV: &str = "NOTIFY_SOCKET";

/// Sends state lines to the service manager's socket; does nothing without one.
#[derive(Debug, Clone, Default)]
pub(crate) struct Notifier {
    socket: Option<String>,
}

impl Notifier {
    /// The notifier named by `NOTIFY_SOCKET`, if that is set.
    pub(crate) fn from_env() -> Self {
        let socket = std::env::var(NOTIFY_SOCKET_ENV).ok().filter(|s| !s.is_empty());
        Self { socket }
    }

    /// A notifier that never sends.
    pub(crate) fn disabled() -> Self {
        Self { socket: None }
    }

    /// Sends one state line such as `READY=1`. A failure is logged, never fatal: the daemon
    /// works without its service manager hearing from it.
    pub(crate) fn send(&self, state: &str) {
        let Some(socket) = &self.socket else { return };
        if let Err(error) = crate::os::send_notification(socket, state) {
            tracing::warn!(%socket, %state, %error, "cannot notify the service manager");
        }
    }
}

/// A shared handle on a [`Daemon`](super::Daemon)'s readiness: what its `/ready` endpoint
/// answers. Clone it to let another task declare the daemon ready once it has warmed up.
///
/// Becoming ready sends `READY=1` to systemd when `NOTIFY_SOCKET` is set.
#[derive(Debug, Clone)]
pub struct ReadyHandle {
    flag: Arc<AtomicBool>,
    notifier: Notifier,
}

impl ReadyHandle {
    pub(crate) fn new(flag: Arc<AtomicBool>, notifier: Notifier) -> Self {
        Self { flag, notifier }
    }

    /// Sets readiness. On the change from not ready to ready, systemd hears `READY=1`.
    pub fn set_ready(&self, ready: bool) {
        let was = self.flag.swap(ready, Ordering::SeqCst);
        if ready && !was {
            self.notifier.send("READY=1");
        }
    }

    /// Whether the daemon is ready now.
    pub fn is_ready(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    #[cfg(feature = "http")]
    pub(crate) fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.flag)
    }

    pub(crate) fn notifier(&self) -> &Notifier {
        &self.notifier
    }
}
