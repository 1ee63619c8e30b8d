//! The [`Daemon`]: PID file, health server and registry entry, started in order with rollback
//! and stopped in the reverse order.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::entry::{DaemonEntry, current_program_name};
use super::error::DaemonError;
#[cfg(feature = "http")]
use super::health::HealthServer;
use super::notify::{Notifier, ReadyHandle};
use super::options::{DaemonOptions, Registration};
use super::pidfile::PidFile;
use super::registry::Registry;

/// A running daemon: what a long-running program holds while it serves.
///
/// [`start`](Self::start) acquires the PID file, starts the health server, then registers
/// (refusing to replace the entry of another live daemon, see [`Registry::claim`]); if a step
/// fails, the earlier ones are undone (no PID file left behind, port closed) before
/// the error is returned. [`stop`](Self::stop) runs in the opposite order: not ready (and
/// `STOPPING=1` to systemd), unregister, release the PID file, stop the health server within
/// the shutdown timeout. Dropping a daemon that was not stopped does the same, except that it
/// cannot wait for in-flight health requests.
///
/// The daemon starts not ready; call [`set_ready`](Self::set_ready) once it can serve.
///
/// The library installs no signal handlers: the program decides which signals mean "stop" and
/// cancels the token given to [`run`](Self::run).
///
/// ```no_run
/// use tend::daemon::{Daemon, DaemonOptions, Registry};
/// use tend::CancellationToken;
///
/// # async fn demo() -> Result<(), tend::daemon::DaemonError> {
/// let options = DaemonOptions::new()
///     .pid_file("/tmp/api.pid")
///     .health_addr("127.0.0.1:0".parse().unwrap())
///     .register(Registry::from_env()?, "core", "api");
/// let daemon = Daemon::start(options).await?;
/// println!("health: {}", daemon.health_addr().unwrap());
/// daemon.set_ready(true);
/// let cancel = CancellationToken::new();
/// // ... hand `cancel` to a signal handler ...
/// daemon.run(cancel).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Daemon {
    pid_file: Option<PidFile>,
    #[cfg(feature = "http")]
    health: Option<HealthServer>,
    registered: Option<(Registry, DaemonEntry)>,
    ready: ReadyHandle,
    // Bounds the health server's stop, so without one (no `http` feature) nothing reads it.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    shutdown_timeout: Duration,
    /// Whether `STOPPING=1` went out already ([`begin_stop`](Self::begin_stop)).
    announced_stop: bool,
    stopped: bool,
}

impl Daemon {
    /// Starts the daemon's parts in order, rolling back on failure.
    ///
    /// The registry entry gets this process's PID and start time, the health server's bound
    /// address, the project (default: working directory) and the binary (default: program
    /// name). Must be called inside a Tokio runtime.
    ///
    /// # Errors
    ///
    /// The first step's error: [`DaemonError::PidFile`] (another instance holds the PID file),
    /// [`DaemonError::Health`] or [`DaemonError::Registry`].
    pub async fn start(options: DaemonOptions) -> Result<Self, DaemonError> {
        let notifier =
            if options.systemd_notify { Notifier::from_env() } else { Notifier::disabled() };
        let ready = ReadyHandle::new(Arc::new(AtomicBool::new(false)), notifier);
        let mut daemon = Self {
            pid_file: None,
            #[cfg(feature = "http")]
            health: None,
            registered: None,
            ready,
            shutdown_timeout: options.shutdown_timeout,
            announced_stop: false,
            stopped: false,
        };
        // From here on an early return drops `daemon`, whose Drop undoes what was done.
        if let Some(path) = options.pid_file.clone() {
            // A loser waits briefly for the holder's PID: keep that off the async workers.
            daemon.pid_file = Some(blocking(move || PidFile::acquire(path)).await?);
        }
        #[cfg(feature = "http")]
        if let Some(addr) = options.health_addr {
            let flag = daemon.ready.flag();
            let server = HealthServer::bind_sharing(addr, options.health.clone(), flag).await?;
            daemon.health = Some(server);
        }
        if let Some(registration) = &options.registration {
            let entry = daemon.entry_for(registration, &options);
            let registry = registration.registry.clone();
            let written = entry.clone();
            if let Err(error) = blocking(move || registry.claim(&written)).await {
                // Close the port before returning, rather than when the server task next runs.
                #[cfg(feature = "http")]
                if let Some(mut health) = daemon.health.take() {
                    let _ = health.stop(daemon.shutdown_timeout).await;
                }
                return Err(error.into());
            }
            daemon.registered = Some((registration.registry.clone(), entry));
        }
        Ok(daemon)
    }

