//! Running one child to its end: spawn, feed stdin, read both pipes, wait, and stop it when
//! cancelled or late — all in one future, so dropping that future stops the child too.

use std::io;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::net::unix::pipe;
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::capture::{CHUNK, Capture, feed_stdin, read_some, shared_pipe};
use super::cmd::{Cmd, Input};
use super::error::ExecError;
use crate::Signal;
use crate::deadline::{deadline_after, sleep_until, timeout_deadline};

/// What happens to stdout and stderr when the command did not choose for itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Streams {
    /// Both inherited from us.
    Inherit,
    /// Each into a pipe of its own.
    Capture,
    /// Both into one shared pipe, like `2>&1`: the reader sees the bytes in exactly the order
    /// the child wrote them, which two pipes cannot tell.
    Merge,
}

/// Why a run ended early: we stopped it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The cancellation token fired.
    Cancelled,
    /// The timeout (this long) passed.
    TimedOut(Duration),
}

/// How a run ended.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) status: ExitStatus,
    pub(crate) stop: Option<Stop>,
}

/// A request from a [`Background`](super::Background) handle to signal the group.
pub(crate) type SignalRequest = (Signal, oneshot::Sender<io::Result<()>>);

/// Extra controls a background handle has over its run.
pub(crate) struct Control {
    /// Kill the group now (not an error: the status reports the kill).
    pub(crate) kill: CancellationToken,
    /// Deliver a signal to the group, once.
    pub(crate) signals: mpsc::UnboundedReceiver<SignalRequest>,
}

/// Kills a process group when asked, or when dropped while still armed.
///
/// It stays armed until the group leader has been reaped: until then the leader (alive or a
/// zombie) holds the group ID, so the number cannot have been reused by someone else's group.
#[derive(Debug)]
struct GroupKill {
    pgid: u32,
    armed: bool,
}

impl GroupKill {
    fn kill(&self, program: &str) {
        if !self.armed {
            return;
        }
        match crate::os::signal_group(self.pgid, Signal::KILL.number()) {
            Ok(_) => tracing::debug!(program, pgid = self.pgid, "killed process group"),
            Err(error) => {
                tracing::warn!(program, pgid = self.pgid, %error, "could not kill process group")
            }
        }
    }
}

impl Drop for GroupKill {
    fn drop(&mut self) {
        // Dropped while armed: the future running the child was dropped (or failed) before
        // the leader was reaped. Take the whole group down; tokio's kill-on-drop and orphan
        // reaping deal with the leader's zombie.
        if self.armed {
            let _ = crate::os::signal_group(self.pgid, Signal::KILL.number());
        }
    }
}

/// A spawned child and everything needed to see it to its end.
pub(crate) struct Running {
    pub(crate) program: String,
    pub(crate) pid: u32,
    child: Child,
    group: GroupKill,
    pub(crate) stdin: Option<ChildStdin>,
    pub(crate) stdout: Option<ChildStdout>,
    pub(crate) stderr: Option<ChildStderr>,
    /// The read end of the shared pipe, in [`Streams::Merge`] mode.
    merged: Option<pipe::Receiver>,
    feed: Option<Vec<u8>>,
    cancel: CancellationToken,
    timeout: Option<(Instant, Duration)>,
    drain: Duration,
    started: Instant,
}

