//! One module per subcommand.

pub(crate) mod daemons;
pub(crate) mod health;
pub(crate) mod procs;
pub(crate) mod run;
pub(crate) mod up;

use crate::cli::Command;

/// Runs a parsed subcommand and returns the exit code.
pub(crate) fn dispatch(command: Command) -> anyhow::Result<i32> {
    match command {
        Command::Run(args) => run::run(args),
        Command::Procs(args) => procs::run(args),
        Command::Daemons(args) => daemons::run(args),
        Command::Health(args) => health::run(args),
        Command::Up(args) => up::run(args),
    }
}
