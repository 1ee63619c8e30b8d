//! Starting a child and supervising it to the end.
//!
//! The end is reported promptly even when a grandchild still holds the output pipes: the
//! leader is reaped first, output is drained for at most the leak timeout, group members it
//! left behind are killed (unless detached), and only then is `exited` published.
//!
//! With a restart policy this repeats, run after run, on the same record (see
//! [`restart`](super::restart)); `exited` is published once, after the last run.

use std::future::{Future, poll_fn};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::pin::pin;
use std::process::ExitStatus;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::Duration;

use jiff::Timestamp;
use tokio::net::unix::pipe;
use tokio::sync::watch;
use tokio::time::Instant;

use super::backoff::{Backoff, restart_delay, wait_before_restart};
use super::control::Target;
use super::exit_code::exit_signal;
use super::info::{Reason, Status, millis_between};
use super::options::{OutputFileTarget, OutputMode, StartOptions, StdinMode};
use super::output_file::OutputFile;
use super::owner::Owner;
use super::reader::read_pipe;
use super::readers::Readers;
use super::shared::ProcessShared;
use super::stdin::feed_stdin;
use super::supervision::Supervision;
use super::supervisor_panic;
use crate::deadline::{self, deadline_after, timeout_deadline};
use crate::event::EventKind;
use crate::os::{Child, Protection, Redirect, SpawnRequest, Spawned};
use crate::output::Stream;
use crate::{Error, Signal, os};

/// One run of the program: the child and the readers of its output, which the supervising
/// task polls.
struct Run {
    child: Child,
    pid: u32,
    started: Instant,
    readers: Readers,
    stop: watch::Sender<bool>,
}

/// Spawns the child for `shared` and the task that reads its output and supervises it.
pub(crate) fn spawn(shared: &Arc<ProcessShared>, owner: Arc<dyn Owner>) -> Result<(), Error> {
    supervised(shared, owner).map(Supervision::hand_over)
}

/// Spawns the child for `shared`; the reading of its output and its supervision are left to
/// the caller, to drive or to hand over.
pub(crate) fn supervised(
    shared: &Arc<ProcessShared>,
    owner: Arc<dyn Owner>,
) -> Result<Supervision, Error> {
    let started = open_output_file(shared)
        .and_then(|file| Ok((start_run(shared, owner.as_ref(), file.as_ref())?, file)));
    let (run, file) = match started {
        Ok(started) => started,
        Err(error) => {
            shared.fail_to_start(&error);
            owner.finished(shared);
            shared.done.send_replace(true);
            return Err(error);
        }
    };
    // From here on the supervision owns the process; a panic in it must not leave the record
    // stuck.
    let supervising = supervise(shared.clone(), run, file, owner.clone());
    Ok(Supervision::new(supervisor_panic::guard(shared.clone(), owner, supervising)))
}

fn open_output_file(shared: &ProcessShared) -> Result<Option<OutputFile>, Error> {
    let options = &shared.options;
    let Some(target) = &options.output_file else { return Ok(None) };
    if options.output != OutputMode::Piped {
        return Err(Error::InvalidOption {
            option: "output_file",
            message: "needs piped output (OutputMode::Piped)".into(),
        });
    }
    match target {
        OutputFileTarget::Path(path) => OutputFile::open(path, shared.logged.clone())
            .map(Some)
            .map_err(|source| Error::OutputFile { path: path.clone(), source }),
        OutputFileTarget::Log(log) | OutputFileTarget::DirLog(log) => {
            Ok(Some(OutputFile::log(log.clone(), shared.logged.clone())))
        }
    }
}

/// Where the child's descriptors 0, 1 and 2 come from for one run. `merged` is the write end
/// of the one pipe that carries both stdout and stderr when they are merged.
fn stdio<'a>(options: &'a StartOptions, merged: Option<BorrowedFd<'a>>) -> [Redirect<'a>; 3] {
    let stdin = match options.stdin {
        _ if options.stdin_data.is_some() => Redirect::Pipe,
        StdinMode::Null => Redirect::Null,
        StdinMode::Piped => Redirect::Pipe,
        StdinMode::Inherit => Redirect::Inherit,
    };
    let output = || match (merged, options.output) {
        (Some(writer), _) => Redirect::Fd(writer),
        (None, OutputMode::Piped) => Redirect::Pipe,
        (None, OutputMode::Inherit) => Redirect::Inherit,
        (None, OutputMode::Null) => Redirect::Null,
    };
    [stdin, output(), output()]
}