impl Running {
    /// Spawns `cmd` in a new process group, with stdout and stderr as `streams` says unless
    /// the command chose otherwise.
    pub(crate) fn start(mut cmd: Cmd, streams: Streams) -> Result<Running, ExecError> {
        let cancel = cmd.cancel.take().unwrap_or_default();
        if cancel.is_cancelled() {
            return Err(ExecError::Cancelled { program: cmd.program, output: Vec::new() });
        }
        let mut merged = None;
        if streams == Streams::Merge && cmd.stdout.is_none() && cmd.stderr.is_none() {
            let (reader, for_stdout, for_stderr) =
                shared_pipe().map_err(|source| ExecError::Io {
                    program: cmd.program.clone(),
                    operation: "creating the output pipe",
                    source,
                })?;
            cmd.stdout = Some(for_stdout.into());
            cmd.stderr = Some(for_stderr.into());
            merged = Some(reader);
        }
        let default_out =
            || if streams == Streams::Inherit { Stdio::inherit() } else { Stdio::piped() };
        let mut feed = None;
        let stdin = match std::mem::take(&mut cmd.stdin) {
            Input::Null => Stdio::null(),
            Input::Inherit => Stdio::inherit(),
            Input::Stdio(stdio) => stdio,
            Input::Bytes(bytes) => {
                feed = Some(bytes);
                Stdio::piped()
            }
        };
        let stdout = cmd.stdout.take().unwrap_or_else(default_out);
        let stderr = cmd.stderr.take().unwrap_or_else(default_out);
        let args = cmd.arg_list();
        let command = &mut cmd.command;
        command.stdin(stdin).stdout(stdout).stderr(stderr).kill_on_drop(true);
        crate::os::configure_group(command, false);
        let dir = command.as_std().get_current_dir().map(|d| d.display().to_string());

        let spawned = command.spawn();
        // The command holds our copies of the shared pipe's write ends: close them now, or the
        // pipe would never reach end-of-file.
        let (program, timeout, drain) = (cmd.program, cmd.timeout, cmd.drain);
        drop(cmd.command);
        let mut child = spawned.map_err(|source| ExecError::Spawn {
            program: program.clone(),
            source: blame_dir(source, dir.as_deref()),
        })?;
        // A child that has not been waited for always has an ID.
        let pid = child.id().unwrap_or_default();
        tracing::debug!(program, ?args, ?dir, pid, "spawned");
        let started = Instant::now();
        Ok(Running {
            pid,
            group: GroupKill { pgid: pid, armed: pid != 0 },
            stdin: child.stdin.take(),
            stdout: child.stdout.take(),
            stderr: child.stderr.take(),
            merged,
            child,
            feed,
            cancel,
            timeout: timeout
                .and_then(|after| Some((timeout_deadline(started, Some(after))?, after))),
            drain,
            started,
            program,
        })
    }

    /// Whether bytes will be written to the child's stdin by [`finish`](Running::finish).
    pub(crate) fn feeds_stdin(&self) -> bool {
        self.feed.is_some()
    }

