//! [`Background`]: a command started and left running, with a handle to wait on or stop it.

use std::io;
use std::process::ExitStatus;

use tokio::process::{ChildStderr, ChildStdin, ChildStdout};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::capture::Capture;
use super::cmd::Cmd;
use super::drive::{Control, Running, SignalRequest, Stop, Streams};
use super::error::ExecError;
use crate::Signal;

/// How a background run ended, in a form every waiter can have a copy of.
#[derive(Debug, Clone)]
enum Outcome {
    Exited(ExitStatus),
    Stopped(Stop),
    Failed { operation: &'static str, kind: io::ErrorKind, message: String },
}

/// A command running in the background, started by [`Cmd::spawn_background`].
///
/// A task on the tokio runtime watches the child from the start: it reaps it when it exits
/// (no zombie, even if nobody waits), and kills its whole process group when the command's
/// cancellation token fires, its timeout passes, or [`kill`](Background::kill) is called.
/// Dropping the handle does **not** stop the child — that is what background means — but
/// shutting the runtime down does, because the watching task is dropped with it.
///
/// ```no_run
/// use tend::exec::Cmd;
///
/// # async fn demo() -> Result<(), tend::exec::ExecError> {
/// let server = Cmd::new("python3").args(["-m", "http.server", "8000"]).spawn_background()?;
/// println!("serving as PID {}", server.pid());
/// // … use it …
/// server.kill();
/// let status = server.wait().await?;
/// assert!(!status.success());
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Background {
    program: String,
    pid: u32,
    kill: CancellationToken,
    signals: mpsc::UnboundedSender<SignalRequest>,
    outcome: watch::Receiver<Option<Outcome>>,
    stdin: Option<ChildStdin>,
    stdout: Option<ChildStdout>,
    stderr: Option<ChildStderr>,
}

impl Cmd {
    /// Starts the program and returns at once with a [`Background`] handle.
    ///
    /// Standard output and error are inherited unless set; set them to [`Stdio::piped()`]
    /// and take the pipes with [`Background::take_stdout`] to read them yourself. Stdin bytes
    /// given with [`Cmd::stdin`] are written by the watching task. Must be called inside a
    /// tokio runtime.
    ///
    /// [`Stdio::piped()`]: std::process::Stdio::piped
    pub fn spawn_background(self) -> Result<Background, ExecError> {
        let mut running = Running::start(self, Streams::Inherit)?;
        let (signals, signal_requests) = mpsc::unbounded_channel();
        let (report, outcome) = watch::channel(None);
        let kill = CancellationToken::new();
        let control = Control { kill: kill.clone(), signals: signal_requests };
        let handle = Background {
            program: running.program.clone(),
            pid: running.pid,
            kill,
            signals,
            outcome,
            // Bytes to feed keep the stdin pipe with the task; otherwise it is the caller's.
            stdin: if running.feeds_stdin() { None } else { running.stdin.take() },
            stdout: running.stdout.take(),
            stderr: running.stderr.take(),
        };
        tokio::spawn(async move {
            let outcome = match running.finish(&mut Capture::Nothing, Some(control)).await {
                Ok(finished) => match finished.stop {
                    Some(stop) => Outcome::Stopped(stop),
                    None => Outcome::Exited(finished.status),
                },
                Err(ExecError::Io { operation, source, .. }) => {
                    Outcome::Failed { operation, kind: source.kind(), message: source.to_string() }
                }
                Err(other) => Outcome::Failed {
                    operation: "running",
                    kind: io::ErrorKind::Other,
                    message: other.to_string(),
                },
            };
            let _ = report.send(Some(outcome));
        });
        Ok(handle)
    }
}

impl Background {
    /// The child's process ID, which is also its process group ID.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The program as given to [`Cmd::new`].
    pub fn program(&self) -> &str {
        &self.program
    }

    /// Asks for the whole process group to be killed with `SIGKILL` and returns at once; use
    /// [`wait`](Background::wait) to see it gone. Not an error after the child has exited, and
    /// not a failure for `wait`, which then reports the signal in the status.
    pub fn kill(&self) {
        self.kill.cancel();
    }

    /// Sends `signal` once to the whole process group. The watching task delivers it only
    /// while the child has not been reaped, so the signal can never reach a group that reused
    /// the ID. After the child has exited this does nothing and succeeds.
    pub async fn signal(&self, signal: Signal) -> Result<(), ExecError> {
        let (reply, answer) = oneshot::channel();
        if self.signals.send((signal, reply)).is_err() {
            return Ok(());
        }
        match answer.await {
            Ok(Ok(())) | Err(_) => Ok(()),
            Ok(Err(source)) => Err(ExecError::Io {
                program: self.program.clone(),
                operation: "sending a signal",
                source,
            }),
        }
    }

    /// Waits for the child to end. Cancellation by the command's token or timeout is an
    /// error ([`ExecError::Cancelled`], [`ExecError::TimedOut`]); any exit status, including
    /// death by [`kill`](Background::kill), is `Ok`. Can be called any number of times.
    pub async fn wait(&self) -> Result<ExitStatus, ExecError> {
        let mut outcome = self.outcome.clone();
        let outcome = match outcome.wait_for(Option::is_some).await {
            Ok(seen) => seen.clone(),
            Err(_) => None,
        };
        self.result(outcome)
    }

    /// The result of [`wait`](Background::wait) if the child has already ended, else `None`.
    pub fn try_wait(&self) -> Option<Result<ExitStatus, ExecError>> {
        let outcome = self.outcome.borrow().clone()?;
        Some(self.result(Some(outcome)))
    }

    /// The child's stdin, if [`Cmd::stdin`] was set to [`Stdio::piped()`](std::process::Stdio::piped)
    /// (and not to bytes). Drop it to send end-of-file.
    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.stdin.take()
    }

    /// The child's stdout, if [`Cmd::stdout`] was set to [`Stdio::piped()`](std::process::Stdio::piped).
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.stdout.take()
    }

    /// The child's stderr, if [`Cmd::stderr`] was set to [`Stdio::piped()`](std::process::Stdio::piped).
    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.stderr.take()
    }

    fn result(&self, outcome: Option<Outcome>) -> Result<ExitStatus, ExecError> {
        let program = self.program.clone();
        match outcome {
            Some(Outcome::Exited(status)) => Ok(status),
            Some(Outcome::Stopped(stop)) => Err(stop.into_error(program, Vec::new())),
            Some(Outcome::Failed { operation, kind, message }) => {
                Err(ExecError::Io { program, operation, source: io::Error::new(kind, message) })
            }
            // The watching task was dropped with its runtime, killing the group on the way.
            None => Err(ExecError::Io {
                program,
                operation: "waiting for exit",
                source: io::Error::other("the runtime watching the process shut down"),
            }),
        }
    }
}
