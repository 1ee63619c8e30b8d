//! The library's error type for managed processes.

use std::io;

use crate::output::Output;
use crate::process::{ProcessId, ProcessInfo};

/// What can go wrong when starting or controlling a managed process.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The program could not be started; names the program and the OS reason.
    #[error("cannot start `{command}`: {source}")]
    Spawn {
        /// The program as given.
        command: String,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// The output file could not be opened; names the path and the OS reason.
    #[error("cannot open output file `{}`: {source}", path.display())]
    OutputFile {
        /// The file as given.
        path: std::path::PathBuf,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// A start option is invalid; names the option.
    #[error("invalid option `{option}`: {message}")]
    InvalidOption {
        /// The option's name.
        option: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// No managed process matches the id, prefix or name.
    #[error("no process `{0}`")]
    NotFound(String),
    /// The process ended and its record was dropped to keep the table bounded
    /// ([`ServiceConfig::max_finished`](crate::ServiceConfig::max_finished)).
    #[error(
        "process `{0}` has ended and its record was dropped: only the newest finished are kept"
    )]
    Evicted(String),
    /// An id prefix matches more than one process.
    #[error("`{0}` matches more than one process; give more of the id")]
    Ambiguous(String),
    /// A name matches more than one process (finished ones included): nothing is done to
    /// any of them; the ids say which to use.
    #[error("name `{name}` matches {} processes: {}; use an id", ids.len(), join_ids(ids))]
    AmbiguousName {
        /// The name given.
        name: String,
        /// Every process with that name, in start order.
        ids: Vec<ProcessId>,
    },
    /// A start with [`StartOptions::unique_name`](crate::StartOptions::unique_name) was
    /// refused: a process with the same name has not finished.
    #[error("name `{name}` is taken by process {id}, which has not finished")]
    NameTaken {
        /// The name asked for.
        name: String,
        /// The unfinished process that has it.
        id: ProcessId,
    },
    /// The operation needs the process to have ended.
    #[error("process `{0}` is still running")]
    StillRunning(String),
    /// The operation needs a running process.
    #[error("process `{0}` is not running")]
    NotRunning(String),
    /// Standard input was not piped, or has been closed.
    #[error("stdin of process `{0}` is closed or was not piped")]
    StdinClosed(String),
    /// Writing to standard input failed.
    #[error("writing to stdin of process `{id}`: {source}")]
    Stdin {
        /// The process.
        id: String,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// Delivering a signal failed (other than "already exited", which is not an error).
    #[error("sending {signal} to process `{id}`: {source}")]
    Signal {
        /// The process.
        id: String,
        /// The signal.
        signal: crate::Signal,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// `start` was called outside a Tokio runtime.
    #[error("tend needs a Tokio runtime: call this from async code or inside Runtime::enter")]
    NoRuntime,
    /// A checked run ([`Service::run_checked`](crate::Service::run_checked),
    /// [`RunOutput::checked`](crate::RunOutput::checked)) ended unsuccessfully; carries its
    /// final info and what it printed. [`Service::run`](crate::Service::run) itself returns
    /// such an end as `Ok`.
    #[error("{}", failed_message(.0))]
    Failed(Box<FailedRun>),
}

/// The outcome of an unsuccessful checked run: its final info and its output.
#[derive(Debug, Clone)]
pub struct FailedRun {
    /// Final snapshot: status, exit code or signal, reason.
    pub info: ProcessInfo,
    /// Everything it printed (as far as the ring held).
    pub output: Output,
}

impl Error {
    /// Whether this is a start refused because this process (EMFILE) or the system (ENFILE)
    /// is out of file descriptors: a transient condition, worth retrying once some are freed.
    pub fn is_descriptor_exhaustion(&self) -> bool {
        let source = match self {
            Error::Spawn { source, .. } | Error::OutputFile { source, .. } => source,
            _ => return false,
        };
        matches!(source.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
    }
}

fn join_ids(ids: &[ProcessId]) -> String {
    ids.iter().map(ProcessId::to_string).collect::<Vec<_>>().join(", ")
}

fn failed_message(run: &FailedRun) -> String {
    let what = match (run.info.exit_code, run.info.signal, run.info.reason) {
        (_, _, Some(reason)) => format!("was ended ({reason:?})").to_lowercase(),
        (Some(code), _, None) => format!("exited with code {code}"),
        (None, Some(signal), None) => format!("died of {signal}"),
        (None, None, None) => "failed".to_owned(),
    };
    format!("`{}` {what}", run.info.command)
}
