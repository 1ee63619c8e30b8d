//! `tend kill`: SIGKILL a managed process's group.

use clap::Args;

use crate::client::{Client, ClientArgs, block_on, process_path};

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
    let client = Client::new(&args.client)?;
    block_on(client.call("POST", &process_path(&args.id, "/kill"), None))?;
    Ok(0)
}
