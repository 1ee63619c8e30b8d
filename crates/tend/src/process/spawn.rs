//! Starting a child and supervising it to the end.
//!
//! The end is reported promptly even when a grandchild still holds the output pipes: the
//! leader is reaped first, output is drained for at most the leak timeout, group members it
//! left behind are killed (unless detached), and only then is `exited` published.

use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::info::{Reason, Status, millis_between};
use super::options::{OutputMode, StdinMode};
use super::reader::read_pipe;
use super::shared::ProcessShared;
use crate::event::EventKind;
use crate::output::Stream;
use crate::{Error, Signal, os};

/// What a process needs from whoever owns it (the service): group bookkeeping for the
/// guardian, and a call when it is over.
pub(crate) trait Owner: Send + Sync + 'static {
    /// A non-detached process group now exists.
    fn watch_group(&self, pgid: u32);
    /// That group is gone.
    fn forget_group(&self, pgid: u32);
    /// The process is over; its record may be retired.
    fn finished(&self, shared: &Arc<ProcessShared>);
}

/// Spawns the child for `shared` and the tasks that read and supervise it.
pub(crate) fn spawn(shared: &Arc<ProcessShared>, owner: Arc<dyn Owner>) -> Result<(), Error> {
    let options = &shared.options;
    let mut command = Command::new(&options.command);
    command.args(&options.args);
    if let Some(dir) = &options.dir {
        command.current_dir(dir);
    }
    if options.clear_env {
        command.env_clear();
    }
    command.envs(options.env.iter().map(|(k, v)| (k, v)));
    command.stdin(match options.stdin {
        StdinMode::Null => Stdio::null(),
        StdinMode::Piped => Stdio::piped(),
        StdinMode::Inherit => Stdio::inherit(),
    });
    let output = || match options.output {
        OutputMode::Piped => Stdio::piped(),
        OutputMode::Inherit => Stdio::inherit(),
        OutputMode::Null => Stdio::null(),
    };
    command.stdout(output()).stderr(output());
    os::configure_group(&mut command, options.detach);

    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(source) => {
            let source = blame_dir(source, options.dir.as_deref());
            let error = Error::Spawn { command: options.command.clone(), source };
            shared.fail_to_start(&error);
            owner.finished(shared);
            shared.done.send_replace(true);
            return Err(error);
        }
    };
    let pid = child.id().unwrap_or_default();
    if !options.detach {
        owner.watch_group(pid);
    }
    {
        let mut state = shared.state();
        state.status = Status::Running;
        state.pid = Some(pid);
        state.started_at = Some(Timestamp::now());
    }
    shared.bus.publish(
        shared.id,
        [EventKind::Started { pid, command: options.command.clone(), args: options.args.clone() }],
    );
    if let Some(stdin) = child.stdin.take() {
        shared.stdin.attach(stdin);
    }
    let (stop, stop_rx) = watch::channel(false);
    let mut readers = Vec::with_capacity(2);
    if let Some(stdout) = child.stdout.take() {
        readers.push(tokio::spawn(read_pipe(
            stdout,
            Stream::Stdout,
            shared.clone(),
            stop_rx.clone(),
        )));
    }
    if let Some(stderr) = child.stderr.take() {
        readers.push(tokio::spawn(read_pipe(stderr, Stream::Stderr, shared.clone(), stop_rx)));
    }
    tokio::spawn(supervise(shared.clone(), child, readers, stop, owner));
    Ok(())
}

async fn supervise(
    shared: Arc<ProcessShared>,
    mut child: Child,
    readers: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
    owner: Arc<dyn Owner>,
) {
    let status = wait_with_timeout(&shared, &mut child).await;
    let ended_at = Timestamp::now();
    let pid = {
        let mut state = shared.state();
        state.reaped = true;
        state.ended_at = Some(ended_at);
        state.pid.unwrap_or_default()
    };
    shared.reaped.send_replace(true);

    let options = &shared.options;
    let deadline = Instant::now() + options.leak_timeout;
    let mut draining = Vec::new();
    for mut reader in readers {
        if tokio::time::timeout_at(deadline, &mut reader).await.is_err() {
            draining.push(reader);
        }
    }
    if !options.detach {
        if options.kill_group {
            reap_group_leftovers(pid, deadline).await;
        }
        owner.forget_group(pid);
    }
    stop.send_replace(true);
    for reader in draining {
        // Readers stop at their next poll; the bound is only a safety net.
        let _ = tokio::time::timeout(Duration::from_secs(1), reader).await;
    }
    shared.stdin.mark_closed();
    finish(&shared, status, ended_at);
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

/// Waits for the leader; when its timeout passes first, starts a graceful shutdown and keeps
/// waiting.
async fn wait_with_timeout(
    shared: &Arc<ProcessShared>,
    child: &mut Child,
) -> std::io::Result<ExitStatus> {
    let Some(timeout) = shared.options.timeout else { return child.wait().await };
    let wait = child.wait();
    tokio::pin!(wait);
    tokio::select! {
        status = &mut wait => return status,
        () = tokio::time::sleep(timeout) => {}
    }
    let terminating = shared.clone();
    tokio::spawn(async move {
        let grace = terminating.options.grace;
        let _ = terminating.terminate(Reason::Timeout, grace).await;
    });
    wait.await
}

/// Kills members of the leader's group that are still alive once the leak timeout has
/// passed since the leader ended.
async fn reap_group_leftovers(pgid: u32, deadline: Instant) {
    while os::group_exists(pgid) {
        if Instant::now() >= deadline {
            let _ = os::signal_group(pgid, Signal::KILL.number());
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Records the final state and publishes `killed` (if we ended it) and `exited`. The caller
/// then marks the process done.
fn finish(shared: &ProcessShared, status: std::io::Result<ExitStatus>, ended_at: Timestamp) {
    let mut events = Vec::with_capacity(2);
    {
        let mut state = shared.state();
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

fn exit_signal(status: ExitStatus) -> Option<Signal> {
    use std::os::unix::process::ExitStatusExt;
    status.signal().and_then(Signal::from_number)
}
