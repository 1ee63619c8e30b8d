//! The state one managed process shares between its handle, its tasks and the service.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use jiff::Timestamp;
use tokio::sync::watch;

use super::info::{ProcessId, ProcessInfo, Reason, StartFailure, Status, millis_between};
use super::options::StartOptions;
use super::record_json::RecordJson;
use super::stdin::StdinSlot;
use crate::Signal;
use crate::event::{EventBus, EventKind};
use crate::output::{Output, OutputRing};

/// Mutable state. Held only for short, non-blocking updates: never across I/O or an await.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) status: Status,
    pub(crate) pid: Option<u32>,
    pub(crate) exit_code: Option<i32>,
    pub(crate) signal: Option<Signal>,
    pub(crate) reason: Option<Reason>,
    pub(crate) started_at: Option<Timestamp>,
    pub(crate) ended_at: Option<Timestamp>,
    pub(crate) error: Option<String>,
    /// The kind of failure to start, beside `error`.
    pub(crate) start_failure: Option<StartFailure>,
    pub(crate) restarts: u32,
    /// The leader has been reaped; its PID may belong to someone else now.
    pub(crate) reaped: bool,
    /// The last signal we sent to end it, reported in the `killed` event.
    pub(crate) sent: Option<Signal>,
    /// We were asked to end it after its current run had already ended by itself: no
    /// restart may follow (see `halted`).
    pub(crate) halt: Option<Reason>,
    /// The latest resource-usage sample of the current run's group (see [`crate::usage`]).
    pub(crate) usage: Option<super::usage::UsageSample>,
    /// [`Process::restart`](crate::Process::restart) asked for another run at once; cleared
    /// when that run's restart is counted.
    pub(crate) restart_asked: bool,
    /// Runs started so far.
    pub(crate) runs: u32,
    /// Where the current run's output begins in the output (the bytes of the runs before
    /// it come first): a `log` readiness probe of a restarted run reads from there.
    pub(crate) run_output_start: u64,
}

/// What the state's lock guards: the state, and its record as JSON while the state has not
/// changed since that was written.
#[derive(Debug)]
pub(crate) struct Guarded {
    pub(crate) state: State,
    /// Dropped by every write to `state` (see [`StateGuard`]); written again by the next
    /// [`write_json`](ProcessShared::write_json).
    pub(crate) json: Option<RecordJson>,
}

/// Counts the writes to the states of every record of one service: a list written from
/// records read at one count is still what they hold while the count has not moved (see
/// [`ListCache`](crate::service::ListCache)).
#[derive(Debug, Default)]
pub(crate) struct Changes(AtomicU64);

