//! The top-level command line: global shape and the list of subcommands.

use clap::{Parser, Subcommand};

use crate::commands;

/// `tend --version`: the version, the git commit built from (`-dirty` when its tracked files
/// had changes; `unknown` outside a git checkout) and the cargo features, from `build.rs`.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("TEND_BUILD_COMMIT"),
    ", features: ",
    env!("TEND_BUILD_FEATURES"),
    ")"
);

/// tend: supervise processes, run pipelines, keep services alive.
///
/// Every command has --help. Durations are written like 500ms, 2s or 1m30s.
#[derive(Debug, Parser)]
#[command(name = "tend", version = VERSION, propagate_version = true)]
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
    /// Run a stack file or Procfile: steps and services in dependency order, output prefixed,
    /// a summary at the end.
    Up(commands::up::UpArgs),
    /// Run the supervisor daemon: the REST + WebSocket API on 127.0.0.1:7420.
    Daemon(commands::daemon::DaemonArgs),
    /// Take a project on the daemon down (`tend up -d` started it): its services stopped in
    /// reverse dependency order, the project forgotten.
    Down(commands::down::DownArgs),
    /// Re-read a project's file and apply the difference on the daemon: services added,
    /// removed, restarted when changed, unchanged ones left running.
    Reload(commands::reload::ReloadArgs),
    /// Start a process in the daemon and print its id (`-- PROGRAM`), or start services and
    /// processes it knows by name.
    Start(commands::start::StartArgs),
    /// List the daemon's managed processes.
    Ps(commands::ps::PsArgs),
    /// Print a managed process's output (`-f` follows it).
    Logs(commands::logs::LogsArgs),
    /// Kill a managed process (its whole group).
    Kill(commands::kill::KillArgs),
    /// Stop managed processes or project services gracefully, by name.
    Stop(commands::stop::StopArgs),
    /// Restart managed processes or project services, by name.
    Restart(commands::restart::RestartArgs),
    /// Send a signal to a managed process.
    Signal(commands::signal::SignalArgs),
    /// Write to a managed process's stdin.
    Input(commands::input::InputArgs),
    /// Close a managed process's stdin.
    CloseStdin(commands::close_stdin::CloseStdinArgs),
    /// Remove a finished process's record.
    Rm(commands::rm::RmArgs),
    /// Wait for a managed process to end and exit with its status.
    Wait(commands::wait::WaitArgs),
    /// Wait until a TCP port accepts, an HTTP URL answers 2xx or a command exits 0.
    Probe(commands::probe::ProbeArgs),
    /// Write a stack file as systemd units, Kubernetes manifests or a Nomad job.
    Export(commands::export::ExportArgs),
    /// Print the shell completion script for bash, zsh, fish, elvish or powershell.
    Completions(commands::completions::CompletionsArgs),
    /// Write a man page per command into a directory.
    Man(commands::man::ManArgs),
    /// Print a one-time login link for the daemon's web UI (`--open` opens it).
    Ui(commands::ui::UiArgs),
    /// Turn a process-compose.yaml, supervisord.conf or PM2 ecosystem file into a tend.toml.
    Import(commands::import::ImportArgs),
}
