//! `tend wait`: wait for a managed process to end; exit with its status as `tend run` does.

use std::time::Duration;

use clap::Args;
use tend::ProcessInfo;

use crate::client::{Client, ClientArgs, NO_BODY, block_on, process_path};

/// How long one wait request may last before the client asks again.
const ROUND: Duration = Duration::from_secs(20);

/// Arguments of `tend wait`.
#[derive(Debug, Args)]
pub(crate) struct WaitArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Id, unique id prefix or name.
    id: String,
    /// Print the final info as JSON (the exit status stays the process's).
    #[arg(long)]
    json: bool,
}

/// Exit: its shell status, as `tend run` exits ([`ProcessInfo::shell_status`]: its code,
/// 128+N for signal N, 124 if its timeout ended it, 127 or 126 if it could not start).
pub(crate) fn run(args: WaitArgs) -> anyhow::Result<i32> {
    let client = Client::new(&args.client)?;
    block_on(async {
        let path = process_path(&args.id, &format!("/wait?timeout={}ms", ROUND.as_millis()));
        loop {
            // Bounded rounds, so the connection never sits idle for hours.
            let info: ProcessInfo =
                client.call_within("POST", &path, NO_BODY, ROUND + Duration::from_secs(30)).await?;
            if info.status.is_finished() {
                if args.json {
                    crate::json_output::print(&info)?;
                }
                return Ok(info.shell_status());
            }
        }
    })
}
