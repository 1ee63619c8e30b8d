//! `tend up -d`: the file's steps and services sent to the daemon as a project, which keeps
//! them running after this command exits.
//!
//! With no daemon running, one is started in the background first
//! ([`autostart`](crate::client::autostart)). The command then waits (unless `--no-wait`)
//! until every service is ready, failed or stopped, at most the longest chain of ready
//! timeouts (and timeouts of steps services run after) plus 15 s, prints a table `NAME STATE PID RESTARTS REASON`, and exits 0, or 1
//! naming each service that failed and why.

use std::num::NonZeroUsize;

use clap::Args;
use tend::wire::ProjectApplied;

use super::UpArgs;
use super::project_file;
use super::settle;
use crate::client::{Client, ClientArgs, autostart, block_on};

/// The options of `tend up` for running the file on the daemon.
#[derive(Debug, Args)]
pub(crate) struct DetachArgs {
    /// Run the file on the daemon as a project, which keeps its services running after this
    /// command exits (a daemon is started in the background when none runs, logging to
    /// STATE_DIR/daemon.log); wait until its services are ready, print their status, exit.
    #[arg(short = 'd', long)]
    pub(crate) detach: bool,
    /// With -d: the project's name, 1 to 64 of A-Z a-z 0-9 . _ - [default: the name of the
    /// file's directory]. Applying a file to an existing project updates it as `tend reload`.
    #[arg(short = 'p', long = "project", value_name = "NAME", requires = "detach")]
    pub(crate) project: Option<String>,
    /// With -d: return as soon as the daemon took the project, without waiting for its
    /// services to be ready.
    #[arg(long, requires = "detach")]
    pub(crate) no_wait: bool,
    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

/// Sends the file as a project and reports; see the module docs.
pub(crate) fn run(args: &UpArgs) -> anyhow::Result<i32> {
    let detach = &args.detached;
    let mut file = project_file::read(args.file.as_deref(), detach.project.as_deref())?;
    file.request.jobs = args.jobs.map(NonZeroUsize::get);
    autostart::ensure_daemon(&detach.client)?;
    let client = Client::new(&detach.client)?;
    let name = file.request.name.clone();
    block_on(async {
        let applied: ProjectApplied = client.call("POST", "/projects", Some(&file.request)).await?;
        if !args.json {
            let verb = if applied.created { "created" } else { "updated" };
            println!("project {}: {verb}", crate::terminal_safe::escape(&name));
            if !applied.created {
                settle::print_changes(&applied.changes);
            }
            if let Some(pipeline) = &applied.project.pipeline {
                println!("steps: pipeline {pipeline}");
            }
        }
        let settled = if detach.no_wait {
            settle::Settled { project: applied.project, timed_out: false }
        } else {
            settle::wait(&client, &name, file.deadline).await?
        };
        if args.json {
            crate::json_output::print(&settled.project)?;
            return Ok(if detach.no_wait { 0 } else { settle::complain(&settled, file.deadline) });
        }
        if detach.no_wait {
            print!("{}", settle::table(&settled.project));
            return Ok(0);
        }
        Ok(settle::report(&settled, file.deadline))
    })
}
