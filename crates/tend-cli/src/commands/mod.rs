//! One module per subcommand.

mod by_name;
pub(crate) mod close_stdin;
pub(crate) mod completions;
pub(crate) mod daemon;
pub(crate) mod daemons;
pub(crate) mod down;
pub(crate) mod export;
mod follow;
pub(crate) mod health;
pub(crate) mod import;
pub(crate) mod input;
pub(crate) mod kill;
pub(crate) mod logs;
mod logs_json;
pub(crate) mod man;
pub(crate) mod probe;
pub(crate) mod procs;
pub(crate) mod ps;
pub(crate) mod reload;
mod resolve;
pub(crate) mod restart;
mod restart_markers;
pub(crate) mod rm;
pub(crate) mod run;
pub(crate) mod signal;
pub(crate) mod start;
mod start_names;
pub(crate) mod stop;
mod systemd_unit;
pub(crate) mod ui;
pub(crate) mod up;
pub(crate) mod wait;

use crate::cli::Command;

/// Runs a parsed subcommand and returns the exit code.
pub(crate) fn dispatch(command: Command) -> anyhow::Result<i32> {
    match command {
        Command::Run(args) => run::run(args),
        Command::Procs(args) => procs::run(args),
        Command::Daemons(args) => daemons::run(args),
        Command::Health(args) => health::run(args),
        Command::Up(args) => up::run(args),
        Command::Daemon(args) => daemon::run(args),
        Command::Down(args) => down::run(args),
        Command::Reload(args) => reload::run(args),
        Command::Start(args) => start::run(args),
        Command::Ps(args) => ps::run(args),
        Command::Logs(args) => logs::run(args),
        Command::Kill(args) => kill::run(args),
        Command::Stop(args) => stop::run(args),
        Command::Restart(args) => restart::run(args),
        Command::Signal(args) => signal::run(args),
        Command::Input(args) => input::run(args),
        Command::CloseStdin(args) => close_stdin::run(args),
        Command::Rm(args) => rm::run(args),
        Command::Wait(args) => wait::run(args),
        Command::Probe(args) => probe::run(args),
        Command::Export(args) => export::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
        Command::Ui(args) => ui::run(args),
        Command::Import(args) => import::run(args),
    }
}
