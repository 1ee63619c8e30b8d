//! `tend stop NAME...`: stop managed processes gracefully (SIGTERM, grace, SIGKILL) and
//! project services (each with its own stop signal and grace).
//!
//! It prints how each process ended: `stopped` when it ended on its stop signal within the
//! grace period, `killed` only when SIGKILL ended it, else the status it had already
//! (`exited` or `failed` for one that ended by itself before). With one NAME that word is the
//! whole line, as it always was; with several, each line names its NAME (`stopped web`).

use std::time::Duration;

use clap::Args;
use tend::wire::StopRequest;
use tend::{ProcessInfo, Signal, Status};

use super::by_name::{for_each_name, process_of, report, service_action};
use super::resolve::Target;
use crate::client::ClientArgs;
use crate::durations::{millis, parse_duration};

/// Arguments of `tend stop`.
#[derive(Debug, Args)]
pub(crate) struct StopArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Process ids, unique id prefixes, process names, service names or PROJECT/NAME; each is
    /// stopped in turn.
    #[arg(required = true, value_name = "NAME")]
    names: Vec<String>,
    /// Time between SIGTERM and SIGKILL (100 years or more: never SIGKILL). A service stops
    /// with its own stop signal and grace.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    grace: Option<Duration>,
    /// Print the process's info as JSON instead of its status.
    #[arg(long)]
    json: bool,
}

/// Returns once each has ended; prints its final status (its final info with `--json`).
pub(crate) fn run(args: StopArgs) -> anyhow::Result<i32> {
    let request = StopRequest { grace_ms: args.grace.map(millis), ..StopRequest::default() };
    // The daemon waits through the grace period before answering.
    let bound =
        args.grace.unwrap_or(Duration::from_secs(5)).saturating_add(Duration::from_secs(30));
    let several = args.names.len() > 1;
    let json = args.json;
    for_each_name(&args.client, &args.names, async |client, name, target| {
        let info: ProcessInfo = match target {
            Target::Service { project, service, .. } => {
                process_of(&service, service_action(client, &project, &service, "stop").await?)?
            }
            Target::Process { key, .. } => {
                client.process_within("POST", &key, "/stop", Some(&request), bound).await?
            }
        };
        let word = outcome(&info);
        report(json, &info, &if several { format!("{word} {name}") } else { word })
    })
}

/// The word for how the stopped process ended; see the module docs.
fn outcome(info: &ProcessInfo) -> String {
    match (info.status, info.signal) {
        (Status::Killed, Some(Signal::KILL)) => "killed".to_owned(),
        (Status::Killed, _) => "stopped".to_owned(),
        (status, _) => status.to_string(),
    }
}
