//! `tend wait`: wait for a managed process to end; exit with its status as `tend run` does.

use std::time::Duration;

use clap::Args;

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

/// Exit: its code, 128+N for signal N, 124 if its timeout ended it, 127 if it could not
/// start.
pub(crate) fn run(args: WaitArgs) -> anyhow::Result<i32> {
    let client = Client::new(&args.client)?;
    block_on(async {
        let path = process_path(&args.id, &format!("/wait?timeout={}ms", ROUND.as_millis()));
        loop {
            // Bounded rounds, so the connection never sits idle for hours.
            let info: serde_json::Value =
                client.call_within("POST", &path, NO_BODY, ROUND + Duration::from_secs(30)).await?;
            if matches!(info["status"].as_str(), Some("running" | "pending")) {
                continue;
            }
            if args.json {
                crate::json_output::print(&info)?;
            }
            return Ok(exit_code(&info));
        }
    })
}

fn exit_code(info: &serde_json::Value) -> i32 {
    if info["reason"] == "timeout" {
        return 124;
    }
    if let Some(code) = info["exit_code"].as_i64() {
        return code as i32;
    }
    if let Some(signal) = info["signal"].as_str().and_then(|s| s.parse::<tend::Signal>().ok()) {
        return 128 + signal.number();
    }
    // No code and no signal: it could not be started.
    127
}
