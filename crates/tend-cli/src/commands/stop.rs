//! `tend stop`: stop a managed process gracefully (SIGTERM, grace, SIGKILL).

use std::time::Duration;

use clap::Args;
use serde_json::json;

use crate::client::{Client, ClientArgs, block_on, process_path};
use crate::durations::{millis, parse_duration};

/// Arguments of `tend stop`.
#[derive(Debug, Args)]
pub(crate) struct StopArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Id, unique id prefix or name.
    id: String,
    /// Time between SIGTERM and SIGKILL (100 years or more: never SIGKILL).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    grace: Option<Duration>,
}

/// Returns once it has ended; prints its final status.
pub(crate) fn run(args: StopArgs) -> anyhow::Result<i32> {
    let client = Client::new(&args.client)?;
    let body = args.grace.map(|grace| json!({ "grace_ms": millis(grace) }));
    // The daemon waits through the grace period before answering.
    let bound =
        args.grace.unwrap_or(Duration::from_secs(5)).saturating_add(Duration::from_secs(30));
    let info = block_on(client.call_within("POST", &process_path(&args.id, "/stop"), body, bound))?;
    println!("{}", info["status"].as_str().unwrap_or_default());
    Ok(0)
}
