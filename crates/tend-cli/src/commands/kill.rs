//! `tend kill`: SIGKILL a managed process's group.

use clap::Args;

use crate::client::{ClientArgs, process_call};

/// Arguments of `tend kill`.
#[derive(Debug, Args)]
pub(crate) struct KillArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Id, unique id prefix or name.
    id: String,
}

/// Kills it; already ended is fine.
pub(crate) fn run(args: KillArgs) -> anyhow::Result<i32> {
    process_call(&args.client, "POST", &args.id, "/kill", None)?;
    Ok(0)
}
