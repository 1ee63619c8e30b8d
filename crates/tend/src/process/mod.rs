//! Managed processes: options, the handle, and the machinery behind it.
//!
//! A managed process gets its own process group. Its stdout and stderr are read concurrently
//! in chunks, kept byte-exact in a bounded ring, split into line events and broadcast. It can
//! be waited on, killed, signalled, shut down gracefully and fed stdin.
//!
//! # Caveats
//!
//! * **Groups.** Kill and shutdown reach the child's whole process group. A grandchild that
//!   moves itself to another group or session (a daemonising program) escapes them.
//! * **Supervisor death.** On Unix a small guardian process (forked at the first start) kills
//!   every non-detached group when the supervisor dies, even by SIGKILL. Detached processes
//!   are left alone — and if their output is piped, they get `EPIPE` on their next write once
//!   nobody reads the pipe any more; give them [`OutputMode::Null`] or a file.
//! * **Leftovers.** When a leader exits, members of its group still alive after the leak
//!   timeout are killed, unless it was detached or started with `kill_group(false)`.
//! * **Signals.** The library never installs signal handlers; the `tend` binary does.
//! * **Restarts.** With a [`Restart`] policy one record lives through several runs, each a new
//!   process group with a new PID; [`Process::signal`] between runs fails with
//!   [`Error::NotRunning`](crate::Error::NotRunning).
//! * **Output file.** [`StartOptions::output_file`](StartOptions#structfield.output_file) is
//!   written through a small queue by a background writer; `exited` waits up to 5 s for it
//!   to catch up. A renamed (rotated) file keeps being written, as with any open file.

mod backoff;
mod contain;
mod control;
mod handle;
mod info;
mod options;
mod output_file;
mod reader;
mod restart;
mod shared;
mod spawn;
mod stdin;

pub use contain::{Containment, contain_descendants};
pub use handle::Process;
pub use info::{ProcessId, ProcessInfo, Reason, Status};
pub use options::{
    DEFAULT_GRACE, DEFAULT_LEAK_TIMEOUT, DEFAULT_MAX_LINE, DEFAULT_RING_SIZE, OutputMode,
    StartOptions, StdinMode,
};
pub use restart::{
    DEFAULT_MAX_RESTART_DELAY, DEFAULT_RESTART_DELAY, DEFAULT_RESTART_MULTIPLIER,
    DEFAULT_RESTART_RESET_AFTER, MaxRestarts, ParseRestartError, Restart, RestartPolicy,
};
pub(crate) use shared::ProcessShared;
pub(crate) use spawn::{Owner, spawn};
