//! `tend stop`: stop a managed process gracefully (SIGTERM, grace, SIGKILL).
//!
//! It prints how the process ended: `stopped` when it ended on its stop signal within the
//! grace period, `killed` only when SIGKILL ended it, else the status it had already
//! (`exited` or `failed` for one that ended by itself before).

use std::time::Duration;

use clap::Args;
use tend::wire::StopRequest;
use tend::{ProcessInfo, Signal, Status};

use crate::client::{Client, ClientArgs, block_on};
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
    /// Print the process's info as JSON instead of its status.
    #[arg(long)]
    json: bool,
}

/// Returns once it has ended; prints its final status (its final info with `--json`).
pub(crate) fn run(args: StopArgs) -> anyhow::Result<i32> {
    let client = Client::new(&args.client)?;
    let request = StopRequest { grace_ms: args.grace.map(millis), ..StopRequest::default() };
    // The daemon waits through the grace period before answering.
    let bound =
        args.grace.unwrap_or(Duration::from_secs(5)).saturating_add(Duration::from_secs(30));
    let stop = client.process_within("POST", &args.id, "/stop", Some(&request), bound);
    let info: ProcessInfo = block_on(stop)?;
    if args.json {
        crate::json_output::print(&info)?;
    } else {
        println!("{}", outcome(&info));
    }
    Ok(0)
}

/// The word for how the stopped process ended; see the module docs.
fn outcome(info: &ProcessInfo) -> String {
    match (info.status, info.signal) {
        (Status::Killed, Some(Signal::KILL)) => "killed".to_owned(),
        (Status::Killed, _) => "stopped".to_owned(),
        (status, _) => status.to_string(),
    }
}
