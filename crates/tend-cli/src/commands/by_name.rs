//! What `tend restart`, `stop` and `start NAME...` share: look every NAME up in one snapshot
//! of the daemon, act on each in order, and go on after a failure.
//!
//! Each NAME gets its own line (or its own error on stderr); the exit code is 1 when any of
//! them failed (2 when the daemon called a request bad), after the others were done.

use std::time::Duration;

use tend::ProcessInfo;
use tend::wire::{ProjectInfo, ProjectServiceInfo, ServiceState};

use super::resolve::{Snapshot, Target};
use crate::client::{Client, ClientArgs, NO_BODY, block_on};

/// Bound on one service's stop, start or restart: the daemon answers after the service's own
/// grace period (which the client does not know) and its start.
pub(crate) const SERVICE_TIMEOUT: Duration = Duration::from_secs(300);

/// Runs `act` for each of `names`, resolved against one snapshot, in order. Returns the exit
/// code: 0 when every one succeeded.
pub(crate) fn for_each_name(
    args: &ClientArgs,
    names: &[String],
    mut act: impl AsyncFnMut(&Client, &str, Target) -> anyhow::Result<()>,
) -> anyhow::Result<i32> {
    let client = Client::new(args)?;
    block_on(async {
        let snapshot = Snapshot::fetch(&client).await?;
        let mut code = 0;
        for name in names {
            let done = match snapshot.resolve(name) {
                Ok(target) => act(&client, name, target).await,
                Err(error) => Err(error),
            };
            if let Err(error) = done {
                code = code.max(crate::exit::report(&error));
            }
        }
        Ok(code)
    })
}

/// `POST /projects/{project}/services/{service}/{verb}`: the service after the action.
pub(crate) async fn service_action(
    client: &Client,
    project: &str,
    service: &str,
    verb: &str,
) -> anyhow::Result<ProjectServiceInfo> {
    let path = format!(
        "/projects/{}/services/{}/{verb}",
        tend::http::segment(project),
        tend::http::segment(service)
    );
    client.call_within("POST", &path, NO_BODY, SERVICE_TIMEOUT).await
}

/// Bound on a started service's new process showing up (the daemon starts it in the
/// background once it answered).
const NEW_PROCESS_TIMEOUT: Duration = Duration::from_secs(30);

/// Starts or restarts (`verb`) a service whose process was `before`, and returns its new
/// process once it has one: the daemon may answer before it is spawned, so the service is
/// read again (every 50 ms, for 30 s at most) until its process is another one than
/// `before`, or it failed (an error with its reason).
pub(crate) async fn start_service(
    client: &Client,
    project: &str,
    name: &str,
    verb: &str,
    before: Option<&ProcessInfo>,
) -> anyhow::Result<ProcessInfo> {
    let mut service = service_action(client, project, name, verb).await?;
    let path = format!("/projects/{}", tend::http::segment(project));
    let deadline = tokio::time::Instant::now() + NEW_PROCESS_TIMEOUT;
    loop {
        if let Some(process) = service.process.as_ref().filter(|now| is_new(now, before)) {
            return Ok(process.clone());
        }
        if service.state == ServiceState::Failed {
            let why = service.error.unwrap_or_else(|| "no reason given".to_owned());
            anyhow::bail!("service `{project}/{name}` failed: {why}");
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!(
                "service `{project}/{name}` has no new process {}s after the {verb} (it is {:?})",
                NEW_PROCESS_TIMEOUT.as_secs(),
                service.state
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let project_info: ProjectInfo = client.call("GET", &path, NO_BODY).await?;
        service = project_info
            .services
            .into_iter()
            .find(|service| service.name == name)
            .ok_or_else(|| anyhow::anyhow!("service `{project}/{name}` is gone"))?;
    }
}

/// Whether `now` is a new run: another record, another PID or one more restart.
fn is_new(now: &ProcessInfo, before: Option<&ProcessInfo>) -> bool {
    before.is_none_or(|before| {
        now.id != before.id || now.pid != before.pid || now.restarts != before.restarts
    })
}

/// A service's process, which the daemon must have once it acted on it.
pub(crate) fn process_of(name: &str, service: ProjectServiceInfo) -> anyhow::Result<ProcessInfo> {
    service.process.ok_or_else(|| {
        let why = service.error.map(|error| format!(": {error}")).unwrap_or_default();
        anyhow::anyhow!("service `{name}` has no process ({:?}){why}", service.state)
    })
}

/// Prints `info` as JSON with `--json`, else `line`.
pub(crate) fn report(json: bool, info: &ProcessInfo, line: &str) -> anyhow::Result<()> {
    if json {
        crate::json_output::print(info)
    } else {
        println!("{line}");
        Ok(())
    }
}

/// A process's PID as text, `-` for none.
pub(crate) fn pid(info: Option<&ProcessInfo>) -> String {
    info.and_then(|info| info.pid).map_or_else(|| "-".to_owned(), |pid| pid.to_string())
}
