//! SIGINT and SIGTERM to `tend` itself: shut the supervised program down gracefully.
//!
//! The library never installs signal handlers; the binary does, here. A second signal while
//! the first shutdown is under way kills the program's group at once.

use std::time::Duration;

use tend::Process;
use tokio::signal::unix::{SignalKind, signal};

/// Installs the handlers for this run. Handling starts at once; the task ends with the
/// process.
pub(crate) fn on_interrupt(process: Process, grace: Duration) {
    let (Ok(mut interrupt), Ok(mut terminate)) =
        (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    else {
        return;
    };
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
