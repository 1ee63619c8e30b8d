//! `tend rm`: remove a finished process's record from the daemon.

use clap::Args;
use tend::ProcessInfo;

use crate::client::{ClientArgs, NO_BODY, process_call};

/// Arguments of `tend rm`.
#[derive(Debug, Args)]
pub(crate) struct RmArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Id, unique id prefix or name.
    id: String,
    /// Print the process's info as JSON (by default it prints nothing).
    #[arg(long)]
    json: bool,
}

/// Removes it; a running process is refused (stop it first). With `--json`, prints the process's info.
pub(crate) fn run(args: RmArgs) -> anyhow::Result<i32> {
    let info: ProcessInfo = process_call(&args.client, "DELETE", &args.id, "", NO_BODY)?;
    if args.json {
        crate::json_output::print(&info)?;
    }
    Ok(0)
}
