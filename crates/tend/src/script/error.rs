//! [`ScriptError`]: why a script could not be started.

use std::io;
use std::path::PathBuf;

/// Why a [`Script`](super::Script) could not be started. Each variant names the bad input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScriptError {
    /// A command of a [`Commands`](super::ScriptSource::Commands) script is unusable.
    #[error("command {index} of the script: {reason}")]
    InvalidCommand {
        /// Its position, from 0.
        index: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The file name pattern cannot make a file name.
    #[error("invalid script file pattern `{pattern}`: {reason}")]
    InvalidPattern {
        /// The pattern as given.
        pattern: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Creating or writing the script file failed.
    #[error("cannot write the script file in `{}`: {source}", dir.display())]
    WriteFile {
        /// The directory it was to be written in.
        dir: PathBuf,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// bash could not be started (see [`Error`](crate::Error)).
    #[error(transparent)]
    Start(#[from] crate::Error),
}
