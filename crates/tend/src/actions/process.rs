//! The process service's actions: `process.start`, `process.run`, `process.stop`, and the rest
//! of the table, each a typed function over the [`wire`](crate::wire) types.

use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::registry::{ActionError, Actions};
use crate::wire::{
    Empty, IdRequest, InputRequest, Launch, ListQuery, OutputAnswer, RestartRequest, RunAnswer,
    SignalRequest, StartRequest, StopRequest, WaitRequest,
};
use crate::{Process, ProcessInfo, ProcessList, Service, deadline};

/// How long `process.kill` waits for the killed process to be over before it answers.
const KILL_WAIT: Duration = Duration::from_secs(5);

/// Registers the process actions on `actions`, each working on `service`, with no limit on
/// the number of running processes: `process.run`, `process.start`, `process.stop`,
/// `process.restart`, `process.kill`, `process.signal`, `process.list`, `process.get`, `process.wait`,
/// `process.output`, `process.input`, `process.close_stdin` and `process.remove`. See the
/// [module docs](super) for their options and results.
///
/// ```no_run
/// # async fn demo() -> Result<(), tend::actions::ActionError> {
/// use tend::actions::json;
/// use tend::Service;
/// use tend::actions::{Actions, register_process_actions};
///
/// let actions = Actions::new();
/// register_process_actions(&actions, Service::new());
/// let done = actions.dispatch("process.run", json!({"run": "echo hi; exit 3"})).await?;
/// assert_eq!(done["output"], "hi\n");
/// assert_eq!(done["info"]["exit_code"], 3);
/// # Ok(()) }
/// ```
pub fn register_process_actions(actions: &Actions, service: Service) {
    register_process_actions_limited(actions, service, None);
}

/// [`register_process_actions`] with a bound: `process.start` and `process.run` fail with
/// [`LimitReached`](ActionError::LimitReached) while `max_processes` processes of `service`
/// are running (see [`check_process_limit`]). `None`: no bound.
///
/// ```no_run
/// # async fn demo() {
/// use tend::actions::{Actions, json, register_process_actions_limited};
///
/// let actions = Actions::new();
/// register_process_actions_limited(&actions, tend::Service::new(), Some(1));
/// actions.dispatch("process.start", json!({"command": "sleep", "args": ["5"]})).await.unwrap();
/// let error = actions.dispatch("process.start", json!({"command": "true"})).await.unwrap_err();
/// assert_eq!(error.code(), "limit_reached");
/// # }
/// ```
pub fn register_process_actions_limited(
    actions: &Actions,
    service: Service,
    max_processes: Option<usize>,
) {
    let host = Host { service, max_processes };
    add(actions, &host, "process.start", start);
    add(actions, &host, "process.run", run);
    add(actions, &host, "process.stop", stop);
    add(actions, &host, "process.restart", restart);
    add(actions, &host, "process.kill", kill);
    add(actions, &host, "process.signal", signal);
    add(actions, &host, "process.list", list);
    add(actions, &host, "process.get", get);
    add(actions, &host, "process.wait", wait);
    add(actions, &host, "process.output", output);
    add(actions, &host, "process.input", input);
    add(actions, &host, "process.close_stdin", close_stdin);
    add(actions, &host, "process.remove", remove);
}

/// The process limit (`tend daemon --max-processes`), checked before anything new starts:
/// [`LimitReached`](ActionError::LimitReached) when `max_processes` processes of `service`
/// are running or [queued](crate::Status::Queued) already (queued ones count: the bound
/// keeps the queue bounded too). `process.start`, `process.run` and the server's `pipeline.start` all
/// check it with this.
///
/// The check is not atomic with the start: concurrent starts can overshoot the bound by the
/// number of starts in flight.
pub fn check_process_limit(
    service: &Service,
    max_processes: Option<usize>,
) -> Result<(), ActionError> {
    let Some(limit) = max_processes else { return Ok(()) };
    let running = service.running_count();
    if running >= limit {
        return Err(ActionError::LimitReached {
            message: format!("{running} processes are running or queued; the limit is {limit}"),
        });
    }
    Ok(())
}

/// What every process action works on.
#[derive(Clone)]
struct Host {
    service: Service,
    max_processes: Option<usize>,
}

impl Host {
    fn find(&self, id: &str) -> Result<Process, ActionError> {
        Ok(self.service.get(id)?)
    }

