//! `tend kill`: SIGKILL a managed process's group.

use clap::Args;
use tend::ProcessInfo;

use crate::client::{ClientArgs, NO_BODY, process_call};

/// Arguments of `tend kill`.
#[derive(Debug, Args)]
pub(crate) struct KillArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Id, unique id prefix or name.
    id: String,
    /// Print the process's info as JSON (by default it prints nothing).
    #[arg(long)]
    json: bool,
}

/// Kills it; already ended is fine. With `--json`, prints the process's info.
pub(crate) fn run(args: KillArgs) -> anyhow::Result<i32> {
    let info: ProcessInfo = process_call(&args.client, "POST", &args.id, "/kill", NO_BODY)?;
    if args.json {
        crate::json_output::print(&info)?;
    }
    Ok(0)
}
