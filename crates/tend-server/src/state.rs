//! [`ServerState`]: everything the routes share.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tend::Service;
use tend::daemon::Registry;

use crate::actions::{self, Actions};
use crate::log::{DEFAULT_LOG_BYTES, DEFAULT_LOG_EVENTS, EventLog};
use crate::metrics::Metrics;
use crate::pipelines::Pipelines;
use crate::pipelines::actions::PipelineHost;

/// Largest request body accepted (413 beyond; a larger `Content-Length` is refused before
/// reading).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// A request body must have arrived this long after the handler starts reading it (408
/// beyond), so a client trickling a body cannot hold a connection for ever.
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The shared state of the API: the service, its actions, the event log, the token and the
/// limits. Cheap to clone.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// let service = tend::Service::new();
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// let state = tend_server::ServerState::new(service, "secret-token", addr);
/// axum::serve(listener, tend_server::router(state)).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ServerState {
    pub(crate) inner: Arc<StateInner>,
}

#[derive(Debug)]
pub(crate) struct StateInner {
    pub(crate) service: Service,
    pub(crate) actions: Actions,
    pub(crate) log: EventLog,
    pub(crate) token: String,
    pub(crate) hosts: Vec<String>,
    pub(crate) origins: Vec<String>,
    pub(crate) check_host: bool,
    pub(crate) ready: AtomicBool,
    pub(crate) metrics: Metrics,
    pub(crate) stream_runtime: Option<tokio::runtime::Handle>,
    pub(crate) records: Option<crate::records::Records>,
    pub(crate) sessions: crate::ui::Sessions,
}

/// How to build a [`ServerState`] beyond the defaults of [`ServerState::new`].
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The bearer token every `/api` request must carry.
    pub token: String,
    /// The address the server is bound to: requests must name it (or `localhost` with its
    /// port) in `Host`, and WebSocket upgrades may only come from `http://` that address.
    pub bound: SocketAddr,
    /// Refuse requests whose `Host` is not the bound address (DNS rebinding). On by default;
    /// turn off only behind a proxy that rewrites `Host`, or when listening remotely.
    pub check_host: bool,
    /// Further `Host` values to accept (such as a public name with `--allow-remote`).
    pub extra_hosts: Vec<String>,
    /// At most this many running processes; starts beyond get 429 (`limit_reached`), through
    /// the API and through [`ServerState::actions`] alike.
    pub max_processes: Option<usize>,
    /// The daemon registry served under `/daemons` (none: an empty list).
    pub registry: Option<Registry>,
    /// Bounds of the event log: events, and bytes of output lines.
    pub log_events: usize,
    /// See `log_events`.
    pub log_bytes: usize,
    /// Actions to dispatch through; `None`: a new registry. The process actions (with
    /// `max_processes`) are registered on it unless it has a `process.start` already, which
    /// is then used as it is.
    pub actions: Option<Actions>,
    /// Runs the WebSocket event streams on this runtime instead of the serving one. A
    /// daemon gives it low-priority threads, so fanning events out to many clients never
    /// takes CPU from the processes it supervises (or from the tasks reading their output).
    pub stream_runtime: Option<tokio::runtime::Handle>,
    /// Runs pipelines (the scheduler, each step's task, and the tasks of the processes the
    /// steps start) on this runtime instead of the serving one. A pipeline of thousands of
    /// steps keeps a runtime busy spawning and reaping; on its own threads it cannot delay
    /// the API (`/health` included) behind that work.
    pub pipeline_runtime: Option<tokio::runtime::Handle>,
    /// The daemon's state directory: projects are saved in `projects/`, records of finished
    /// processes in `records/`, output in `logs/`. `None`: nothing is kept on disk.
    pub state_dir: Option<PathBuf>,
    /// How long a web UI login code stays good
    /// ([`LOGIN_CODE_LIFETIME`](crate::LOGIN_CODE_LIFETIME), 60 s; tests shorten it).
    pub login_code_lifetime: std::time::Duration,
}

