//! What a long-running program needs to behave as a daemon.
//!
//! * [`PidFile`]: a single-instance guarantee. The file is locked with `flock` for the
//!   daemon's lifetime; a second instance (another process or another thread) is refused with
//!   the holder's PID, and a file left by a crashed instance is taken over because the kernel
//!   dropped its lock. [`read_pid`] tells an observer which PID a file names and whether it
//!   runs.
//! * [`HealthServer`]: HTTP `/health` (named checks, each bounded by a timeout: `200 ok` or
//!   `503 unhealthy: <check>: <reason>`) and `/ready` (`200 ready` / `503 not ready`, as the
//!   program sets it), with a graceful, bounded stop.
//! * [`Registry`]: one JSON file per running daemon, by default in `~/.core/daemons/`
//!   (`TEND_REGISTRY_DIR` overrides it), readable by go-process and written atomically. Entries
//!   whose process is gone, or whose PID now belongs to another process, are pruned on read;
//!   [`Registry::claim`] never replaces another live daemon's entry.
//! * State files ([`read_private_file`], [`write_state_file`], [`secure_state_dir`]): never
//!   opened through a symbolic link, written through an exclusive temporary file and a
//!   rename, and read only if private to this user. The PID file and the registry follow the
//!   same rule.
//! * [`Daemon`]: the three composed. [`Daemon::start`] rolls back on failure,
//!   [`Daemon::run`] waits for a [`CancellationToken`](crate::CancellationToken) and
//!   stops in order. Under systemd (`NOTIFY_SOCKET`) it sends `READY=1` and `STOPPING=1`.
//! * [`wait_for_health`] and [`wait_for_ready`]: poll an address until it answers `200`.
//!
//! ```no_run
//! use tend::daemon::{Daemon, DaemonOptions, Registry};
//! use tend::CancellationToken;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let options = DaemonOptions::new()
//!     .pid_file("/tmp/myapp.pid")
//!     .health_addr("127.0.0.1:0".parse()?)
//!     .check("cache", || async { Ok(()) })
//!     .register(Registry::from_env()?, "myapp", "worker");
//! let daemon = Daemon::start(options).await?;
//! daemon.set_ready(true);
//!
//! let cancel = CancellationToken::new();
//! // The program, not the library, installs signal handlers: cancel on SIGTERM.
//! let on_signal = cancel.clone();
//! tokio::spawn(async move {
//!     let _ = tokio::signal::ctrl_c().await;
//!     on_signal.cancel();
//! });
//! daemon.run(cancel).await?;
//! # Ok(()) }
//! ```
//!
//! # Caveats
//!
//! * The PID-file lock is an advisory `flock`. Programs that ignore it (go-process's own PID
//!   files among them) are not kept out, and on NFS `flock` may be emulated or local only.
//! * The lock decides who owns a PID file; its content is informative. [`read_pid`] on a file
//!   left by a crash can report a reused PID as alive.
//! * Registry entries written by go-process carry no process start time, so for those a reused
//!   PID still reads as alive. tend's own entries record the start time and boot ID.
//! * A corrupt registry file is removed only once it is two seconds old: go-process does not
//!   write atomically, so a fresh one may be half-written.
//! * A client that opens a connection to the health server and never completes its request
//!   keeps one connection task alive after [`HealthServer::stop`]; the port itself is closed.

mod entry;
mod error;
#[cfg(feature = "http")]
mod health;
mod lifecycle;
mod notify;
mod options;
mod pidfile;
#[cfg(feature = "http")]
mod probe;
mod registry;
mod state_file;
mod store;

pub use entry::DaemonEntry;
pub use error::{DaemonError, PidFileError, RegistryError, StateFileError};
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use error::{HealthError, ProbeError};
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use health::{DEFAULT_CHECK_TIMEOUT, HealthOptions, HealthServer};
pub use lifecycle::Daemon;
pub use notify::{NOTIFY_SOCKET_ENV, ReadyHandle};
pub use options::{DEFAULT_SHUTDOWN_TIMEOUT, DaemonOptions};
pub use pidfile::{PidFile, PidStatus, read_pid};
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use probe::{PROBE_INTERVAL, wait_for_health, wait_for_ready};
pub use registry::{REGISTRY_DIR_ENV, Registry};
pub use state_file::{
    MAX_STATE_FILE_BYTES, read_private_file, read_private_file_up_to, secure_state_dir,
    write_state_file,
};
