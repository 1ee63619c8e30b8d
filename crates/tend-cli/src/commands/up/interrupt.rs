//! Ctrl-C and SIGTERM during `tend up`.
//!
//! The first one cancels the run: running steps are shut down gracefully, services are stopped
//! in reverse dependency order (each with its stop signal, then its grace, then SIGKILL of its
//! group). A second one kills every managed process's group at once. The library never
//! installs signal handlers; the binary does, here.
//!
//! Whether steps were still running when the first one came decides the exit status: an
//! interrupted step is exit 130, while stopping services once every step has finished (or
//! when there are no steps) is the normal way to end a stack.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tend::CancellationToken;
use tend::Service;
use tokio::signal::unix::{SignalKind, signal};

/// Watches for SIGINT and SIGTERM; cheap to clone into the runner's event observer.
#[derive(Debug, Clone)]
pub(crate) struct Interrupts {
    state: Arc<State>,
}

#[derive(Debug)]
struct State {
    /// Steps without their final outcome yet.
    steps_left: AtomicUsize,
    /// A first signal came.
    interrupted: AtomicBool,
    /// ... while `steps_left` was not zero.
    during_steps: AtomicBool,
    /// The pipeline has services (only changes the words said on the first signal).
    has_services: bool,
}

impl Interrupts {
    /// Catches SIGINT and SIGTERM from now on (needs a Tokio runtime): the first cancels
    /// `cancel`, the next kill every running process of `service`. `steps` is how many steps
    /// the run has; tell each final outcome with [`step_finished`](Self::step_finished).
    pub(crate) fn install(
        cancel: CancellationToken,
        service: Service,
        steps: usize,
        has_services: bool,
    ) -> Self {
        let state = Arc::new(State {
            steps_left: AtomicUsize::new(steps),
            interrupted: AtomicBool::new(false),
            during_steps: AtomicBool::new(false),
            has_services,
        });
        let interrupts = Self { state };
        let (Ok(mut interrupt), Ok(mut terminate)) =
            (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
        else {
            return interrupts;
        };
        let state = interrupts.state.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
                if state.interrupted.load(Ordering::SeqCst) {
                    for process in service.running() {
                        let _ = process.kill();
                    }
                    continue;
                }
                let during_steps = state.steps_left.load(Ordering::SeqCst) > 0;
                state.during_steps.store(during_steps, Ordering::SeqCst);
                state.interrupted.store(true, Ordering::SeqCst);
                eprintln!("tend: {}", first_words(during_steps, state.has_services));
                cancel.cancel();
            }
        });
        interrupts
    }

    /// A step has its final outcome.
    pub(crate) fn step_finished(&self) {
        let _ = self
            .state
            .steps_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1));
    }

    /// The first signal came while a step had no final outcome yet.
    pub(crate) fn during_steps(&self) -> bool {
        self.state.during_steps.load(Ordering::SeqCst)
    }
}

/// What `tend up` says on stderr at the first signal. For a pipeline of steps only, the words
/// it has always said.
fn first_words(during_steps: bool, has_services: bool) -> &'static str {
    match (during_steps, has_services) {
        (true, false) => "interrupted; stopping running steps (again to kill them now)",
        (true, true) => {
            "interrupted; stopping running steps, then the services in reverse dependency \
             order (again to kill everything now)"
        }
        (false, _) => "stopping the services in reverse dependency order (again to kill them now)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_say_what_is_stopped() {
        assert_eq!(
            first_words(true, false),
            "interrupted; stopping running steps (again to kill them now)"
        );
        assert!(first_words(true, true).contains("steps, then the services"));
        assert!(first_words(false, true).starts_with("stopping the services"));
    }

    #[tokio::test]
    async fn a_signal_after_the_last_step_finished_is_not_during_steps() {
        let cancel = CancellationToken::new();
        let interrupts = Interrupts::install(cancel.clone(), Service::new(), 2, true);
        interrupts.step_finished();
        assert_eq!(interrupts.state.steps_left.load(Ordering::SeqCst), 1);
        interrupts.step_finished();
        // One more than there are steps changes nothing (no wrap-around).
        interrupts.step_finished();
        assert_eq!(interrupts.state.steps_left.load(Ordering::SeqCst), 0);
        assert!(!interrupts.during_steps());
    }
}
