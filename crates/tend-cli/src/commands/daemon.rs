//! `tend daemon`: the supervisor daemon serving the REST + WebSocket API.
//!
//! Start order: PID file (a second daemon stops here, naming the holder), token, listener,
//! registry entry, then serve and tell systemd it is ready. SIGTERM or SIGINT stops it in the
//! reverse order: stop accepting, shut every non-detached managed process down gracefully,
//! unregister, release the PID file, exit 0.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use tend::Service;
use tend::daemon::{Daemon, DaemonEntry, DaemonOptions, Registry};
use tend_server::{ServerConfig, ServerState};
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use crate::UsageError;

/// The registry entry's code and daemon name.
pub(crate) const REGISTRY_CODE: &str = "tend";
/// See [`REGISTRY_CODE`].
pub(crate) const REGISTRY_DAEMON: &str = "supervisor";
/// The default listen address.
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:7420";

/// Arguments of `tend daemon`.
#[derive(Debug, Args)]
pub(crate) struct DaemonArgs {
    /// Address to serve on (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    pub(crate) listen: SocketAddr,
    /// Allow a --listen address that is not loopback (the API then answers the network).
    #[arg(long)]
    pub(crate) allow_remote: bool,
    /// State directory: token and PID file [default: $XDG_STATE_HOME/tend, else
    /// ~/.local/state/tend].
    #[arg(long, value_name = "DIR")]
    pub(crate) state_dir: Option<PathBuf>,
    /// The daemon registry directory [default: $TEND_REGISTRY_DIR, else ~/.core/daemons].
    #[arg(long, value_name = "DIR")]
    pub(crate) registry_dir: Option<PathBuf>,
    /// At most this many running managed processes; API starts beyond get 429.
    #[arg(long, value_name = "N")]
    pub(crate) max_processes: Option<usize>,
    /// How long managed processes get to exit after SIGTERM when the daemon stops.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = crate::durations::parse_duration)]
    pub(crate) grace: Duration,
}

/// The state directory from the flag or the environment.
pub(crate) fn state_dir(flag: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    flag.or_else(tend_server::default_state_dir).ok_or_else(|| {
        UsageError("no state directory: pass --state-dir, or set XDG_STATE_HOME or HOME".into())
            .into()
    })
}

/// Runs the daemon until SIGTERM or SIGINT; exit 0 after a clean stop.
pub(crate) fn run(args: DaemonArgs) -> anyhow::Result<i32> {
    if !args.listen.ip().is_loopback() && !args.allow_remote {
        return Err(UsageError(format!(
            "--listen {}: not a loopback address; add --allow-remote to serve the network",
            args.listen
        ))
        .into());
    }
    let state_dir = state_dir(args.state_dir.clone())?;
    let registry = match &args.registry_dir {
        Some(dir) => Registry::new(dir),
        None => Registry::from_env().map_err(|e| UsageError(e.to_string()))?,
    };
    // Escaped descendants are adopted, and killed with the rest at stop (`Service::shutdown`)
    // or by the guardian if the daemon dies.
    crate::containment::contain_descendants();
    // Thousands of managed processes need thousands of pipe descriptors.
    if let Err(error) = tend::raise_open_file_limit() {
        eprintln!("tend: warning: cannot raise the open-file limit: {error}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    // WebSocket fan-out runs on threads of the lowest priority: however many clients
    // subscribe, the children and the tasks draining their pipes come first.
    let streams = tokio::runtime::Builder::new_multi_thread()
        .thread_name("tend-stream")
        .worker_threads(2)
        .enable_all()
        .on_thread_start(|| {
            let _ = tend::set_thread_nice(19);
        })
        .build()?;
    let code = runtime.block_on(serve(args, state_dir, registry, streams.handle().clone()));
    streams.shutdown_background();
    code
}

async fn serve(
    args: DaemonArgs,
    state_dir: PathBuf,
    registry: Registry,
    streams: tokio::runtime::Handle,
) -> anyhow::Result<i32> {
    // Handlers first: a signal from here on stops the daemon cleanly instead of killing it.
    let mut terminate = signal(SignalKind::terminate()).context("install the SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("install the SIGINT handler")?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&state_dir)
        .with_context(|| format!("cannot create the state directory {}", state_dir.display()))?;
    let mut daemon = Daemon::start(DaemonOptions::new().pid_file(state_dir.join("tend.pid")))
        .await
        .context("cannot take the PID file (is another tend daemon running?)")?;
    let token =
        tend_server::load_or_create_token(&state_dir).context("cannot set up the API token")?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let bound = listener.local_addr()?;

    let mut entry = DaemonEntry::for_current_process(REGISTRY_CODE, REGISTRY_DAEMON);
    entry.health = Some(bound.to_string());
    let (writer, written) = (registry.clone(), entry.clone());
    tokio::task::spawn_blocking(move || writer.register(&written))
        .await?
        .context("cannot register in the daemon registry")?;

    let service = Service::new();
    let mut config = ServerConfig::new(token, bound);
    config.max_processes = args.max_processes;
    config.registry = Some(registry.clone());
    config.stream_runtime = Some(streams);
    // Serving the network, clients name the host however they reach it.
    config.check_host = bound.ip().is_loopback();
    let state = ServerState::with_config(service.clone(), config);
    let stop = CancellationToken::new();
    let stopping = stop.clone();
    let server = tokio::spawn(
        axum::serve(listener, tend_server::router(state.clone()))
            .with_graceful_shutdown(async move { stopping.cancelled().await })
            .into_future(),
    );
    println!("listening on http://{bound}");
    daemon.set_ready(true);

    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    state.set_ready(false);
    stop.cancel();
    service.shutdown(args.grace).await;
    // Open WebSockets and long waits do not hold the stop up for long.
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    let unregister =
        tokio::task::spawn_blocking(move || registry.unregister(REGISTRY_CODE, REGISTRY_DAEMON))
            .await?;
    daemon.stop().await.context("releasing the PID file")?;
    unregister.context("cannot remove the registry entry")?;
    Ok(0)
}
