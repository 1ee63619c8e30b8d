//! SIGINT and SIGTERM to `tend` itself: shut the supervised program down gracefully.
//!
//! The library never installs signal handlers; the binary does, here. A second signal while
//! the first shutdown is under way kills the program's group at once.
//!
//! The handlers are installed before the program starts. Installed after, a signal arriving
//! while the program starts up would take its default action and end `tend` on the spot,
//! possibly before the library had told its guardian about the program's group: the program
//! would be orphaned.

use std::time::Duration;

use tend::Process;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// SIGINT and SIGTERM, caught from [`Interrupts::install`] on. A signal that arrives before
/// [`Interrupts::shut_down`] hands them a process is kept and acted on then.
pub(crate) struct Interrupts {
    interrupt: Signal,
    terminate: Signal,
}

impl Interrupts {
    /// Catches SIGINT and SIGTERM from now on, for the rest of this process. Needs a Tokio
    /// runtime.
    pub(crate) fn install() -> std::io::Result<Self> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// Shuts `process` down gracefully on the first signal and kills it on the second. The
    /// task ends with the runtime.
    pub(crate) fn shut_down(self, process: Process, grace: Duration) {
        let Self { mut interrupt, mut terminate } = self;
        tokio::spawn(async move {
            let mut asked = false;
            loop {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
                if asked {
                    let _ = process.kill();
                } else {
                    asked = true;
                    process.begin_shutdown(grace);
                }
            }
        });
    }
}
