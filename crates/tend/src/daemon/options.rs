//! What a [`Daemon`](super::Daemon) is made of: each part is optional.

use std::path::PathBuf;
use std::time::Duration;
// What the health server's settings need (the `http` feature).
#[cfg(feature = "http")]
use {super::health::HealthOptions, std::future::Future, std::net::SocketAddr};

use super::registry::Registry;

/// The default bound on a daemon's stop, for in-flight health requests.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// How to start a [`Daemon`](super::Daemon). Every part is optional: without a PID file there
/// is no single-instance guarantee, without a health address no server, without
/// [`register`](Self::register) no registry entry.
///
/// ```no_run
/// use std::time::Duration;
/// use tend::daemon::{DaemonOptions, Registry};
///
/// let options = DaemonOptions::new()
///     .pid_file("/run/user/1000/api.pid")
///     .health_addr("127.0.0.1:0".parse().unwrap())
///     .check("database", || async { Ok(()) })
///     .register(Registry::from_env().unwrap(), "core", "api")
///     .shutdown_timeout(Duration::from_secs(10));
/// ```
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    pub(crate) pid_file: Option<PathBuf>,
    #[cfg(feature = "http")]
    pub(crate) health_addr: Option<SocketAddr>,
    #[cfg(feature = "http")]
    pub(crate) health: HealthOptions,
    pub(crate) registration: Option<Registration>,
    pub(crate) binary: Option<String>,
    pub(crate) project: Option<String>,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) systemd_notify: bool,
}

/// Where and under which name the daemon registers.
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    pub(crate) registry: Registry,
    pub(crate) code: String,
    pub(crate) daemon: String,
}

impl Default for DaemonOptions {
    fn default() -> Self {
        Self {
            pid_file: None,
            #[cfg(feature = "http")]
            health_addr: None,
            #[cfg(feature = "http")]
            health: HealthOptions::default(),
            registration: None,
            binary: None,
            project: None,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            systemd_notify: true,
        }
    }
}

impl DaemonOptions {
    /// Nothing enabled; a 30 s shutdown timeout; systemd notification on.
    pub fn new() -> Self {
        Self::default()
    }

    /// Holds a [`PidFile`](super::PidFile) at `path` for the daemon's lifetime.
    pub fn pid_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.pid_file = Some(path.into());
        self
    }

    /// Runs a [`HealthServer`](super::HealthServer) on `addr` (port 0 picks a free port).
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn health_addr(mut self, addr: SocketAddr) -> Self {
        self.health_addr = Some(addr);
        self
    }

    /// Adds a named health check (see [`HealthOptions::check`]).
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn check<F, Fut>(mut self, name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.health = self.health.check(name, check);
        self
    }

    /// Sets the bound on each health check (default 5 s).
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn check_timeout(mut self, timeout: Duration) -> Self {
        self.health = self.health.check_timeout(timeout);
        self
    }

    /// Registers the daemon in `registry` as `(code, daemon)` while it runs.
    pub fn register(
        mut self,
        registry: Registry,
        code: impl Into<String>,
        daemon: impl Into<String>,
    ) -> Self {
        let (code, daemon) = (code.into(), daemon.into());
        self.registration = Some(Registration { registry, code, daemon });
        self
    }

    /// The entry's `binary` (default: this program's file name).
    pub fn binary(mut self, name: impl Into<String>) -> Self {
        self.binary = Some(name.into());
        self
    }

    /// The entry's `project` (default: the working directory).
    pub fn project(mut self, dir: impl Into<String>) -> Self {
        self.project = Some(dir.into());
        self
    }

    /// Bounds how long [`stop`](super::Daemon::stop) lets in-flight health requests finish.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Whether to tell systemd `READY=1` and `STOPPING=1` when `NOTIFY_SOCKET` is set
    /// (default on).
    pub fn systemd_notify(mut self, enabled: bool) -> Self {
        self.systemd_notify = enabled;
        self
    }
}