    /// Drives the child to its end: feeds stdin, reads whatever pipes are still here into
    /// `capture`, reaps the child, and kills its group on cancellation, timeout or `control`.
    /// Always reaps the child before returning, except when waiting itself fails.
    pub(crate) async fn finish(
        mut self,
        capture: &mut Capture,
        control: Option<Control>,
    ) -> Result<Finished, ExecError> {
        let program = self.program.clone();
        let feed = feed_stdin(self.stdin.take(), self.feed.take(), program.clone());
        tokio::pin!(feed);
        let mut fed = false;
        let mut out_buf = vec![0; if self.stdout.is_some() { CHUNK } else { 0 }];
        let mut err_buf = vec![0; if self.stderr.is_some() { CHUNK } else { 0 }];
        let mut merged_buf = vec![0; if self.merged.is_some() { CHUNK } else { 0 }];
        let mut read_error = None;
        let mut status = None;
        let mut stop = None;
        let mut drain_until = None;
        let timeout_at = self.timeout.map(|(at, _)| at);
        let (mut kill, mut signals) = match control {
            Some(Control { kill, signals }) => (Some(kill), Some(signals)),
            None => (None, None),
        };

        loop {
            let open = self.stdout.is_some() || self.stderr.is_some() || self.merged.is_some();
            if status.is_some() && !open {
                break;
            }
            tokio::select! {
                read = read_some(&mut self.stdout, &mut out_buf) => match read {
                    Ok(0) => self.stdout = None,
                    Ok(n) => capture.push(false, &out_buf[..n]),
                    Err(error) => {
                        read_error.get_or_insert(("reading stdout", error));
                        self.stdout = None;
                    }
                },
                read = read_some(&mut self.stderr, &mut err_buf) => match read {
                    Ok(0) => self.stderr = None,
                    Ok(n) => capture.push(true, &err_buf[..n]),
                    Err(error) => {
                        read_error.get_or_insert(("reading stderr", error));
                        self.stderr = None;
                    }
                },
                read = read_some(&mut self.merged, &mut merged_buf) => match read {
                    Ok(0) => self.merged = None,
                    Ok(n) => capture.push(false, &merged_buf[..n]),
                    Err(error) => {
                        read_error.get_or_insert(("reading output", error));
                        self.merged = None;
                    }
                },
                () = &mut feed, if !fed => fed = true,
                waited = self.child.wait(), if status.is_none() => {
                    let waited = waited.map_err(|source| ExecError::Io {
                        program: program.clone(),
                        operation: "waiting for exit",
                        source,
                    })?;
                    // Reaped: the group ID may be reused from now on, so never signal it again.
                    self.group.armed = false;
                    let elapsed = self.started.elapsed();
                    tracing::debug!(program, pid = self.pid, status = %waited, ?elapsed, "exited");
                    status = Some(waited);
                    drain_until = deadline_after(Instant::now(), self.drain);
                }
                () = self.cancel.cancelled(), if status.is_none() && stop.is_none() => {
                    stop = Some(Stop::Cancelled);
                    self.stop_group("cancelled");
                }
                () = sleep_until(timeout_at), if status.is_none() && stop.is_none() => {
                    stop = self.timeout.map(|(_, after)| Stop::TimedOut(after));
                    self.stop_group("timed out");
                }
                () = cancelled(&kill), if status.is_none() => {
                    self.stop_group("kill requested");
                    // Only once: the handle's token stays cancelled.
                    kill = None;
                }
                request = next_signal(&mut signals), if status.is_none() => {
                    if let Some((signal, reply)) = request {
                        let sent = crate::os::signal_group(self.group.pgid, signal.number());
                        let _ = reply.send(sent.map(|_| ()));
                    }
                }
                () = sleep_until(drain_until) => {
                    tracing::debug!(
                        program,
                        pid = self.pid,
                        "output pipes still open after exit (held by a background process); \
                         not waiting for them"
                    );
                    break;
                }
            }
        }
        if let Some((operation, source)) = read_error {
            return Err(ExecError::Io { program, operation, source });
        }
        let status = status.expect("the loop ends only after the child was reaped");
        Ok(Finished { status, stop })
    }

    /// Kills the whole group, and the leader too in case it left the group.
    fn stop_group(&mut self, why: &'static str) {
        tracing::debug!(program = self.program, pid = self.pid, why, "stopping process group");
        self.group.kill(&self.program);
        let _ = self.child.start_kill();
    }
}

/// A failed `chdir` in the child reads like a missing program ("No such file or directory");
/// say which directory it was when that is the cause.
fn blame_dir(error: io::Error, dir: Option<&str>) -> io::Error {
    match dir {
        Some(dir) if !std::path::Path::new(dir).is_dir() => {
            io::Error::new(error.kind(), format!("working directory {dir}: {error}"))
        }
        _ => error,
    }
}

/// Completes when the token is cancelled; pends for ever without one.
async fn cancelled(token: &Option<CancellationToken>) {
    match token {
        Some(token) => token.cancelled().await,
        None => std::future::pending().await,
    }
}

/// The next signal request from the handle; pends for ever once the handle is gone.
async fn next_signal(
    signals: &mut Option<mpsc::UnboundedReceiver<SignalRequest>>,
) -> Option<SignalRequest> {
    let request = match signals {
        Some(signals) => signals.recv().await,
        None => None,
    };
    match request {
        Some(request) => Some(request),
        None => std::future::pending().await,
    }
}
