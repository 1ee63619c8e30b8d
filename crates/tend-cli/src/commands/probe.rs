//! `tend probe`: wait until a TCP port accepts, an HTTP URL answers 2xx, or a command exits
//! 0 — the probes of tend.toml's `ready`, on their own (like `wait-for-it`), and what the
//! units `tend export` writes run to wait for a service.

use std::time::Duration;

use clap::{Args, ValueEnum};
use tend::probe::{Probe, Readiness};

use crate::UsageError;
use crate::durations::{human, parse_duration};

/// Arguments of `tend probe`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples: tend probe tcp 127.0.0.1:5432 --timeout 30s; tend probe http \
http://127.0.0.1:8080/health; tend probe exec 'pg_isready -h db'.

Exit status: 0 once the probe succeeded, 1 when the timeout passed first (the last error on \
stderr), 2 for an invalid probe or duration.")]
pub(crate) struct ProbeArgs {
    /// What to ask: `tcp` (a connection to HOST:PORT is accepted), `http` (a GET of URL
    /// answers 2xx; plain http only) or `exec` (`bash -c COMMAND` exits 0).
    #[arg(value_enum, value_name = "KIND")]
    kind: ProbeKind,
    /// HOST:PORT, URL or COMMAND, as the kind says.
    #[arg(value_name = "TARGET")]
    target: String,
    /// Give up after this long, such as 500ms, 30s, 1m (0s, or 100 years or more: never).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    timeout: Duration,
    /// Time between the starts of two checks (at least 10ms).
    #[arg(long, value_name = "DURATION", default_value = "250ms", value_parser = parse_duration)]
    interval: Duration,
}

/// `tend probe`'s kinds: those of `ready` but `log`, which needs a process to read.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum ProbeKind {
    Tcp,
    Http,
    Exec,
}

/// Exits 0 once the probe succeeds, 1 with the last error when the timeout passes first.
pub(crate) fn run(args: ProbeArgs) -> anyhow::Result<i32> {
    let probe = match args.kind {
        ProbeKind::Tcp => Probe::tcp(&args.target),
        ProbeKind::Http => Probe::http(&args.target),
        ProbeKind::Exec => Probe::exec(&args.target),
    }
    .map_err(|error| UsageError(format!("probe: {error}")))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let readiness = Readiness::new(probe).interval(args.interval).timeout(args.timeout);
    let described = readiness.probe().to_string();
    match runtime.block_on(readiness.wait()) {
        Ok(ready) => {
            eprintln!("tend probe: ready after {}: {described}", human(ready.after));
            Ok(0)
        }
        Err(not_ready) => {
            eprintln!("tend probe: {not_ready}");
            Ok(1)
        }
    }
}
