//! The top-level command line: global shape and the list of subcommands.

use clap::{Parser, Subcommand};

use crate::commands;

/// tend: supervise processes, run pipelines, keep services alive.
///
/// Every command has --help. Durations are written like 500ms, 2s or 1m30s.
#[derive(Debug, Parser)]
#[command(name = "tend", version, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Every subcommand; each variant's arguments live in the command's own module.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run one program under supervision and exit with its status.
    Run(commands::run::RunArgs),
    /// List the host's processes (all of them, not only managed ones).
    Procs(commands::procs::ProcsArgs),
    /// List the running daemons in the registry (stale entries are pruned).
    Daemons(commands::daemons::DaemonsArgs),
    /// Wait until a daemon's health server answers healthy (or ready).
    Health(commands::health::HealthArgs),
    /// Run a pipeline file: steps with dependencies, output prefixed, a summary at the end.
    Up(commands::up::UpArgs),
}
