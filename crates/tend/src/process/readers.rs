//! The readers of one run's output pipes, polled by the task that supervises the run.
//!
//! A task per pipe cost a run of `/bin/true` about eight futex wake-ups: the child's exit, the
//! two ends of file and the supervisor's bookkeeping each woke a different task, often on a
//! different thread, and the supervisor then joined the readers. Here the supervising task
//! polls the readers itself, while it waits for the child, while it drains for the leak
//! timeout and while it cleans up the group: whatever becomes ready wakes that one task.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::{Context, Poll};

/// A reader of one pipe (see [`read_pipe`](super::reader::read_pipe)).
type Reader = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The readers of one run that have not reached their end yet.
pub(crate) struct Readers {
    reading: Vec<Reader>,
}

impl Readers {
    /// Readers for at most two pipes (stdout and stderr).
    pub(crate) fn new() -> Self {
        Self { reading: Vec::with_capacity(2) }
    }

    /// Adds the reader of one pipe. It makes progress only while one of the methods below is
    /// awaited.
    pub(crate) fn push(&mut self, reader: impl Future<Output = ()> + Send + 'static) {
        self.reading.push(Box::pin(reader));
    }

    /// Polls every reader still reading, dropping those that reached their end.
    fn poll_readers(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.reading.retain_mut(|reader| reader.as_mut().poll(cx).is_pending());
        if self.reading.is_empty() { Poll::Ready(()) } else { Poll::Pending }
    }

    /// Runs `future` to its end while the readers keep reading.
    pub(crate) async fn alongside<F: Future>(&mut self, future: F) -> F::Output {
        let mut future = pin!(future);
        poll_fn(|cx| {
            if let Poll::Ready(output) = future.as_mut().poll(cx) {
                return Poll::Ready(output);
            }
            let _ = self.poll_readers(cx);
            Poll::Pending
        })
        .await
    }

    /// Waits until every reader has reached its end.
    pub(crate) async fn finished(&mut self) {
        poll_fn(|cx| self.poll_readers(cx)).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn readers_progress_while_another_future_runs_and_finish_after() {
        let done = Arc::new(AtomicUsize::new(0));
        let mut readers = Readers::new();
        for delay in [5, 60] {
            let done = done.clone();
            readers.push(async move {
                tokio::time::sleep(Duration::from_millis(delay)).await;
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        let seen = readers
            .alongside(async {
                tokio::time::sleep(Duration::from_millis(30)).await;
                done.load(Ordering::SeqCst)
            })
            .await;
        assert_eq!(seen, 1, "the quick reader ran while the other future waited");
        readers.finished().await;
        assert_eq!(done.load(Ordering::SeqCst), 2);
        assert!(readers.reading.is_empty());
    }
}
