//! `tend close-stdin`: close a managed process's stdin (it reads end-of-file).

use clap::Args;

use crate::client::{Client, ClientArgs, block_on, process_path};

/// Arguments of `tend close-stdin`.
#[derive(Debug, Args)]
pub(crate) struct CloseStdinArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Id, unique id prefix or name.
    id: String,
}

/// Closes it.
pub(crate) fn run(args: CloseStdinArgs) -> anyhow::Result<i32> {
    let client = Client::new(&args.client)?;
    block_on(client.call("POST", &process_path(&args.id, "/close-stdin"), None))?;
    Ok(0)
}
