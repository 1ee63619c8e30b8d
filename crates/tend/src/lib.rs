//! # tend — supervise operating-system processes
//!
//! `tend` spawns, watches, streams, captures and controls child processes. It is the library
//! behind the `tend` command-line tool and its supervisor daemon.
//!
//! * [`Service`] owns managed processes: [`start`](Service::start) one and get a
//!   [`Process`] handle, or [`run`](Service::run) one to the end.
//! * Output is kept byte-exact in a bounded ring per process ([`Output`]) and broadcast as
//!   line [`Event`]s to any number of [`Subscription`]s.
//! * [`Signal`] names signals; kill, signal, graceful shutdown and stdin are on [`Process`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), tend::Error> {
//! use std::time::Duration;
//! use tend::{Service, StartOptions};
//!
//! let service = Service::new();
//! let build = service.start(
//!     StartOptions::new("make").arg("all").timeout(Duration::from_secs(300)).name("build"),
//! )?;
//! let info = build.wait().await;
//! println!("{} ended: {} in {:?} ms", info.command, info.status, info.duration_ms);
//! # Ok(()) }
//! ```
//!
//! See the [`process`] module for the lifecycle and its caveats.

mod error;
pub mod event;
pub mod exec;
mod os;
pub mod output;
pub mod process;
pub mod proctable;
pub mod program;
mod service;
pub mod signal;

pub use error::{Error, FailedRun};
pub use event::{Event, EventKind, Received, Subscription};
pub use output::{Output, OutputChunk, Stream};
pub use process::{
    OutputMode, Process, ProcessId, ProcessInfo, Reason, StartOptions, Status, StdinMode,
};
pub use service::{DEFAULT_MAX_FINISHED, RunOutput, Service, ServiceConfig};
pub use signal::Signal;

/// Raises this process's soft limit on open files to its hard limit, and returns the new
/// limit. Each managed process with piped output holds two or three descriptors in the
/// supervisor, so a supervisor of thousands of processes needs more than the usual 1024.
///
/// ```
/// let limit = tend::raise_open_file_limit().unwrap();
/// assert!(limit >= 256);
/// ```
pub fn raise_open_file_limit() -> std::io::Result<u64> {
    os::raise_open_file_limit()
}
