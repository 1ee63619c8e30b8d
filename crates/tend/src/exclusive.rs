//! [`ExclusiveRunner`]: one script at a time; a second caller is refused at once.
//!
//! gpud's exclusive runner checked a "running" flag and then set it, two steps another caller
//! could slip between, so two scripts could run at once. Here the reservation is one atomic
//! compare-and-swap: of any number of concurrent callers exactly one wins, and the rest get
//! [`ExclusiveError::AlreadyRunning`] without waiting. The reservation is released by a drop
//! guard, so it is freed however the run ends — success, failure, cancellation, or the
//! caller dropping the future.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tend::exclusive::ExclusiveError> {
//! use tend::Service;
//! use tend::exclusive::{ExclusiveError, ExclusiveRunner};
//! use tend::CancellationToken;
//! use tend::script::Script;
//!
//! let runner = ExclusiveRunner::new(Service::new());
//! let cancel = CancellationToken::new();
//! match runner.run_until_completion(Script::new("apt-get update"), cancel).await {
//!     Ok((output, 0)) => println!("updated:\n{output}"),
//!     Ok((output, code)) => println!("failed with {code}:\n{output}"),
//!     Err(ExclusiveError::AlreadyRunning) => println!("an update is already in progress"),
//!     Err(other) => return Err(other),
//! }
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio_util::sync::CancellationToken;

use crate::script::{Script, ScriptError};
use crate::{Process, Service, Signal, os};

/// Why an exclusive run did not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExclusiveError {
    /// Another run of this runner is in progress; nothing was started.
    #[error("a script is already running")]
    AlreadyRunning,
    /// The cancellation token fired; the script's whole process group was killed.
    #[error("the script was cancelled")]
    Cancelled {
        /// What it printed before it was killed (both streams, lossy UTF-8).
        output: String,
    },
    /// The script could not be started.
    #[error(transparent)]
    Script(#[from] ScriptError),
}

/// Runs scripts one at a time on a [`Service`]. Clones share the reservation, so a clone in
/// another task is refused too.
#[derive(Debug, Clone)]
pub struct ExclusiveRunner {
    service: Service,
    busy: Arc<AtomicBool>,
}

impl ExclusiveRunner {
    /// A runner whose scripts are managed processes of `service`.
    pub fn new(service: Service) -> Self {
        Self { service, busy: Arc::new(AtomicBool::new(false)) }
    }

    /// Whether a run is in progress.
    pub fn is_running(&self) -> bool {
        self.busy.load(Ordering::Acquire)
    }

    /// Runs `script` to its end and returns its combined output (lossy UTF-8) and its shell
    /// exit status: the exit code, or 128 + N for a death by signal N (−1 if it could not be
    /// waited for).
    ///
    /// Refused at once with [`ExclusiveError::AlreadyRunning`] while another run is in
    /// progress. When `cancel` fires, the script's whole process group is killed (background
    /// jobs included, even with [`allow_detached`](Script::allow_detached)) and this returns
    /// [`ExclusiveError::Cancelled`] as soon as it has ended; a token cancelled beforehand
    /// starts nothing. Dropping the returned future kills the script too.
    pub async fn run_until_completion(
        &self,
        script: Script,
        cancel: CancellationToken,
    ) -> Result<(String, i32), ExclusiveError> {
        let _reservation = Reservation::take(&self.busy).ok_or(ExclusiveError::AlreadyRunning)?;
        if cancel.is_cancelled() {
            return Err(ExclusiveError::Cancelled { output: String::new() });
        }
        let process = script.start(&self.service)?;
        let detached_jobs = script.allows_detached();
        let mut guard = KillOnDrop(Some((process.clone(), detached_jobs)));
        let cancelled = tokio::select! {
            _ = process.wait() => false,
            () = cancel.cancelled() => true,
        };
        if cancelled {
            kill_group(&process, detached_jobs);
        }
        let info = process.wait().await;
        guard.0 = None;
        let output = process.output().to_string_lossy();
        if cancelled {
            return Err(ExclusiveError::Cancelled { output });
        }
        Ok((output, info.shell_status()))
    }
}

/// The runner's one slot, held from a successful [`take`](Self::take) until dropped.
struct Reservation<'a>(&'a AtomicBool);

impl<'a> Reservation<'a> {
    fn take(busy: &'a AtomicBool) -> Option<Self> {
        busy.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| Reservation(busy))
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Kills the script's group if the run is abandoned before the script has ended.
struct KillOnDrop(Option<(Process, bool)>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some((process, detached_jobs)) = self.0.take() {
            kill_group(&process, detached_jobs);
        }
    }
}

/// SIGKILL to the script's whole group. `Process::kill` does that by itself unless the script
/// allowed detached jobs, in which case it reaches bash only and the group gets a SIGKILL of
/// its own. That one is sent only while the process is not finished: bash's PID is the group's
/// ID, and the kernel hands out no PID that is still some group's ID, so the target is the
/// script's group for as long as any member of it lives.
fn kill_group(process: &Process, detached_jobs: bool) {
    let pid = process.pid();
    let _ = process.kill();
    if detached_jobs
        && let Some(pgid) = pid
        && !process.status().is_finished()
    {
        let _ = os::signal_group(pgid, Signal::KILL.number());
    }
}
