//! `tend down`: take a project on the daemon down: its services stopped in reverse
//! dependency order (each with its stop signal and grace), its steps cancelled, the project
//! forgotten.

use clap::Args;
use tend::wire::ProjectInfo;

use super::up::project_file;
use super::up::settle::project_path;
use crate::client::{Client, ClientArgs, NO_BODY, block_on};

/// How long the daemon may take to stop a project's services (each gets its grace).
const DOWN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// Arguments of `tend down`.
#[derive(Debug, Args)]
#[command(after_help = "Exit status: 0 when the project was taken down (or, with --all, every \
project), 1 when there is no such project or the daemon cannot be reached, 2 for bad usage.")]
pub(crate) struct DownArgs {
    /// The project [default: the name of the current directory, as `tend up -d` names it].
    #[arg(short = 'p', long = "project", value_name = "NAME", conflicts_with = "all")]
    project: Option<String>,
    /// Take every project on the daemon down.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    client: ClientArgs,
}

/// Takes the project (or every one) down and prints what was stopped.
pub(crate) fn run(args: DownArgs) -> anyhow::Result<i32> {
    let names = if args.all {
        None
    } else {
        Some(match &args.project {
            Some(name) => project_file::check_name(name)?,
            None => project_file::default_name()?,
        })
    };
    let client = Client::new(&args.client)?;
    block_on(async {
        let names = match names {
            Some(name) => vec![name],
            None => {
                let projects: Vec<ProjectInfo> = client.call("GET", "/projects", NO_BODY).await?;
                if projects.is_empty() {
                    println!("no projects");
                }
                projects.into_iter().map(|project| project.name).collect()
            }
        };
        for name in names {
            let path = project_path(&name);
            let answer = client.call_within("DELETE", &path, NO_BODY, DOWN_TIMEOUT).await;
            let project: ProjectInfo =
                answer.map_err(|e| e.context(format!("cannot take project `{name}` down")))?;
            print_down(&project);
        }
        Ok(0)
    })
}

/// `stopped web (pid 4242)` per service, in the order they were stopped (reverse dependency
/// order), then `project shop: down`.
fn print_down(project: &ProjectInfo) {
    let escape = |text: &str| crate::terminal_safe::escape(text).into_owned();
    for service in project.services.iter().rev() {
        let pid = service.process.as_ref().and_then(|process| process.pid);
        match pid {
            Some(pid) => println!("stopped {} (pid {pid})", escape(&service.name)),
            None => println!("stopped {} (not running)", escape(&service.name)),
        }
    }
    println!("project {}: down", escape(&project.name));
}
