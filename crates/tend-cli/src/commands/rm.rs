//! `tend rm`: remove a finished process's record from the daemon.

use clap::Args;

use crate::client::{Client, ClientArgs, block_on, process_path};

/// Arguments of `tend rm`.
#[derive(Debug, Args)]
pub(crate) struct RmArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Id, unique id prefix or name.
    id: String,
}

/// Removes it; a running process is refused (stop it first).
pub(crate) fn run(args: RmArgs) -> anyhow::Result<i32> {
    let client = Client::new(&args.client)?;
    block_on(client.call("DELETE", &process_path(&args.id, ""), None))?;
    Ok(0)
}
