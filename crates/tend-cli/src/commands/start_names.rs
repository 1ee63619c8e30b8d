//! `tend start NAME...` (no `--`): start services and processes the daemon already knows.
//!
//! A service is started by its project (at once, then probed as its file says); one already
//! running is left as it is. An ad-hoc process that has finished is started again as
//! a new process with the same options; one that has not is left as it is. One line each:
//! `started web`, or `web is already running`.

use tend::ProcessInfo;
use tend::wire::RestartRequest;

use super::by_name::{for_each_name, report, start_service};
use super::resolve::Target;
use crate::UsageError;
use crate::client::{Client, ClientArgs};

/// Bound on starting a finished ad-hoc process again (it is finished: no grace to wait for).
const PROCESS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Starts each NAME in order; exit 1 if any failed (after the others).
pub(crate) fn run(client: &ClientArgs, names: &[String], json: bool) -> anyhow::Result<i32> {
    if let Some(flag) = names.iter().find(|name| name.starts_with('-')) {
        return Err(UsageError(format!(
            "`{flag}`: options go before the NAMEs (`tend start [OPTIONS] NAME...`); to start a \
             program, put `--` before it"
        ))
        .into());
    }
    for_each_name(client, names, async |client, name, target| {
        let (info, started) = start(client, name, target).await?;
        let line = if started {
            format!("started {name}")
        } else {
            format!("{name} is already {}", info.status)
        };
        report(json, &info, &line)
    })
}

/// Starts `target` unless it runs; its process, and whether it was started now.
async fn start(client: &Client, name: &str, target: Target) -> anyhow::Result<(ProcessInfo, bool)> {
    match target {
        Target::Service { process: Some(info), .. } | Target::Process { info: Some(info), .. }
            if !info.status.is_finished() =>
        {
            Ok((*info, false))
        }
        Target::Service { project, service, process } => {
            let before = process.map(|p| *p);
            Ok((start_service(client, &project, &service, "start", before.as_ref()).await?, true))
        }
        Target::Process { key, info } => {
            let request = RestartRequest::default();
            let restarted = client
                .process_within("POST", &key, "/restart", Some(&request), PROCESS_TIMEOUT)
                .await
                .map_err(|error| match info {
                    // Nothing by that name: maybe a program was meant.
                    None => anyhow::anyhow!(
                        "{error:#} (to start a program, put `--` before it: `tend start -- \
                         {name} ...`)"
                    ),
                    Some(_) => error,
                })?;
            Ok((restarted, true))
        }
    }
}
