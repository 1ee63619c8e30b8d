//! `tend daemon`: the supervisor daemon serving the REST + WebSocket API.
//!
//! Start order: state directory (0700, see `state_dir`), PID file (a second daemon stops here,
//! naming the holder), token, listener, address file and registry entry, then serve and tell
//! systemd it is ready. SIGTERM or SIGINT stops it in the reverse order: stop accepting, shut
//! every non-detached managed process down gracefully, withdraw the address file and registry
//! entry, release the PID file, exit 0.
//!
//! Bounds, so that no client (with a token or without) can wedge or starve it: at most
//! `--max-connections` connections (a quarter of the open-file limit by default, which `tend`
//! raises to the hard limit at start), each closed when it has not sent a request's head
//! within `--header-timeout` (5 s) of waiting for one, bodies of 1 MiB within 10 s (see
//! [`tend_server::serve`]); `--max-finished` finished records (410 `evicted` beyond). Pipelines
//! run on their own runtime, so the API answers while thousands of steps start and end.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use tend::daemon::{Daemon, DaemonOptions, Registry};
use tend::{Service, ServiceConfig};
use tend_server::{ServeOptions, ServerConfig, ServerState};
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use crate::UsageError;

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
    /// State directory: token, address and PID file, kept 0700 (a more open one is narrowed,
    /// with a warning) [default: $XDG_STATE_HOME/tend, else ~/.local/state/tend].
    #[arg(long, value_name = "DIR")]
    pub(crate) state_dir: Option<PathBuf>,
    /// The daemon registry directory [default: $TEND_REGISTRY_DIR, else ~/.core/daemons].
    #[arg(long, value_name = "DIR")]
    pub(crate) registry_dir: Option<PathBuf>,
    /// At most this many managed processes running or queued; API starts beyond get 429.
    #[arg(long, value_name = "N")]
    pub(crate) max_processes: Option<usize>,
    /// At most this many managed processes run at once; starts beyond are queued (status
    /// `queued`, listed by `tend ps`) and started in submission order as running ones end.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) max_running: Option<u64>,
    /// At most this many events are kept for replay (`/events?since=`, output pages); older
    /// ones are evicted first. Each costs a few hundred bytes.
    #[arg(long, value_name = "N", default_value_t = tend_server::DEFAULT_LOG_EVENTS)]
    pub(crate) log_events: usize,
    /// How long managed processes get to exit after SIGTERM when the daemon stops.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = crate::durations::parse_duration)]
    pub(crate) grace: Duration,
    /// At most this many open API connections [default: a quarter of the open-file limit,
    /// 16 to 4096]. At the bound a new connection closes the longest-idle one; when all are
    /// busy it gets 503 and is closed at once.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max_connections: Option<u32>,
    /// A connection must send a request's complete head within this of waiting for one
    /// (after connecting, or after the previous response): this closes silent, idle and
    /// slowloris connections. Request bodies have 10s.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_header_timeout)]
    pub(crate) header_timeout: Duration,
    /// Finished processes whose records are kept (older ones are dropped, by end time;
    /// running ones never are). The ids of dropped ones answer 410 `evicted` (the last
    /// 65,536 are remembered), others 404.
    #[arg(long, value_name = "N", default_value_t = tend::DEFAULT_MAX_FINISHED)]
    pub(crate) max_finished: usize,
    /// Start the daemon in the background (a session of its own, output appended to
    /// STATE_DIR/daemon.log), print `listening on http://ADDR` once it serves, and exit.
    #[arg(long)]
    pub(crate) detach: bool,
    /// Print a systemd unit (`Type=notify`) that runs this daemon, this binary with this
    /// state directory and these options, and exit without starting one.
    #[arg(long)]
    pub(crate) print_systemd_unit: bool,
    /// With --print-systemd-unit: a user unit (`systemctl --user`), not a system one.
    #[arg(long, requires = "print_systemd_unit")]
    pub(crate) user: bool,
    /// Do not bring the projects saved in the state directory back up at start (they stay
    /// saved: `tend up -d` or a later start without this flag applies them).
    #[arg(long)]
    pub(crate) no_resume: bool,
    /// Size at which the log file of a process started without one of its own
    /// (`STATE_DIR/logs/ID.log`) is rotated, at a line boundary.
    #[arg(long, value_name = "SIZE", default_value = "10MiB", value_parser = tend::ByteSize::parse_positive)]
    pub(crate) log_max_size: tend::ByteSize,
    /// Rotated log files kept per process (`ID.log.1` … `ID.log.N`; 0 keeps only the live one).
    #[arg(long, value_name = "N", default_value_t = tend::logfile::DEFAULT_KEEP)]
    pub(crate) log_keep: u32,
    /// For benchmarks only: keep the pages of code the start used mapped (they are let go
    /// once the daemon serves; `scripts/bench-idle-rss.sh` compares both).
    #[arg(long, hide = true)]
    pub(crate) keep_start_pages: bool,
    /// For tests only: how long a web UI login code stays good (60s otherwise).
    #[arg(long, hide = true, value_name = "DURATION", value_parser = crate::durations::parse_duration)]
    pub(crate) ui_code_lifetime: Option<Duration>,
}