/// The one pipe that carries both stdout and stderr when they are merged, so the kernel keeps
/// the order of the child's writes: our read end and the child's write end.
fn merged_pipe(options: &StartOptions) -> std::io::Result<Option<(pipe::Receiver, OwnedFd)>> {
    if !(options.merge_stderr && options.output == OutputMode::Piped) {
        return Ok(None);
    }
    let (reader, writer) = std::io::pipe()?;
    Ok(Some((pipe::Receiver::from_owned_fd(reader.into())?, writer.into())))
}

/// Starts one run: spawns the child, records and announces it, sets up its readers.
fn start_run(
    shared: &Arc<ProcessShared>,
    owner: &dyn Owner,
    file: Option<&OutputFile>,
) -> Result<Run, Error> {
    let options = &shared.options;
    // Before the new PID becomes visible: whoever signals it must wait for *this* run's reap.
    shared.reaped.send_replace(false);
    // The previous run's output is drained by now: what follows is this run's.
    let run_output_start = shared.ring().written();
    shared.state().run_output_start = run_output_start;
    let spawn_error = |source| Error::Spawn { command: options.command.clone(), source };
    let (merged, merged_writer) = merged_pipe(options).map_err(spawn_error)?.unzip();
    let mut request = SpawnRequest {
        program: &options.command,
        args: &options.args,
        dir: options.dir.as_deref(),
        env: &options.env,
        clear_env: options.clear_env,
        stdio: stdio(options, merged_writer.as_ref().map(AsFd::as_fd)),
        detach: options.detach,
        protection: Protection::default(),
    };
    if !options.detach {
        owner.protect(&mut request.protection);
    }
    // Until the PID is registered, a reaper of adopted orphans must not take its status.
    let spawning = os::spawn_lock();
    let spawned = os::spawn(request);
    // The child has its copies: ours of the merged write end must go for end-of-file.
    drop(merged_writer);
    let Spawned { child, stdin, stdout, stderr } =
        spawned.map_err(|source| spawn_error(blame_dir(source, options.dir.as_deref())))?;
    let started = Instant::now();
    let pid = child.id();
    os::register_child(pid);
    drop(spawning);
    if !options.detach {
        owner.watch_group(pid);
    }
    let halted = {
        let mut state = shared.state();
        state.status = Status::Running;
        state.pid = Some(pid);
        state.started_at = Some(Timestamp::now());
        state.ended_at = None;
        state.exit_code = None;
        state.signal = None;
        state.reaped = false;
        // Asked to stop while this run was being spawned: it must not live on.
        state.reason = state.halt.take();
        state.sent = state.reason.map(|_| Signal::KILL);
        shared.count_run(&mut state);
        state.reason.is_some()
    };
    shared.bus.publish(
        shared.id,
        [EventKind::Started { pid, command: options.command.clone(), args: options.args.clone() }],
    );
    if halted {
        let _ = shared.deliver(Signal::KILL, Target::GroupIfConfigured, None);
    }
    let (stop, stop_rx) = watch::channel(false);
    if let Some(stdin) = stdin {
        match &options.stdin_data {
            Some(data) => {
                tokio::spawn(feed_stdin(stdin, data.clone(), stop_rx.clone()));
            }
            None => shared.stdin.attach(stdin),
        }
    }
    let mut readers = Readers::new();
    let gate = || file.map(|file| file.gate(options.max_line));
    if let Some(merged) = merged {
        // Both streams in one pipe cannot be told apart: tagged stdout (documented).
        let stop = stop_rx.clone();
        readers.push(read_pipe(merged, Stream::Stdout, shared.clone(), stop, gate()));
    }
    if let Some(stdout) = stdout {
        let stop = stop_rx.clone();
        readers.push(read_pipe(stdout, Stream::Stdout, shared.clone(), stop, gate()));
    }
    if let Some(stderr) = stderr {
        readers.push(read_pipe(stderr, Stream::Stderr, shared.clone(), stop_rx, gate()));
    }
    Ok(Run { child, pid, started, readers, stop })
}

