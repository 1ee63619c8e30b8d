//! Managed processes: options, the handle, and the machinery behind it.
//!
//! A managed process gets its own process group. Its stdout and stderr are read concurrently
//! in chunks, kept byte-exact in a bounded ring, split into line events and broadcast. It can
//! be waited on, killed, signalled, shut down gracefully and fed stdin.
//!
//! # Caveats
//!
//! * **Groups.** Kill and shutdown reach the child's whole process group. A grandchild that
//!   moves itself to another group or session (`setsid`, a daemonising program) escapes them
//!   — unless [containment](contain_descendants) is on, see below.
//! * **Supervisor death.** On Unix a small guardian process (forked at the first start) kills
//!   every non-detached group when the supervisor dies, even by SIGKILL. Each child registers
//!   its group with the guardian before `exec`, so there is no moment when a group exists
//!   and the guardian does not know it. Detached processes are left alone — and if their
//!   output is piped, they get `EPIPE` on their next write once nobody reads the pipe any
//!   more; give them [`OutputMode::Null`] or a file.
//! * **Containment (opt-in, Linux).** [`contain_descendants`], called by a program at start
//!   (the `tend` binaries do), makes it a child subreaper that adopts and reaps orphaned
//!   descendants, and moves it into a cgroup v2 directory of its own when one can be created
//!   (root or a delegated subtree) — everything it starts is born inside, and a keeper
//!   process kills the cgroup when it dies — or else tags non-detached processes with a
//!   token in the `TEND_GUARD` environment variable. [`Service::shutdown`](crate::Service::shutdown)
//!   and the guardians (when the supervisor dies, even by SIGKILL) then also kill the
//!   descendants that left their group. Not covered: without a cgroup, a descendant that
//!   clears its environment; and if the supervisor *and* its guardian (or keeper) are killed
//!   together, nothing of ours is left to act — with a cgroup, the survivors are still in
//!   `tend-<pid>`, and `echo 1 > …/tend-<pid>/cgroup.kill` ends them. Library code must not
//!   call it: it changes process-wide state (the subreaper flag, the cgroup, a `tend-reaper`
//!   thread that reaps exited children not spawned by a `Service`).
//! * **Leftovers.** When a leader exits, members of its group still alive after the leak
//!   timeout are killed, unless it was detached or started with `kill_group(false)`.
//! * **Signals.** The library never installs signal handlers; the `tend` binary does.
//! * **Restarts.** With a [`Restart`] policy one record lives through several runs, each a new
//!   process group with a new PID; [`Process::signal`] between runs fails with
//!   [`Error::NotRunning`](crate::Error::NotRunning).
//! * **Output file.** [`StartOptions::output_file`] is written through a small queue by a
//!   background writer; `exited` waits up to 5 s for it to catch up. A renamed (rotated) file
//!   keeps being written, as with any open file.

pub(crate) mod backoff;
mod contain;
mod control;
pub mod exit_code;
pub(crate) mod handle;
pub(crate) mod info;
pub(crate) mod lines;
pub(crate) mod options;
mod output_file;
mod owner;
mod queue;
mod reader;
mod readers;
mod record_json;
pub(crate) mod restart;
mod restart_now;
mod shared;
mod spawn;
mod stdin;
mod supervision;
mod supervisor_panic;
mod usage;
mod validate;

pub use contain::{Containment, contain_descendants};
pub use info::StartFailure;
pub(crate) use info::duration_from_millis;
pub use options::{
    DEFAULT_GRACE, DEFAULT_LEAK_TIMEOUT, DEFAULT_MAX_LINE, DEFAULT_RING_SIZE, LineCallback,
};
pub use restart::{
    DEFAULT_MAX_RESTART_DELAY, DEFAULT_RESTART_DELAY, DEFAULT_RESTART_MULTIPLIER,
    DEFAULT_RESTART_RESET_AFTER, ParseRestartError,
};
pub use validate::{check_env_name, check_no_nul};
// Public at the crate root only (`tend::Process`, …): one path per item. These are the
// crate's own short paths to them.
pub(crate) use handle::Process;
pub(crate) use info::{ProcessId, ProcessInfo, Reason, Status};
pub(crate) use options::{OutputFileTarget, OutputMode, StartOptions, StdinMode};
pub(crate) use owner::Owner;
pub(crate) use record_json::Written;
pub(crate) use restart::Restart;
pub(crate) use shared::{Changes, ProcessShared};
pub(crate) use spawn::{spawn, supervised};
pub(crate) use supervision::Supervision;
