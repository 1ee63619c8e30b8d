//! [`ExecError`]: why a command did not run to a successful end.

use std::io;
use std::process::ExitStatus;
use std::time::Duration;

use crate::Signal;

/// Why an [`exec`](crate::exec) command failed. Every variant names the program.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecError {
    /// The program could not be started (not found, not executable, bad directory, …).
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        /// The program as given to [`Cmd::new`](crate::exec::Cmd::new).
        program: String,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// Talking to the running program failed: reading its output or waiting for it.
    #[error("`{program}`: {operation}: {source}")]
    Io {
        /// The program as given to [`Cmd::new`](crate::exec::Cmd::new).
        program: String,
        /// What we were doing, e.g. `reading stdout`.
        operation: &'static str,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The program ran and ended unsuccessfully, and the command was
    /// [`checked`](crate::exec::Cmd::checked) (unchecked forms return the status instead).
    #[error("`{program}` {}", describe_exit(*exit_code, *signal))]
    Failed {
        /// The program as given to [`Cmd::new`](crate::exec::Cmd::new).
        program: String,
        /// The exit code, if it exited.
        exit_code: Option<i32>,
        /// The signal that ended it, if one did.
        signal: Option<Signal>,
        /// What it wrote, when output was captured (see [`ExecError::partial_output`]).
        output: Vec<u8>,
    },
    /// The cancellation token fired; the program's whole process group was killed.
    #[error("`{program}` was cancelled")]
    Cancelled {
        /// The program as given to [`Cmd::new`](crate::exec::Cmd::new).
        program: String,
        /// What it wrote before it was stopped, when output was captured (see
        /// [`ExecError::partial_output`]).
        output: Vec<u8>,
    },
    /// The timeout passed; the program's whole process group was killed.
    #[error("`{program}` timed out after {}", humantime::format_duration(*after))]
    TimedOut {
        /// The program as given to [`Cmd::new`](crate::exec::Cmd::new).
        program: String,
        /// The timeout that passed.
        after: Duration,
        /// What it wrote before it was stopped, when output was captured (see
        /// [`ExecError::partial_output`]).
        output: Vec<u8>,
    },
}

impl ExecError {
    /// The program the error is about.
    pub fn program(&self) -> &str {
        match self {
            ExecError::Spawn { program, .. }
            | ExecError::Io { program, .. }
            | ExecError::Failed { program, .. }
            | ExecError::Cancelled { program, .. }
            | ExecError::TimedOut { program, .. } => program,
        }
    }

    /// What a cancelled, timed-out or (checked) failed program wrote: interleaved for
    /// [`combined_output`](crate::exec::Cmd::combined_output), stdout followed by stderr for
    /// [`output`](crate::exec::Cmd::output), empty when nothing was captured.
    pub fn partial_output(&self) -> &[u8] {
        match self {
            ExecError::Cancelled { output, .. }
            | ExecError::TimedOut { output, .. }
            | ExecError::Failed { output, .. } => output,
            _ => &[],
        }
    }

    /// Whether the program was stopped by cancellation or by its timeout.
    pub fn is_stopped(&self) -> bool {
        matches!(self, ExecError::Cancelled { .. } | ExecError::TimedOut { .. })
    }
}

/// The exit code and ending signal of a status, as our own types.
pub(crate) fn exit_parts(status: ExitStatus) -> (Option<i32>, Option<Signal>) {
    use std::os::unix::process::ExitStatusExt;
    (status.code(), status.signal().and_then(Signal::from_number))
}

/// Words for how a program ended: `exited with code 3`, `was killed by SIGKILL`.
pub(crate) fn describe_exit(exit_code: Option<i32>, signal: Option<Signal>) -> String {
    match (exit_code, signal) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(signal)) => format!("was killed by {signal}"),
        (None, None) => "ended abnormally".to_owned(),
    }
}
