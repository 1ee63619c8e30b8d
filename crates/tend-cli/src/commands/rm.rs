//! `tend rm`: remove a finished process's record from the daemon.

use clap::Args;

use crate::client::{ClientArgs, process_call};

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
    process_call(&args.client, "DELETE", &args.id, "", None)?;
    Ok(0)
}
