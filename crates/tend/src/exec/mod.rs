//! Run a command once, with cancellation and a timeout that take its whole process group down.
//!
//! [`Cmd`] is a builder in the spirit of [`std::process::Command`]: program, arguments,
//! directory, environment, standard streams, plus a [`timeout`](Cmd::timeout) and a
//! [`CancellationToken`](crate::CancellationToken). Four ways to run it:
//!
//! | method | streams | returns |
//! | --- | --- | --- |
//! | [`output`](Cmd::output) | stdout and stderr captured apart | [`ExecOutput`], whatever the exit code |
//! | [`combined_output`](Cmd::combined_output) | both captured into one buffer, in write order | [`CombinedOutput`], whatever the exit code |
//! | [`run`](Cmd::run) | inherited | the [`ExitStatus`], whatever the exit code |
//! | [`spawn_background`](Cmd::spawn_background) | inherited, or pipes you take | a [`Background`] handle |
//!
//! A non-zero exit is an outcome, not an error, in every form (the crate's one rule: see the
//! [crate docs](crate#one-meaning-of-failure)); [`Cmd::checked`] makes each form fail with
//! [`ExecError::Failed`] instead, carrying what was captured.
//!
//! ```no_run
//! use std::time::Duration;
//! use tend::CancellationToken;
//! use tend::exec::{Cmd, ExecError};
//!
//! # async fn demo() -> Result<(), ExecError> {
//! let cancel = CancellationToken::new();
//! let result = Cmd::new("make")
//!     .arg("test")
//!     .dir("/src/project")
//!     .env("CI", "1")
//!     .timeout(Duration::from_secs(600))
//!     .cancel(cancel.child_token())
//!     .combined_output()
//!     .await;
//! match result {
//!     Ok(out) if out.status.success() => println!("passed"),
//!     Ok(out) => println!("failed:\n{}", String::from_utf8_lossy(&out.output)),
//!     Err(e @ ExecError::TimedOut { .. }) => {
//!         println!("{e}; last words:\n{}", String::from_utf8_lossy(e.partial_output()))
//!     }
//!     Err(e) => return Err(e),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Process groups and stopping
//!
//! Every child is started as the leader of a new process group. Cancellation, the timeout,
//! [`Background::kill`] and dropping the future of a run in progress all send `SIGKILL` to that
//! whole group, so `sh -c 'worker & worker'` leaves no worker behind; the child is then reaped
//! before the call returns. (`SIGKILL` straight away, as Go's `exec.CommandContext` does: a
//! graceful stop with a grace period belongs to managed processes, not one-shot commands.)
//!
//! # Output
//!
//! [`output`](Cmd::output) reads both pipes concurrently, in chunks, while stdin bytes are
//! written, so no pipe can fill up and deadlock the child however much it writes where.
//! [`combined_output`](Cmd::combined_output) gives stdout and stderr one shared pipe (`2>&1`),
//! so the interleaving is exactly the child's order of writes rather than a guess between two
//! pipes that were both ready. Captured bytes are kept exactly as written (no newline added,
//! no `\r\n` changed, no UTF-8 check).
//!
//! # Environment
//!
//! [`Cmd::env`] adds to the inherited environment; it never replaces it. Use
//! [`Cmd::env_clear`] first to start from nothing.
//!
//! # Logging
//!
//! Spawns, exits (with status and elapsed time) and kills are logged at `debug` level through
//! [`tracing`](https://docs.rs/tracing); install any subscriber to see them.
//!
//! # Caveats
//!
//! * **Background jobs after a normal exit.** When the program exits on its own, jobs it left
//!   running (`cmd &`) are left alone: they may be meant to outlive it. If they keep the output
//!   pipes open, the capturing forms stop reading [`drain_timeout`](Cmd::drain_timeout) after
//!   the exit and return what they have, instead of waiting for the pipes to close.
//! * **Escaping the group.** A descendant that moves to another process group or session
//!   (`setsid`, daemons) is out of reach of the group kill.
//! * **Our own death.** If this process is killed, its one-shot children are not; managed
//!   processes with a guardian are the tool for that.
//! * **Runtime.** Every form needs a tokio runtime with the time and I/O drivers enabled.

mod background;
mod capture;
mod cmd;
mod drive;
mod error;

use std::process::ExitStatus;

pub use background::Background;
pub use cmd::{Cmd, Input};
pub use error::ExecError;
pub(crate) use error::{describe_exit, exit_parts};

/// What [`Cmd::output`] captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// How the program ended.
    pub status: ExitStatus,
    /// Everything it wrote on stdout, byte for byte.
    pub stdout: Vec<u8>,
    /// Everything it wrote on stderr, byte for byte.
    pub stderr: Vec<u8>,
}

/// What [`Cmd::combined_output`] captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CombinedOutput {
    /// How the program ended.
    pub status: ExitStatus,
    /// Everything it wrote on stdout and stderr, in exactly the order it wrote them (both
    /// streams share one pipe, as with `2>&1`).
    pub output: Vec<u8>,
}