/// Runs after run until the process is over for good, then publishes the end.
async fn supervise(
    shared: Arc<ProcessShared>,
    mut run: Run,
    file: Option<OutputFile>,
    owner: Arc<dyn Owner>,
) {
    #[cfg(test)]
    if shared.options.name.as_deref() == Some(supervisor_panic::PANIC_ON_NAME) {
        panic!("injected by a test");
    }
    // The timeout covers every run and every restart delay.
    let deadline = timeout_deadline(run.started, shared.options.timeout);
    let mut backoff = Backoff::new(&shared.options.restart);
    let (status, ended_at, pid) = loop {
        let status = wait_while_reading(&shared, &mut run, deadline).await;
        let ran_for = run.started.elapsed();
        let pid = run.pid;
        let ended_at = end_run(&shared, run, owner.as_ref()).await;
        // A restart asked for comes first, at once, whatever the policy says.
        let delay = if shared.take_restart(&status, owner.as_ref()) {
            Some(Duration::ZERO)
        } else {
            restart_delay(&shared, &mut backoff, &status, ran_for, owner.as_ref())
        };
        let Some(delay) = delay else {
            break (status, ended_at, pid);
        };
        if !wait_before_restart(&shared, delay, deadline).await || !owner.is_alive() {
            break (status, ended_at, pid);
        }
        let attempt = {
            let mut state = shared.state();
            state.restarts += 1;
            state.restarts
        };
        let ended = status.as_ref().ok();
        let exit_code = ended.and_then(|status| status.code());
        let signal = ended.and_then(|status| exit_signal(*status));
        shared.bus.publish(shared.id, [EventKind::Restarted { attempt, exit_code, signal }]);
        shared.stdin.wait_idle().await;
        match start_run(&shared, owner.as_ref(), file.as_ref()) {
            Ok(next) => {
                run = next;
                if !owner.is_alive() && !shared.options.detach {
                    // The service went away while this run started: its guardian may not
                    // have seen the new group, so do what the guardian would have done.
                    let _ = shared.deliver(Signal::KILL, Target::GroupIfConfigured, None);
                }
            }
            Err(error) => {
                if let Some(file) = file {
                    file.close().await;
                }
                let mut state = shared.state();
                state.started_at = None;
                state.exit_code = None;
                state.signal = None;
                drop(state);
                shared.fail_to_start(&error);
                owner.finished(&shared);
                shared.done.send_replace(true);
                return;
            }
        }
    };
    if let Some(file) = file {
        file.close().await;
    }
    finish(&shared, status, ended_at, pid);
    // The owner first (it trims its table), then `done`: whoever `wait`s sees the table as
    // it will stay.
    owner.finished(&shared);
    shared.done.send_replace(true);
}

/// A missing working directory fails the spawn with the same "No such file or directory" as a
/// missing program; say which it was. The kind is kept, so callers can still match on it.
fn blame_dir(source: std::io::Error, dir: Option<&std::path::Path>) -> std::io::Error {
    match dir {
        Some(dir) if !dir.is_dir() => std::io::Error::new(
            source.kind(),
            format!("working directory `{}`: {source}", dir.display()),
        ),
        _ => source,
    }
}

/// After the leader of a run is reaped: drains output for at most the leak timeout, cleans
/// up the group, and returns when the run ended.
async fn end_run(shared: &Arc<ProcessShared>, run: Run, owner: &dyn Owner) -> Timestamp {
    let Run { pid, mut readers, stop, .. } = run;
    // It has been reaped: from now on its PID may name an adopted orphan.
    os::unregister_child(pid);
    let ended_at = Timestamp::now();
    {
        let mut state = shared.state();
        state.reaped = true;
        state.ended_at = Some(ended_at);
    }
    shared.reaped.send_replace(true);

    let options = &shared.options;
    let deadline = deadline_after(Instant::now(), options.leak_timeout);
    let drained = deadline::until(deadline, readers.finished()).await.is_some();
    if !options.detach {
        if options.kill_group {
            readers.alongside(reap_group_leftovers(pid, deadline)).await;
        }
        owner.forget_group(pid);
    }
    // Also ends the feeding of stdin data, which a grandchild may hold without reading.
    stop.send_replace(true);
    if !drained {
        // Readers stop at their next poll; the bound is only a safety net.
        let _ = tokio::time::timeout(Duration::from_secs(1), readers.finished()).await;
    }
    shared.stdin.mark_closed();
    ended_at
}