    fn entry_for(&self, registration: &Registration, options: &DaemonOptions) -> DaemonEntry {
        let mut entry = DaemonEntry::for_current_process(&registration.code, &registration.daemon);
        entry.health = self.health_addr().map(|addr| addr.to_string());
        if let Some(project) = &options.project {
            entry.project = Some(project.clone());
        }
        entry.binary = options.binary.clone().or_else(current_program_name);
        entry
    }

    /// The health server's bound address, if the daemon runs one (never without the `http`
    /// feature).
    pub fn health_addr(&self) -> Option<SocketAddr> {
        #[cfg(feature = "http")]
        return self.health.as_ref().map(HealthServer::local_addr);
        #[cfg(not(feature = "http"))]
        None
    }

    /// The registry entry, if the daemon registered.
    pub fn entry(&self) -> Option<&DaemonEntry> {
        self.registered.as_ref().map(|(_, entry)| entry)
    }

    /// The PID file's path, if the daemon holds one.
    pub fn pid_file(&self) -> Option<&Path> {
        self.pid_file.as_ref().map(PidFile::path)
    }

    /// Sets readiness (what `/ready` answers); becoming ready tells systemd `READY=1`.
    pub fn set_ready(&self, ready: bool) {
        self.ready.set_ready(ready);
    }

    /// Whether the daemon is ready.
    pub fn is_ready(&self) -> bool {
        self.ready.is_ready()
    }

    /// A cloneable handle on readiness, for other tasks.
    pub fn readiness(&self) -> ReadyHandle {
        self.ready.clone()
    }

    /// Adds a health check to the running server (no effect without a health server).
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn add_check<F, Fut>(&self, name: impl Into<String>, check: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
    {
        if let Some(health) = &self.health {
            health.add_check(name, check);
        }
    }

    /// Waits until `cancel` is cancelled, then [`stop`](Self::stop)s.
    ///
    /// # Errors
    ///
    /// As for [`stop`](Self::stop).
    pub async fn run(mut self, cancel: CancellationToken) -> Result<(), DaemonError> {
        cancel.cancelled().await;
        self.stop().await
    }

    /// Announces that the daemon begins to stop, before the program winds its own work down
    /// (its managed processes, say), which may take a while: not ready, and `STOPPING=1` to
    /// systemd, so that systemd shows the unit as stopping rather than hung. [`stop`](Self::stop)
    /// then does not send it again. Calling it again does nothing.
    pub fn begin_stop(&mut self) {
        if std::mem::replace(&mut self.announced_stop, true) {
            return;
        }
        self.ready.notifier().send("STOPPING=1");
        self.ready.set_ready(false);
    }

    /// Stops in order: not ready (`STOPPING=1` to systemd), unregister, release the PID file,
    /// stop the health server within the shutdown timeout. Every step runs even if an earlier
    /// one failed. Calling it again does nothing.
    ///
    /// # Errors
    ///
    /// The first step that failed.
    pub async fn stop(&mut self) -> Result<(), DaemonError> {
        if std::mem::replace(&mut self.stopped, true) {
            return Ok(());
        }
        self.begin_stop();
        let mut first_error: Option<DaemonError> = None;
        if let Some((registry, entry)) = self.registered.take() {
            let removed =
                blocking(move || registry.unregister_own(&entry.code, &entry.daemon, entry.pid))
                    .await;
            if let Err(e) = removed {
                first_error.get_or_insert(e.into());
            }
        }
        if let Some(pid_file) = self.pid_file.take()
            && let Err(e) = pid_file.release()
        {
            first_error.get_or_insert(e.into());
        }
        #[cfg(feature = "http")]
        if let Some(mut health) = self.health.take()
            && let Err(e) = health.stop(self.shutdown_timeout).await
        {
            first_error.get_or_insert(e.into());
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.stopped {
            return;
        }
        // Same order as `stop`, without waiting: the health server's drop closes the port and
        // cuts in-flight requests short.
        self.ready.set_ready(false);
        if let Some((registry, entry)) = self.registered.take() {
            let _ = registry.unregister_own(&entry.code, &entry.daemon, entry.pid);
        }
        drop(self.pid_file.take());
        #[cfg(feature = "http")]
        drop(self.health.take());
    }
}

/// Runs a short blocking file operation off the async worker threads.
async fn blocking<T: Send + 'static, E: Send + 'static>(
    operation: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, E> {
    match tokio::task::spawn_blocking(operation).await {
        Ok(result) => result,
        Err(join) => std::panic::resume_unwind(join.into_panic()),
    }
}
