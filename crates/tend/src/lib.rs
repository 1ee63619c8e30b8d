//! # tend — supervise operating-system processes
//!
//! `tend` spawns, watches, streams, captures and controls child processes. It is the library
//! behind the `tend` command-line tool and its supervisor daemon.
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

pub mod daemon;
mod os;
pub mod signal;

pub use signal::Signal;