    /// Checks the request, then the limit, then starts it.
    fn launch(&self, request: StartRequest) -> Result<Process, ActionError> {
        let launch = request.launch()?;
        check_process_limit(&self.service, self.max_processes)?;
        // A name given here is one the caller will use in place of an id: it must not be
        // one an unfinished process already answers to.
        match launch {
            Launch::Command(options) => Ok(self.service.start(options.unique_name(true))?),
            Launch::Script(script) => Ok(script.unique_name(true).start(&self.service)?),
        }
    }
}

fn add<Req, Resp, F, Fut>(actions: &Actions, host: &Host, name: &str, handler: F)
where
    Req: DeserializeOwned + Send + 'static,
    Resp: Serialize + Send + 'static,
    F: Fn(Host, Req) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Resp, ActionError>> + Send + 'static,
{
    let host = host.clone();
    actions.register_typed(name, move |request| handler(host.clone(), request));
}

async fn start(host: Host, request: StartRequest) -> Result<ProcessInfo, ActionError> {
    Ok(host.launch(request)?.info())
}

async fn run(host: Host, request: StartRequest) -> Result<RunAnswer, ActionError> {
    let process = host.launch(request)?;
    // A non-zero exit is an outcome, not a failure of the action: the info says how it ended.
    let info = process.wait().await;
    Ok(RunAnswer { info, output: process.output().to_string_lossy() })
}

async fn stop(host: Host, request: StopRequest) -> Result<ProcessInfo, ActionError> {
    let process = host.find(&request.id)?;
    // Without one asked for, the grace it was started with (its stop settings go together).
    let grace = request.grace()?.unwrap_or(process.shared().options.grace);
    Ok(process.shutdown(grace).await?)
}

/// Running (or between two runs): restarted on the same record. Finished: started again as
/// a new process with the same options, whose info is the answer. Queued: `wrong_state`.
async fn restart(host: Host, request: RestartRequest) -> Result<ProcessInfo, ActionError> {
    let process = host.find(&request.id)?;
    let grace = request.grace()?.unwrap_or(process.shared().options.grace);
    if process.status().is_finished() {
        check_process_limit(&host.service, host.max_processes)?;
        let options = process.shared().options.clone();
        return Ok(host.service.start(options)?.info());
    }
    Ok(process.restart(grace).await?)
}

async fn kill(host: Host, request: IdRequest) -> Result<ProcessInfo, ActionError> {
    let process = host.find(&request.id)?;
    process.kill()?;
    // SIGKILL ends it at once; answering with its final state is worth a short wait. A process
    // the kernel cannot end promptly (in uninterruptible sleep) is reported still running.
    let _ = tokio::time::timeout(KILL_WAIT, process.wait()).await;
    Ok(process.info())
}

async fn signal(host: Host, request: SignalRequest) -> Result<ProcessInfo, ActionError> {
    let process = host.find(&request.id)?;
    process.signal(request.signal()?)?;
    Ok(process.info())
}

/// The records, read when the answer is written: as JSON values for a caller through JSON,
/// straight into the body for the server's `GET /processes` (see [`ProcessList`]).
async fn list(host: Host, query: ListQuery) -> Result<ProcessList, ActionError> {
    Ok(host.service.list_filtered(query.list_filter()?))
}

async fn get(host: Host, request: IdRequest) -> Result<ProcessInfo, ActionError> {
    Ok(host.find(&request.id)?.info())
}

async fn wait(host: Host, request: WaitRequest) -> Result<ProcessInfo, ActionError> {
    let process = host.find(&request.id)?;
    match request.timeout()? {
        // When the timeout passes first, the info says it is still running.
        Some(timeout) => drop(deadline::within(timeout, process.wait()).await),
        None => drop(process.wait().await),
    }
    Ok(process.info())
}

async fn output(host: Host, request: IdRequest) -> Result<OutputAnswer, ActionError> {
    let output = host.find(&request.id)?.output();
    Ok(OutputAnswer {
        output: output.to_string_lossy(),
        stdout: String::from_utf8_lossy(&output.stdout()).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr()).into_owned(),
        dropped_bytes: output.dropped_bytes(),
    })
}

async fn input(host: Host, request: InputRequest) -> Result<Empty, ActionError> {
    let process = host.find(&request.id)?;
    process.send_input(request.data()?.as_bytes()).await?;
    Ok(Empty {})
}

async fn close_stdin(host: Host, request: IdRequest) -> Result<Empty, ActionError> {
    host.find(&request.id)?.close_stdin().await?;
    Ok(Empty {})
}

async fn remove(host: Host, request: IdRequest) -> Result<ProcessInfo, ActionError> {
    Ok(host.service.remove(&request.id)?)
}