/// A `--header-timeout`: a duration from 1 ms to one hour.
fn parse_header_timeout(text: &str) -> Result<Duration, String> {
    let duration = crate::durations::parse_duration(text)?;
    if duration < Duration::from_millis(1) || duration > Duration::from_secs(3600) {
        return Err(format!("`{text}`: must be between 1ms and 1h"));
    }
    Ok(duration)
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
    if args.print_systemd_unit {
        return super::systemd_unit::print(&args, args.user);
    }
    let state_dir = state_dir(args.state_dir.clone())?;
    if args.detach {
        return crate::client::autostart::detach(&state_dir);
    }
    let registry = match &args.registry_dir {
        Some(dir) => Registry::new(dir),
        None => Registry::from_env().map_err(|e| UsageError(e.to_string()))?,
    };
    // (`main_impl` has raised the open-file limit: the connection bound derives from it.)
    // Escaped descendants are adopted, and killed with the rest at stop (`Service::shutdown`)
    // or by the guardian if the daemon dies.
    crate::containment::contain_descendants();
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
    // Pipelines get their own threads (normal priority: their children inherit it), so that
    // thousands of steps being spawned and reaped never queue the API behind them.
    let pipelines = tokio::runtime::Builder::new_multi_thread()
        .thread_name("tend-pipeline")
        .worker_threads(2)
        .enable_all()
        .build()?;
    let runtimes =
        Runtimes { streams: streams.handle().clone(), pipelines: pipelines.handle().clone() };
    let code = runtime.block_on(serve(args, state_dir, registry, runtimes));
    pipelines.shutdown_background();
    streams.shutdown_background();
    code
}

/// The runtimes beside the serving one.
struct Runtimes {
    streams: tokio::runtime::Handle,
    pipelines: tokio::runtime::Handle,
}

async fn serve(
    args: DaemonArgs,
    state_dir: PathBuf,
    registry: Registry,
    runtimes: Runtimes,
) -> anyhow::Result<i32> {
    // Handlers first: a signal from here on stops the daemon cleanly instead of killing it.
    let mut terminate = signal(SignalKind::terminate()).context("install the SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("install the SIGINT handler")?;
    let state_dir = crate::state_dir::secure(&state_dir, true)?;
    crate::daemon_log::init();
    let mut daemon = Daemon::start(DaemonOptions::new().pid_file(state_dir.join("tend.pid")))
        .await
        .context("cannot take the PID file")?;
    let token =
        tend_server::load_or_create_token(&state_dir).context("cannot set up the API token")?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let bound = listener.local_addr()?;

    let published = crate::state_dir::publish(&state_dir, &registry, bound)?;

    let service = Service::with_config(ServiceConfig {
        max_finished: args.max_finished,
        max_running: args.max_running.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        log_dir: Some(crate::daemon_log::log_dir(&state_dir, args.log_max_size, args.log_keep)),
        ..ServiceConfig::default()
    });
    let mut config = ServerConfig::new(token, bound);
    config.max_processes = args.max_processes;
    config.log_events = args.log_events;
    config.registry = Some(registry.clone());
    config.stream_runtime = Some(runtimes.streams);
    config.pipeline_runtime = Some(runtimes.pipelines);
    // Serving the network, clients name the host however they reach it.
    config.check_host = bound.ip().is_loopback();
    // Projects, records of finished processes (restored here, before the first request).
    config.state_dir = Some(state_dir.clone());
    if let Some(lifetime) = args.ui_code_lifetime {
        config.login_code_lifetime = lifetime;
    }
    let state = ServerState::with_config(service.clone(), config);
    let stop = CancellationToken::new();
    let stopping = stop.clone();
    let mut bounds = ServeOptions { header_timeout: args.header_timeout, ..Default::default() };
    if let Some(max) = args.max_connections {
        bounds.max_connections = max as usize;
    }
    // CPU and memory per process group for `ps`, the API and /metrics.
    let sampler = tokio::spawn({
        let service = service.clone();
        async move { service.sample_usage_every(tend::usage::DEFAULT_INTERVAL).await }
    });
    let server = tokio::spawn(tend_server::serve(
        listener,
        tend_server::router(state.clone()),
        bounds,
        async move { stopping.cancelled().await },
    ));
    println!("listening on http://{bound}");
    daemon.set_ready(true);
    // Saved projects come back up while the daemon already answers (and can be stopped);
    // then the pages of code the start ran once are let go.
    let resuming = tokio::spawn({
        let (state, state_dir, resume) = (state.clone(), state_dir.clone(), !args.no_resume);
        let release = !args.keep_start_pages;
        async move {
            if resume {
                tend_server::resume_projects(&state, &state_dir).await;
            }
            if release {
                let _ = tokio::task::spawn_blocking(release_start_pages).await;
            }
        }
    });

    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    daemon.begin_stop();
    state.set_ready(false);
    sampler.abort();
    resuming.abort();
    stop.cancel();
    service.shutdown(args.grace).await;
    // Those that ended just now (killed, reason shutdown) are listed after the restart.
    state.save_records().await;
    // Open WebSockets and long waits do not hold the stop up for long.
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    let withdrawn = tokio::task::spawn_blocking(move || published.withdraw()).await?;
    daemon.stop().await.context("releasing the PID file")?;
    withdrawn?;
    Ok(0)
}

/// Lets go of what only the start used: most of the code an idle daemon has touched ran once
/// (argument parsing, configuration, building the router), and the kernel maps up to 16
/// neighbours of every page touched. The pages stay in the page cache and fault back in when
/// used again ([`tend::release_code_pages`]); the allocator's free pages go back too. An idle
/// daemon's resident size drops from about 9 MB to what it then uses (BENCHMARKS.md).
fn release_start_pages() {
    tend::release_free_memory();
    if let Err(error) = tend::release_code_pages() {
        eprintln!("tend daemon: releasing the start's code pages: {error}");
    }
}
