//! The supervision of a started process as a value: either handed to the runtime as a task of
//! its own ([`Service::start`](crate::Service::start)), or driven by the caller that waits for
//! the process anyway ([`Service::run`](crate::Service::run)).
//!
//! A task of its own cost every run two crossings between threads that `Command::output()`
//! never pays: the caller waking a worker to poll the new task, and the task waking the caller
//! with `done`. Driven in the caller, the run's readers and its wait for the child make
//! progress on the caller's thread, the caller wakes once when the child ends, and no task is
//! allocated.
//!
//! Nothing is lost when the caller goes away first: dropping an unfinished `Supervision` hands
//! the rest to the runtime as a task, so the process stays supervised (its output read, its
//! end recorded and published) exactly as if it had been started with `start`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::runtime::Handle;

/// The future that supervises one process to its end (already guarded against panics).
type Supervising = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The unfinished supervision of one process. Awaiting it drives the supervision to the
/// process's end; dropping it first spawns the rest on the runtime it was made on.
#[must_use = "dropping it hands the supervision to a task of its own; use `hand_over` to say so"]
pub(crate) struct Supervision {
    /// `None` once it has finished (or has been handed over).
    supervising: Option<Supervising>,
    runtime: Handle,
}

impl fmt::Debug for Supervision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Supervision").field("finished", &self.supervising.is_none()).finish()
    }
}

impl Supervision {
    /// Wraps `supervising`, to be driven or handed over. Must be called within a runtime.
    pub(crate) fn new(supervising: impl Future<Output = ()> + Send + 'static) -> Self {
        Self { supervising: Some(Box::pin(supervising)), runtime: Handle::current() }
    }

    /// Lets the supervision run as a task of its own.
    pub(crate) fn hand_over(mut self) {
        if let Some(supervising) = self.supervising.take() {
            self.runtime.spawn(supervising);
        }
    }
}

impl Future for Supervision {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(supervising) = self.supervising.as_mut() else { return Poll::Ready(()) };
        let polled = supervising.as_mut().poll(cx);
        if polled.is_ready() {
            self.supervising = None;
        }
        polled
    }
}

impl Drop for Supervision {
    /// The caller stopped waiting before the end: the process must not be left unsupervised.
    fn drop(&mut self) {
        if let Some(supervising) = self.supervising.take() {
            // A runtime that is shutting down drops it at once, as it drops every supervising
            // task then.
            self.runtime.spawn(supervising);
        }
    }
}