/// Waits for the leader while its output is read.
async fn wait_while_reading(
    shared: &Arc<ProcessShared>,
    run: &mut Run,
    deadline: Option<Instant>,
) -> std::io::Result<ExitStatus> {
    let drained = AtomicBool::new(false);
    let mut reading = pin!(run.readers.finished());
    let mut waiting = pin!(wait_with_deadline(shared, &mut run.child, deadline, &drained));
    poll_fn(|cx| {
        if !drained.load(Ordering::Relaxed) && reading.as_mut().poll(cx).is_ready() {
            drained.store(true, Ordering::Relaxed);
        }
        waiting.as_mut().poll(cx)
    })
    .await
}

/// Waits for the leader; when the deadline passes first, starts a graceful shutdown and keeps
/// waiting.
async fn wait_with_deadline(
    shared: &Arc<ProcessShared>,
    child: &mut Child,
    deadline: Option<Instant>,
    drained: &AtomicBool,
) -> std::io::Result<ExitStatus> {
    let Some(deadline) = deadline else { return exit_of(child, drained).await };
    let wait = exit_of(child, drained);
    tokio::pin!(wait);
    tokio::select! {
        status = &mut wait => return status,
        () = tokio::time::sleep_until(deadline) => {}
    }
    let terminating = shared.clone();
    tokio::spawn(async move {
        let grace = terminating.options.grace;
        let _ = terminating.terminate(Reason::Timeout, grace).await;
    });
    wait.await
}

/// The leader's exit status. Once both its output pipes have reached end-of-file
/// (`drained`) it has usually exited as well: its status is then taken at once, rather than
/// in one more wake-up when the runtime reports its pidfd readable.
async fn exit_of(child: &mut Child, drained: &AtomicBool) -> std::io::Result<ExitStatus> {
    poll_fn(|cx| {
        if drained.load(Ordering::Relaxed)
            && let Ok(Some(status)) = child.try_wait()
        {
            return Poll::Ready(Ok(status));
        }
        child.poll_wait(cx)
    })
    .await
}

/// Kills members of the leader's group that are still alive once the leak timeout has
/// passed since the leader ended.
///
/// After the SIGKILL it waits, for at most [`KILLED_GROUP_WAIT`], until the members are gone,
/// so that once the process is reported done nothing of its group is still running.
async fn reap_group_leftovers(pgid: u32, deadline: Option<Instant>) {
    let mut killed_at: Option<Instant> = None;
    while os::group_exists(pgid) {
        let now = Instant::now();
        match killed_at {
            None if deadline.is_some_and(|deadline| now >= deadline) => {
                let _ = os::signal_group(pgid, Signal::KILL.number());
                killed_at = Some(now);
            }
            // Orphaned members are reaped by init (or a subreaper); one that is not reaped
            // stays a zombie in the group, so the wait is bounded.
            Some(at) if now >= at + KILLED_GROUP_WAIT => return,
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// How long to wait for SIGKILLed leftovers of a group to disappear.
const KILLED_GROUP_WAIT: Duration = Duration::from_millis(500);

/// Records the final state of the last run (`pid`) and publishes `killed` (if we ended it)
/// and `exited`. The caller then marks the process done.
fn finish(
    shared: &ProcessShared,
    status: std::io::Result<ExitStatus>,
    ended_at: Timestamp,
    pid: u32,
) {
    let mut events = Vec::with_capacity(2);
    {
        let mut state = shared.state();
        // Stopped while waiting to restart: report the last run's PID, as after any end.
        state.pid = Some(pid);
        match status {
            Ok(status) => {
                state.exit_code = status.code();
                state.signal = exit_signal(status);
            }
            Err(error) => state.error = Some(format!("waiting for the process: {error}")),
        }
        state.status = if state.reason.is_some() {
            Status::Killed
        } else if state.exit_code == Some(0) {
            Status::Exited
        } else {
            Status::Failed
        };
        if state.reason.is_some() {
            let signal = state.sent.or(state.signal).unwrap_or(Signal::KILL);
            events.push(EventKind::Killed { signal });
        }
        let duration_ms = state.started_at.map_or(0.0, |start| millis_between(start, ended_at));
        events.push(EventKind::Exited {
            status: state.status,
            exit_code: state.exit_code,
            signal: state.signal,
            reason: state.reason,
            duration_ms,
            error: state.error.clone(),
        });
    }
    shared.bus.publish(shared.id, events);
}

#[cfg(test)]
#[path = "spawn_tests.rs"]
mod tests;
