//! A complete daemon built from `tend::daemon`: PID file, health server, registry entry.
//!
//! ```text
//! cargo run -p tend --example daemon -- --pid-file /tmp/demo.pid --code demo --name api
//! ```
//!
//! It prints `health: <bound address>` as its first line on stdout, declares itself ready, and
//! on SIGTERM or SIGINT stops cleanly (not ready, unregister, release the PID file, close the
//! health server) and exits 0. If another instance holds the PID file it exits 1 and names the
//! holder's PID. With `--unhealthy-after 10s` its `/health` starts failing after ten seconds,
//! to watch a probe notice.
//!
//! Signal handling lives here, in the program: the library never installs signal handlers.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tend::CancellationToken;
use tend::daemon::{Daemon, DaemonOptions, Registry};
use tokio::signal::unix::{SignalKind, signal};

const USAGE: &str = "usage: daemon [--pid-file PATH] [--health-addr ADDR] [--registry-dir DIR] \
                     [--code CODE] [--name NAME] [--unhealthy-after DURATION]";

/// The command line, parsed by hand to keep the example free of extra dependencies.
struct Args {
    pid_file: Option<PathBuf>,
    health_addr: SocketAddr,
    registry_dir: Option<PathBuf>,
    code: String,
    name: String,
    unhealthy_after: Option<Duration>,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut args = Args {
        pid_file: None,
        health_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        registry_dir: None,
        code: "tend".to_owned(),
        name: "example".to_owned(),
        unhealthy_after: None,
    };
    let mut words = std::env::args().skip(1);
    while let Some(flag) = words.next() {
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        let value = words.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--pid-file" => args.pid_file = Some(value.into()),
            "--health-addr" => {
                args.health_addr =
                    value.parse().map_err(|e| format!("--health-addr {value:?}: {e}"))?;
            }
            "--registry-dir" => args.registry_dir = Some(value.into()),
            "--code" => args.code = value,
            "--name" => args.name = value,
            "--unhealthy-after" => {
                let after = humantime::parse_duration(&value)
                    .map_err(|e| format!("--unhealthy-after {value:?}: {e}"))?;
                args.unhealthy_after = Some(after);
            }
            _ => return Err(format!("unknown flag {flag:?}")),
        }
    }
    Ok(Some(args))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("daemon: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match serve(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("daemon: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> Result<(), String> {
    // Listen for signals before announcing the address, so a SIGTERM sent as soon as the
    // first line is read already means "stop cleanly".
    let mut terminate = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;

    let registry = match args.registry_dir {
        Some(dir) => Registry::new(dir),
        None => Registry::from_env().map_err(|e| e.to_string())?,
    };
    let mut options =
        DaemonOptions::new().health_addr(args.health_addr).register(registry, args.code, args.name);
    if let Some(path) = args.pid_file {
        options = options.pid_file(path);
    }
    if let Some(after) = args.unhealthy_after {
        let started = Instant::now();
        options = options.check("uptime", move || async move {
            if started.elapsed() >= after {
                Err(format!("failing since {} after start", humantime::format_duration(after)))
            } else {
                Ok(())
            }
        });
    }

    let daemon = Daemon::start(options).await.map_err(|e| e.to_string())?;
    let addr = daemon.health_addr().expect("the example always runs a health server");
    println!("health: {addr}");
    daemon.set_ready(true);

    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        };
        eprintln!("daemon: {name} received, stopping");
        on_signal.cancel();
    });
    daemon.run(cancel).await.map_err(|e| e.to_string())?;
    eprintln!("daemon: stopped");
    Ok(())
}
