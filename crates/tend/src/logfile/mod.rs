//! Log files on disk that rotate at line boundaries: [`LogFile`] appends bytes exactly and
//! keeps `PATH`, `PATH.1`, … `PATH.N`. A managed process writes its output to one through
//! [`StartOptions::log_file`](crate::StartOptions::log_file) and a [`SharedLogFile`] (from its
//! output readers: nothing is lost); [`follow`] appends what its capture ring holds
//! ([`append_output`]: several processes', one after another).
//!
//! This is what a service's `log`, `log_max_size` and `log_keep` keys mean, and how a daemon
//! keeps its processes' logs on disk. Sizes are [`ByteSize`](crate::ByteSize)s (`10MiB`).
//!
//! ```no_run
//! use tend::ByteSize;
//! use tend::logfile::LogFileOptions;
//!
//! let mut log = LogFileOptions::new().max_size(ByteSize::mib(1)).keep(2).open("web.log")?;
//! for i in 0..100_000 {
//!     log.write(format!("request {i}\n").as_bytes())?;
//! }
//! log.close()?;
//! // web.log, web.log.1 and web.log.2 hold the newest lines, each file at most 1 MiB.
//! # Ok::<(), tend::logfile::LogFileError>(())
//! ```

mod dir;
mod error;
mod files;
mod follow;
mod shared;
mod snapshot;
mod trouble;
mod writer;

pub use dir::LogDir;
pub use error::LogFileError;
pub use follow::{Followed, append_output, follow};
pub use shared::SharedLogFile;
pub(crate) use snapshot::LogCount;
pub use snapshot::LogSnapshot;
pub(crate) use trouble::trouble_changes;
pub use trouble::write_errors_total;
pub use writer::{
    DEFAULT_KEEP, DEFAULT_MAX_SIZE, DEFAULT_MODE, LogFile, LogFileOptions, MAX_HELD_LINE,
};

#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod trouble_tests;
