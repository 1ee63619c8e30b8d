//! Waiting for a project's services on the daemon to settle (each ready, failed, or stopped
//! for good) and showing where they are: `tend up -d` and `tend reload`.

use std::time::{Duration, Instant};

use tend::wire::{ProjectInfo, ProjectServiceInfo, ServiceState};

use crate::client::{Client, NO_BODY};
use crate::table::Table;

/// Time between two looks at the project.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// How a wait for a project's services ended.
#[derive(Debug)]
pub(crate) struct Settled {
    /// The project as last seen.
    pub(crate) project: ProjectInfo,
    /// The deadline passed with services still starting or waiting.
    pub(crate) timed_out: bool,
}

/// Polls `GET /projects/{name}` until no service is starting or waiting (a service waiting
/// for one that failed counts as settled: it never starts), or `deadline` passed.
pub(crate) async fn wait(
    client: &Client,
    name: &str,
    deadline: Option<Duration>,
) -> anyhow::Result<Settled> {
    let started = Instant::now();
    let path = project_path(name);
    loop {
        let project: ProjectInfo = client.call("GET", &path, NO_BODY).await?;
        if pending(&project).is_empty() {
            return Ok(Settled { project, timed_out: false });
        }
        if deadline.is_some_and(|deadline| started.elapsed() >= deadline) {
            return Ok(Settled { project, timed_out: true });
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// `/projects/{name}` with the name encoded.
pub(crate) fn project_path(name: &str) -> String {
    format!("/projects/{}", tend::http::segment(name))
}

/// The services still on their way: starting, or waiting for services that are not failed
/// (a dependency that failed leaves them waiting for good).
pub(crate) fn pending(project: &ProjectInfo) -> Vec<&ProjectServiceInfo> {
    project
        .services
        .iter()
        .filter(|service| match service.state {
            ServiceState::Starting => true,
            ServiceState::Waiting => blocked_by(project, service).is_none(),
            ServiceState::Ready | ServiceState::Failed | ServiceState::Stopped => false,
        })
        .collect()
}

/// The service of `project` that `service` runs after and that failed, if one did.
fn blocked_by<'a>(project: &'a ProjectInfo, service: &ProjectServiceInfo) -> Option<&'a str> {
    project
        .services
        .iter()
        .find(|other| other.state == ServiceState::Failed && service.after.contains(&other.name))
        .map(|other| other.name.as_str())
}

/// `NAME STATE PID RESTARTS REASON`, one row per service, in the daemon's (dependency)
/// order.
pub(crate) fn table(project: &ProjectInfo) -> String {
    let mut table = Table::new(&["NAME", "STATE", "PID", "RESTARTS", "REASON"]).right(3);
    for service in &project.services {
        let process = service.process.as_ref();
        let reason = match (&service.error, blocked_by(project, service)) {
            (Some(error), _) => error.clone(),
            (None, Some(failed)) if service.state == ServiceState::Waiting => {
                format!("not started: `{failed}` failed")
            }
            _ => String::new(),
        };
        table.push(vec![
            service.name.clone(),
            state_name(service.state).to_owned(),
            process.and_then(|p| p.pid).map_or_else(|| "-".to_owned(), |pid| pid.to_string()),
            process.map_or(0, |p| p.restarts).to_string(),
            reason,
        ]);
    }
    table.render()
}

/// A service state as the wire spells it.
fn state_name(state: ServiceState) -> &'static str {
    match state {
        ServiceState::Waiting => "waiting",
        ServiceState::Starting => "starting",
        ServiceState::Ready => "ready",
        ServiceState::Failed => "failed",
        ServiceState::Stopped => "stopped",
    }
}

/// Prints the table and says on stderr what failed or is still not ready; returns the exit
/// status: 0 when every service is ready (or stopped on its own), else 1.
pub(crate) fn report(settled: &Settled, deadline: Option<Duration>) -> i32 {
    print!("{}", table(&settled.project));
    complain(settled, deadline)
}

/// Says on stderr which services failed or are still not ready; returns the exit status
/// (see [`report`]).
pub(crate) fn complain(settled: &Settled, deadline: Option<Duration>) -> i32 {
    let project = &settled.project;
    let mut status = 0;
    for service in &project.services {
        if service.state == ServiceState::Failed {
            let reason = service.error.as_deref().unwrap_or("no reason given");
            eprintln!("tend: service `{}` failed: {reason}", service.name);
            status = 1;
        } else if let (ServiceState::Waiting, Some(failed)) =
            (service.state, blocked_by(project, service))
        {
            eprintln!("tend: service `{}` not started: `{failed}` failed", service.name);
            status = 1;
        }
    }
    if settled.timed_out {
        let names: Vec<String> = pending(project)
            .iter()
            .map(|service| format!("`{}` ({})", service.name, state_name(service.state)))
            .collect();
        let within = deadline.map_or_else(String::new, |d| format!(" within {}s", d.as_secs()));
        eprintln!("tend: not ready{within}: {}", names.join(", "));
        status = 1;
    }
    status
}

/// Prints what an apply or a reload did, one line per service: `added web`, `removed
/// worker`, `restarted api (changed)`, `unchanged db`.
pub(crate) fn print_changes(changes: &[tend::wire::ServiceChanged]) {
    use tend::wire::ServiceChange;
    for changed in changes {
        let name = crate::terminal_safe::escape(&changed.name);
        match changed.change {
            ServiceChange::Added => println!("added {name}"),
            ServiceChange::Removed => println!("removed {name}"),
            ServiceChange::Changed => println!("restarted {name} (changed)"),
            ServiceChange::Unchanged => println!("unchanged {name}"),
        }
    }
}
