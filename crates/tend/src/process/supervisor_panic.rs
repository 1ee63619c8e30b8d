//! What happens when the task that owns a process panics: the process is killed and its
//! record ends as `failed`, saying why, so nothing waits on it forever.
//!
//! The task owns the child, the readers and the only path to `exited`; a panic in it would
//! otherwise leave the record `running` for good (`wait` never returns, `rm` refuses it, a
//! service shutdown hangs on it) and the process unsupervised.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use jiff::Timestamp;

use super::control::Target;
use super::info::Status;
use super::owner::Owner;
use super::shared::ProcessShared;
use crate::Signal;
use crate::event::EventKind;

/// Runs `supervise` (the task owning `shared`'s process); if it panics, ends the process and
/// its record instead of unwinding further.
pub(super) async fn guard(
    shared: Arc<ProcessShared>,
    owner: Arc<dyn Owner>,
    supervise: impl Future<Output = ()>,
) {
    if let Err(panic) = (CatchUnwind { future: Box::pin(supervise) }).await {
        abandon(&shared, owner.as_ref(), &panic_message(panic.as_ref()));
    }
}

/// Polls a future, turning a panic inside it into an `Err`.
struct CatchUnwind<F> {
    future: Pin<Box<F>>,
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // The future is never polled again after a panic, so no broken invariant of it is
        // observed; the shared state it touched is recovered below under its own rules.
        match catch_unwind(AssertUnwindSafe(|| self.future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Kills what is left of the process (its group, unless it was started without
/// `kill_group`), records the end as `failed` with the panic in `error`, publishes `exited`
/// and wakes every waiter. Done once: a record that already ended is left as it is.
fn abandon(shared: &Arc<ProcessShared>, owner: &dyn Owner, panic: &str) {
    if shared.is_done() {
        return;
    }
    tracing::error!(id = %shared.id, panic, "the task supervising a process panicked; killing it");
    let _ = shared.deliver(Signal::KILL, Target::GroupIfConfigured, None);
    let pid = {
        let mut state = shared.state();
        state.status = Status::Failed;
        state.reaped = true;
        state.ended_at.get_or_insert_with(Timestamp::now);
        state.error = Some(format!("the task supervising it panicked ({panic}); it was killed"));
        state.pid
    };
    if let Some(pid) = pid.filter(|_| !shared.options.detach) {
        owner.forget_group(pid);
    }
    shared.stdin.mark_closed();
    let info = shared.info();
    shared.bus.publish(
        shared.id,
        [EventKind::Exited {
            status: Status::Failed,
            exit_code: info.exit_code,
            signal: info.signal,
            reason: info.reason,
            duration_ms: info.duration_ms.unwrap_or(0.0),
            error: info.error,
        }],
    );
    shared.reaped.send_replace(true);
    owner.finished(shared);
    shared.done.send_replace(true);
}

/// A name that makes the supervising task panic, in this crate's own tests only: no input
/// can make it panic any more, and the recovery must still be proven on a real panic.
#[cfg(test)]
pub(super) const PANIC_ON_NAME: &str = "tend-test: panic in the supervisor";

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{Service, StartOptions};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_supervisor_kills_the_process_and_fails_the_record() {
        let service = Service::new();
        let mut events = service.subscribe();
        let process = service
            .start(StartOptions::new("sleep").arg("1000").name(PANIC_ON_NAME))
            .expect("sleep starts");
        let pid = process.pid().expect("a pid");
        let info = tokio::time::timeout(Duration::from_secs(20), process.wait())
            .await
            .expect("wait returns: the record is not stuck");
        assert_eq!(info.status, Status::Failed);
        let error = info.error.expect("an error");
        assert!(error.contains("supervising it panicked"), "{error}");
        assert!(error.contains("injected"), "{error}");
        // The group is gone (reaped by the runtime's orphan queue or by us; poll until then).
        let gone = async {
            while crate::os::group_exists(pid) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), gone).await.expect("the group was killed");
        service.remove(&process.id().to_string()).expect("rm works on the failed record");
        let exited = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match events.recv().await {
                    Some(crate::Received::Event(event)) => {
                        if let EventKind::Exited { status, error, .. } = event.kind {
                            break (status, error);
                        }
                    }
                    Some(_) => {}
                    None => panic!("the bus closed"),
                }
            }
        })
        .await
        .expect("an exited event");
        assert_eq!(exited.0, Status::Failed);
        assert!(exited.1.unwrap_or_default().contains("panicked"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panic_in_a_run_supervised_by_its_caller_fails_the_run_not_the_caller() {
        let service = Service::new();
        let options = StartOptions::new("sleep").arg("1000").name(PANIC_ON_NAME);
        let done = tokio::time::timeout(Duration::from_secs(20), service.run(options))
            .await
            .expect("run returns")
            .expect("it started");
        assert_eq!(done.info.status, Status::Failed);
        assert!(done.info.error.unwrap_or_default().contains("supervising it panicked"));
        let pid = done.info.pid.expect("a pid");
        let gone = async {
            while crate::os::group_exists(pid) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), gone).await.expect("the group was killed");
    }
}
