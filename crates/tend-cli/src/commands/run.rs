//! `tend run`: one program under supervision.

use clap::Args;

/// Arguments of `tend run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The program and its arguments.
    #[arg(required = true, last = true)]
    pub(crate) command: Vec<String>,
}

pub(crate) fn run(args: RunArgs) -> anyhow::Result<i32> {
    anyhow::bail!("`tend run {}`: not built yet", args.command.join(" "))
}
