//! `tend restart NAME...`: restart managed processes and project services.
//!
//! A service is restarted by its project (its stop signal and grace, then started again and
//! probed as its file says); an ad-hoc process that runs is stopped (SIGTERM, `--grace`,
//! SIGKILL) and started again at once on the same record (same id, one restart more); a
//! finished one is started again as a new process with the same options. One line each:
//! `restarted web (pid 123 → 456)`.

use std::time::Duration;

use clap::Args;
use tend::ProcessInfo;
use tend::wire::RestartRequest;

use super::by_name::{for_each_name, pid, report, start_service};
use super::resolve::Target;
use crate::client::{Client, ClientArgs};
use crate::durations::{millis, parse_duration};

/// Arguments of `tend restart`.
#[derive(Debug, Args)]
pub(crate) struct RestartArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Process ids, unique id prefixes, process names, service names or PROJECT/NAME; each is
    /// restarted in turn.
    #[arg(required = true, value_name = "NAME")]
    names: Vec<String>,
    /// Time between SIGTERM and SIGKILL for an ad-hoc process [default: 5s]. A service stops
    /// with its own stop signal and grace.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    grace: Option<Duration>,
    /// Print each process's info as JSON instead of a line.
    #[arg(long)]
    json: bool,
}

/// Restarts each NAME in order; exit 1 if any failed (after the others).
pub(crate) fn run(args: RestartArgs) -> anyhow::Result<i32> {
    let grace = args.grace;
    let json = args.json;
    for_each_name(&args.client, &args.names, async |client, name, target| {
        let (before, after) = restart(client, target, grace).await?;
        let line = match before.as_ref().and_then(|info| info.pid) {
            Some(old) => format!("restarted {name} (pid {old} → {})", pid(Some(&after))),
            None => format!("restarted {name} (pid {})", pid(Some(&after))),
        };
        report(json, &after, &line)
    })
}

/// Restarts `target`: its process before (as the snapshot saw it) and after.
async fn restart(
    client: &Client,
    target: Target,
    grace: Option<Duration>,
) -> anyhow::Result<(Option<ProcessInfo>, ProcessInfo)> {
    match target {
        Target::Service { project, service, process } => {
            let before = process.map(|p| *p);
            let after =
                start_service(client, &project, &service, "restart", before.as_ref()).await?;
            Ok((before, after))
        }
        Target::Process { key, info } => {
            let request =
                RestartRequest { grace_ms: grace.map(millis), ..RestartRequest::default() };
            let bound =
                grace.unwrap_or(Duration::from_secs(5)).saturating_add(Duration::from_secs(30));
            let after =
                client.process_within("POST", &key, "/restart", Some(&request), bound).await?;
            Ok((info.map(|i| *i), after))
        }
    }
}