impl ServerConfig {
    /// Defaults for a server bound to `bound` with `token`.
    pub fn new(token: impl Into<String>, bound: SocketAddr) -> Self {
        Self {
            token: token.into(),
            bound,
            check_host: true,
            extra_hosts: Vec::new(),
            max_processes: None,
            registry: None,
            log_events: DEFAULT_LOG_EVENTS,
            log_bytes: DEFAULT_LOG_BYTES,
            actions: None,
            stream_runtime: None,
            pipeline_runtime: None,
            state_dir: None,
            login_code_lifetime: crate::LOGIN_CODE_LIFETIME,
        }
    }
}

impl ServerState {
    /// State for a server bound to `bound`, requiring `token`, with default limits. Must be
    /// called inside a Tokio runtime: it starts the task that feeds the event log.
    pub fn new(service: Service, token: impl Into<String>, bound: SocketAddr) -> Self {
        Self::with_config(service, ServerConfig::new(token, bound))
    }

    /// State from a full [`ServerConfig`]. Must be called inside a Tokio runtime.
    pub fn with_config(service: Service, config: ServerConfig) -> Self {
        let actions = config.actions.unwrap_or_default();
        // The limit is the actions' own rule, so every caller of them obeys it.
        if !actions.is_registered("process.start") {
            actions::register_process_actions_limited(
                &actions,
                service.clone(),
                config.max_processes,
            );
        }
        let log = EventLog::new(config.log_events, config.log_bytes);
        log.follow(&service);
        crate::output_lines::register(&actions, service.clone(), log.clone());
        let records = config
            .state_dir
            .as_deref()
            .and_then(|dir| crate::records::keep(dir, &service, &actions));
        // The daemon and pipeline routes go through actions too; the server owns these.
        crate::daemon_actions::register(&actions, config.registry.clone());
        let host = PipelineHost {
            pipelines: Pipelines::default(),
            service: service.clone(),
            log: log.clone(),
            max_processes: config.max_processes,
            runtime: config.pipeline_runtime,
        };
        // Projects run their steps as pipelines of the same host.
        let projects = crate::projects::Projects::new(host.clone(), config.state_dir.clone());
        crate::projects::actions::register(&actions, projects);
        crate::pipelines::actions::register(&actions, host);
        let port = config.bound.port();
        let mut hosts = vec![config.bound.to_string()];
        if config.bound.ip().is_loopback() {
            hosts.push(format!("localhost:{port}"));
            if config.bound.is_ipv4() {
                hosts.push(format!("127.0.0.1:{port}"));
            } else {
                hosts.push(format!("[::1]:{port}"));
            }
        }
        hosts.extend(config.extra_hosts);
        hosts.dedup();
        let origins = hosts.iter().map(|h| format!("http://{h}")).collect();
        Self {
            inner: Arc::new(StateInner {
                service,
                actions,
                log,
                token: config.token,
                hosts,
                origins,
                check_host: config.check_host,
                ready: AtomicBool::new(true),
                metrics: Metrics::default(),
                stream_runtime: config.stream_runtime,
                records,
                sessions: crate::ui::Sessions::new(config.login_code_lifetime),
            }),
        }
    }

    /// The supervised service.
    pub fn service(&self) -> &Service {
        &self.inner.service
    }

    /// The actions the routes dispatch through.
    pub fn actions(&self) -> &Actions {
        &self.inner.actions
    }

    /// The event log behind `/events` and `output?since=`.
    pub fn event_log(&self) -> &EventLog {
        &self.inner.log
    }

    /// Sets what `/ready` answers (ready from the start; a daemon sets it false while
    /// stopping).
    pub fn set_ready(&self, ready: bool) {
        self.inner.ready.store(ready, Ordering::SeqCst);
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.inner.ready.load(Ordering::SeqCst)
    }
}

/// The default state directory: `$XDG_STATE_HOME/tend`, else `~/.local/state/tend`.
pub fn default_state_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("tend"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| PathBuf::from(home).join(".local/state/tend"))
}
