//! A child's stdin pipe, written without ever blocking kill or shutdown.
//!
//! go-process held its state lock while writing stdin, so a child that never read made `Kill`
//! deadlock. Here the pipe has a lock of its own that nothing else needs, and a write in
//! progress gives up as soon as stdin is closed — by `close_stdin`, or because the process
//! ended.
//!
//! With restarts, each run gets a fresh pipe: the slot is closed between runs and opened again
//! for the next one, unless `close_stdin` closed it, which holds for every later run too.

use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::unix::pipe::Sender as ChildStdin;
use tokio::sync::{Mutex, watch};

#[derive(Debug)]
pub(crate) struct StdinSlot {
    pipe: Mutex<Option<ChildStdin>>,
    closed: watch::Sender<bool>,
    /// Closed by `close`: later runs get no input either.
    closed_for_good: AtomicBool,
}

/// Why a write did not complete.
#[derive(Debug)]
pub(crate) enum StdinFailure {
    Closed,
    Io(std::io::Error),
}

impl StdinSlot {
    /// A closed slot; [`attach`](Self::attach) opens it.
    pub(crate) fn new() -> Self {
        Self {
            pipe: Mutex::new(None),
            closed: watch::Sender::new(true),
            closed_for_good: AtomicBool::new(false),
        }
    }

    /// Hands over the pipe of a freshly spawned child. After `close`, the pipe is dropped at
    /// once, so the child reads end-of-file.
    pub(crate) fn attach(&self, pipe: ChildStdin) {
        if self.closed_for_good.load(Ordering::Acquire) {
            return;
        }
        if let Ok(mut slot) = self.pipe.try_lock() {
            *slot = Some(pipe);
            self.closed.send_replace(false);
        }
    }

    /// Writes all of `data`, or fails when stdin is (or becomes) closed.
    pub(crate) async fn write(&self, data: &[u8]) -> Result<(), StdinFailure> {
        let mut closed = self.closed.subscribe();
        if *closed.borrow_and_update() {
            return Err(StdinFailure::Closed);
        }
        let mut guard = tokio::select! {
            guard = self.pipe.lock() => guard,
            _ = closed.wait_for(|c| *c) => return Err(StdinFailure::Closed),
        };
        let Some(pipe) = guard.as_mut() else { return Err(StdinFailure::Closed) };
        let written = tokio::select! {
            result = async {
                pipe.write_all(data).await?;
                pipe.flush().await
            } => result,
            _ = closed.wait_for(|c| *c) => {
                *guard = None;
                return Err(StdinFailure::Closed);
            }
        };
        written.map_err(StdinFailure::Io)
    }

    /// Closes stdin, also for later runs: the child reads end-of-file once it has read what
    /// was written. A write still in progress is abandoned.
    pub(crate) async fn close(&self) -> bool {
        self.closed_for_good.store(true, Ordering::Release);
        let was_open = !self.closed.send_replace(true);
        // The writer, if any, lets go of the lock at once because it watches `closed`.
        self.pipe.lock().await.take();
        was_open
    }

    /// Marks stdin closed without waiting (the process ended); the pipe is dropped by the
    /// writer or by the next `close`.
    pub(crate) fn mark_closed(&self) {
        self.closed.send_replace(true);
        if let Ok(mut pipe) = self.pipe.try_lock() {
            pipe.take();
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    /// Waits until no write holds the pipe any more (after `mark_closed`, a write in progress
    /// gives up at its next poll), so the next run's `attach` finds the slot free.
    pub(crate) async fn wait_idle(&self) {
        drop(self.pipe.lock().await);
    }
}

/// Writes `data` to one run's stdin and closes it ([`StartOptions::stdin_data`]). Gives up
/// when the run ends (`stop`), so a grandchild that holds the pipe without reading cannot keep
/// this task alive.
///
/// [`StartOptions::stdin_data`]: crate::StartOptions::stdin_data
pub(crate) async fn feed_stdin(mut pipe: ChildStdin, data: Bytes, mut stop: watch::Receiver<bool>) {
    tokio::select! {
        // A failed write means the child is gone; its status says so.
        _ = pipe.write_all(&data) => {}
        _ = stop.wait_for(|stopped| *stopped) => {}
    }
}
