//! `tend reload`: re-read a project's file and apply the difference on the daemon: new
//! services started, removed ones stopped, changed ones restarted with their new definition
//! (in dependency order), unchanged ones left alone (same process, same PID).

use std::path::PathBuf;

use clap::Args;
use tend::wire::ProjectApplied;

use super::up::project_file;
use super::up::settle::{self, project_path};
use crate::client::{Client, ClientArgs, block_on};

/// Arguments of `tend reload`.
#[derive(Debug, Args)]
#[command(after_help = "Exit status: 0 when the project was reloaded and its services are \
ready, 1 when a service failed to become ready or there is no such project, 2 for an invalid \
file or bad usage.")]
pub(crate) struct ReloadArgs {
    /// The project's file [default: the first of tend.toml, tend.yaml, tend.yml, Procfile in
    /// the current directory].
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// The project [default: the name of the file's directory, as `tend up -d` names it].
    #[arg(short = 'p', long = "project", value_name = "NAME")]
    project: Option<String>,
    /// Return once the daemon applied the change, without waiting for the services to be
    /// ready.
    #[arg(long)]
    no_wait: bool,
    #[command(flatten)]
    client: ClientArgs,
}

/// Sends the file again and prints one line per service (`added web`, `removed worker`,
/// `restarted api (changed)`, `unchanged db`), then waits for the services as `up -d` does.
pub(crate) fn run(args: ReloadArgs) -> anyhow::Result<i32> {
    let file = project_file::read(args.file.as_deref(), args.project.as_deref())?;
    let client = Client::new(&args.client)?;
    let name = file.request.name.clone();
    block_on(async {
        let path = format!("{}/reload", project_path(&name));
        let applied: ProjectApplied = client
            .call("POST", &path, Some(&file.request))
            .await
            .map_err(|e| e.context(format!("cannot reload project `{name}`")))?;
        settle::print_changes(&applied.changes);
        if args.no_wait {
            return Ok(0);
        }
        let settled = settle::wait(&client, &name, file.deadline).await?;
        Ok(settle::complain(&settled, file.deadline))
    })
}
