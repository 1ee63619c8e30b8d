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
//! * [`exec`] is a one-shot command builder with cancellation and timeouts, [`program`] finds
//!   and runs a program on `PATH`, and [`proctable`] queries the host's process table.
//! * [`script`] runs bash scripts (from a file or inline, with safe quoting),
//!   [`exclusive`] runs one script at a time, and [`actions`] is the named-action registry
//!   (`process.start`, `process.kill`, …) that the API and CLI client dispatch through.
//! * [`runner`] runs pipelines: steps with `after` dependencies, as a graph that starts each
//!   step the moment its own dependencies finish, in order, or all at once.
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
//!
//! ## Daemon toolkit
//!
//! [`daemon`] gives a long-running program what it needs to behave as a daemon, safely under
//! concurrency, PID reuse and crashes: a [`PidFile`](daemon::PidFile) held with `flock` (single
//! instance), a [`HealthServer`](daemon::HealthServer) answering `/health` and `/ready`, a
//! [`Registry`](daemon::Registry) of running daemons compatible with go-process's
//! `~/.core/daemons/` entries, a [`Daemon`](daemon::Daemon) that composes the three with
//! rollback and ordered stop (and speaks systemd's `NOTIFY_SOCKET`), and the probes
//! [`wait_for_health`](daemon::wait_for_health) / [`wait_for_ready`](daemon::wait_for_ready).
//! `cargo run -p tend --example daemon` runs a complete one; `tend daemons` lists the registry
//! and `tend health ADDR` probes a daemon.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod actions;
pub mod daemon;
mod deadline;
mod error;
pub mod event;
pub mod exclusive;
pub mod exec;
mod os;
pub mod output;
pub mod process;
pub mod proctable;
pub mod program;
pub mod runner;
pub mod script;
mod service;
pub mod signal;

pub use deadline::FOREVER;
pub use error::{Error, FailedRun};
pub use event::{Event, EventBacklog, EventKind, Received, Subscription};
pub use os::release_free_memory;
pub use output::{Output, OutputChunk, OutputRing, OutputSince, Stream};
pub use process::{
    Lagged, Line, Lines, OutputMode, Process, ProcessEvent, ProcessEvents, ProcessId, ProcessInfo,
    Reason, StartOptions, Status, StdinMode,
};
pub use process::{MaxRestarts, Restart, RestartPolicy};
pub use service::{DEFAULT_MAX_FINISHED, MAX_EVICTED_IDS, RunOutput, Service, ServiceConfig};
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

/// This process's soft limit on open files (`u64::MAX` when unlimited). The runner bounds
/// how many steps it runs at once by it, and `tend-server` its connections.
///
/// ```
/// assert!(tend::open_file_limit() >= 16);
/// ```
pub fn open_file_limit() -> u64 {
    os::open_file_limit()
}

/// Sets the calling thread's nice value (Linux: per thread; 0 normal, 19 lowest priority).
/// A supervisor runs work that must never slow its children, such as fanning events out to
/// many clients, on threads it lowers with this (for example in a Tokio runtime's
/// `on_thread_start`). Raising priority (a negative value) needs privileges.
///
/// ```
/// std::thread::spawn(|| tend::set_thread_nice(10).unwrap()).join().unwrap();
/// ```
pub fn set_thread_nice(nice: i32) -> std::io::Result<()> {
    os::set_thread_nice(nice)
}