impl Changes {
    /// The count now.
    pub(crate) fn count(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The state, locked. Reading goes through as it is; the first write (any `&mut` use, even
/// one that changes nothing the JSON shows) drops the cached JSON, and the service's
/// [`Changes`] count once the writes are done, before the lock is let go: no caller can
/// change the state and leave a stale record or list behind.
pub(crate) struct StateGuard<'a> {
    guarded: MutexGuard<'a, Guarded>,
    changes: &'a Changes,
    written: bool,
}

impl Deref for StateGuard<'_> {
    type Target = State;

    fn deref(&self) -> &State {
        &self.guarded.state
    }
}

impl DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut State {
        if !self.written {
            self.written = true;
            self.guarded.json = None;
        }
        &mut self.guarded.state
    }
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        // Before the lock is let go (fields drop after this): whoever reads the new count
        // and then takes the lock sees the new state.
        if self.written {
            self.changes.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[derive(Debug)]
pub(crate) struct ProcessShared {
    pub(crate) id: ProcessId,
    pub(crate) options: StartOptions,
    state: Mutex<Guarded>,
    pub(crate) ring: Mutex<OutputRing>,
    pub(crate) stdin: StdinSlot,
    /// Becomes true when the leader has been reaped (ends grace periods).
    pub(crate) reaped: watch::Sender<bool>,
    /// Becomes true when everything is over: output drained, `exited` published.
    pub(crate) done: watch::Sender<bool>,
    /// Becomes true when `halt` is set; wakes the supervisor from a restart delay.
    pub(crate) halted: watch::Sender<bool>,
    /// Becomes true when a restart is asked for; cuts a restart delay short.
    pub(crate) restart_now: watch::Sender<bool>,
    /// The number of runs started so far (as `State::runs`); wakes whoever waits for a
    /// restart.
    pub(crate) runs: watch::Sender<u32>,
    /// While queued: the owner it is started with once a slot frees (see
    /// [`queue`](super::queue)).
    pub(crate) parked: super::queue::Parked,
    pub(crate) bus: Arc<EventBus>,
    /// Counts the writes to the state of every record of the service.
    changes: Arc<Changes>,
    /// Bytes of output its output-file writer has handed to the file (written or lost), and
    /// where they end in a shared log.
    pub(crate) logged: Arc<crate::logfile::LogCount>,
}

impl ProcessShared {
    #[cfg(test)]
    pub(crate) fn new(options: StartOptions, bus: Arc<EventBus>) -> Self {
        Self::with_id(ProcessId::new(), options, bus, Arc::default())
    }

    pub(crate) fn with_id(
        id: ProcessId,
        options: StartOptions,
        bus: Arc<EventBus>,
        changes: Arc<Changes>,
    ) -> Self {
        let ring_size = if options.capture { options.ring_size } else { 0 };
        Self {
            id,
            state: Mutex::new(Guarded {
                state: State {
                    status: Status::Pending,
                    pid: None,
                    exit_code: None,
                    signal: None,
                    reason: None,
                    started_at: None,
                    ended_at: None,
                    error: None,
                    start_failure: None,
                    restarts: 0,
                    reaped: false,
                    sent: None,
                    halt: None,
                    usage: None,
                    restart_asked: false,
                    runs: 0,
                    run_output_start: 0,
                },
                json: None,
            }),
            ring: Mutex::new(OutputRing::new(ring_size)),
            stdin: StdinSlot::new(),
            reaped: watch::Sender::new(false),
            done: watch::Sender::new(false),
            halted: watch::Sender::new(false),
            restart_now: watch::Sender::new(false),
            runs: watch::Sender::new(0),
            parked: super::queue::Parked::default(),
            options,
            bus,
            changes,
            logged: Arc::default(),
        }
    }

    pub(crate) fn state(&self) -> StateGuard<'_> {
        StateGuard { guarded: self.guarded(), changes: &self.changes, written: false }
    }

    /// The state and its cached JSON, for [`write_json`](Self::write_json) alone: a write
    /// through this bypasses the cache's invalidation.
    pub(crate) fn guarded(&self) -> MutexGuard<'_, Guarded> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn ring(&self) -> MutexGuard<'_, OutputRing> {
        self.ring.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn output(&self) -> Output {
        self.ring().snapshot()
    }

    pub(crate) fn is_done(&self) -> bool {
        *self.done.borrow()
    }

    pub(crate) fn info(&self) -> ProcessInfo {
        self.info_of(&self.state(), Timestamp::now())
    }

    /// The info of this process in `state`, with `duration_ms` of a run not ended yet counted
    /// up to `now`.
    pub(crate) fn info_of(&self, state: &State, now: Timestamp) -> ProcessInfo {
        let end = state.ended_at.unwrap_or(now);
        ProcessInfo {
            id: self.id,
            name: self.options.name.clone(),
            command: self.options.command.clone(),
            args: self.options.args.clone(),
            dir: self.options.dir.clone(),
            pid: state.pid,
            status: state.status,
            exit_code: state.exit_code,
            signal: state.signal,
            reason: state.reason,
            started_at: state.started_at,
            ended_at: state.ended_at,
            duration_ms: state.started_at.map(|start| millis_between(start, end)),
            restarts: state.restarts,
            labels: self.options.labels.clone(),
            error: state.error.clone(),
            start_failure: state.start_failure,
            cpu_percent: state.current_usage().map(|usage| usage.cpu_percent),
            cpu_seconds: state.current_usage().map(|usage| usage.cpu_seconds),
            memory_bytes: state.current_usage().map(|usage| usage.memory_bytes),
            log_path: self.options.output_file.as_ref().map(|file| file.path().to_path_buf()),
            log_error: self.options.output_file.as_ref().and_then(|file| file.log_error()),
        }
    }

    /// Records a failure to start and publishes `exited`; the caller then marks it done.
    pub(crate) fn fail_to_start(&self, error: &crate::Error) {
        let message = error.to_string();
        {
            let mut state = self.state();
            state.status = Status::Failed;
            state.ended_at = Some(Timestamp::now());
            state.error = Some(message.clone());
            state.start_failure = StartFailure::of(error);
            state.reaped = true;
        }
        self.bus.publish(
            self.id,
            [EventKind::Exited {
                status: Status::Failed,
                exit_code: None,
                signal: None,
                reason: None,
                duration_ms: 0.0,
                error: Some(message),
            }],
        );
        self.reaped.send_replace(true);
    }

    /// Waits until everything is over.
    pub(crate) async fn wait_done(&self) {
        let mut done = self.done.subscribe();
        // The sender lives in `self`, so this cannot fail.
        let _ = done.wait_for(|d| *d).await;
    }

    /// Waits until the leader is reaped.
    pub(crate) async fn wait_reaped(&self) {
        let mut reaped = self.reaped.subscribe();
        let _ = reaped.wait_for(|r| *r).await;
    }
}
