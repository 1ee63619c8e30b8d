//! The process service's actions: `process.start`, `process.run`, and the rest of the table.

use std::future::Future;
use std::time::Duration;

use serde_json::{Value, json};

use super::launch::Launch;
use super::options::Options;
use super::registry::{ActionError, ActionResult, Actions};
use crate::{Process, ProcessInfo, Service, Status, deadline};

/// How long `process.kill` waits for the killed process to be over before it answers.
const KILL_WAIT: Duration = Duration::from_secs(5);

/// Registers the process actions on `actions`, each working on `service`:
/// `process.run`, `process.start`, `process.kill`, `process.signal`, `process.list`,
/// `process.get`, `process.wait`, `process.output`, `process.input`, `process.close_stdin`
/// and `process.remove`. See the [module docs](super) for their options and results.
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
    add(actions, &service, "process.start", start);
    add(actions, &service, "process.run", run);
    add(actions, &service, "process.kill", kill);
    add(actions, &service, "process.signal", signal);
    add(actions, &service, "process.list", list);
    add(actions, &service, "process.get", get);
    add(actions, &service, "process.wait", wait);
    add(actions, &service, "process.output", output);
    add(actions, &service, "process.input", input);
    add(actions, &service, "process.close_stdin", close_stdin);
    add(actions, &service, "process.remove", remove);
}

fn add<F, Fut>(actions: &Actions, service: &Service, name: &str, handler: F)
where
    F: Fn(Service, Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ActionResult> + Send + 'static,
{
    let service = service.clone();
    actions.register(name, move |options| handler(service.clone(), options));
}

async fn start(service: Service, options: Value) -> ActionResult {
    let process = Launch::parse(options)?.start(&service)?;
    info_json(process.info())
}

async fn run(service: Service, options: Value) -> ActionResult {
    let process = Launch::parse(options)?.start(&service)?;
    // A non-zero exit is an outcome, not a failure of the action: the info says how it ended.
    let info = process.wait().await;
    Ok(json!({ "info": info_json(info)?, "output": process.output().to_string_lossy() }))
}

async fn kill(service: Service, options: Value) -> ActionResult {
    let process = find(&service, options, &[])?.0;
    process.kill()?;
    // SIGKILL ends it at once; answering with its final state is worth a short wait. A process
    // the kernel cannot end promptly (in uninterruptible sleep) is reported still running.
    let _ = tokio::time::timeout(KILL_WAIT, process.wait()).await;
    info_json(process.info())
}

async fn signal(service: Service, options: Value) -> ActionResult {
    let (process, options) = find(&service, options, &["signal"])?;
    let signal = options.signal("signal")?;
    process.signal(signal)?;
    info_json(process.info())
}

async fn list(service: Service, options: Value) -> ActionResult {
    let options = Options::parse(options, &["status", "label"])?;
    let status = match options.string("status")? {
        None => None,
        Some(text) => {
            Some(serde_json::from_value::<Status>(Value::String(text.clone())).map_err(|_| {
                ActionError::invalid(
                    "status",
                    format!("`{text}` is not one of pending, running, exited, failed, killed"),
                )
            })?)
        }
    };
    let label = match options.string("label")? {
        None => None,
        Some(text) => match text.split_once('=') {
            Some((key, value)) => Some((key.to_owned(), value.to_owned())),
            None => {
                return Err(ActionError::invalid("label", format!("`{text}` is not key=value")));
            }
        },
    };
    let matches = |info: &ProcessInfo| {
        status.is_none_or(|s| info.status == s)
            && label.as_ref().is_none_or(|(k, v)| info.labels.get(k) == Some(v))
    };
    let infos: Vec<ProcessInfo> = service.list().into_iter().filter(matches).collect();
    to_json(&infos)
}

async fn get(service: Service, options: Value) -> ActionResult {
    info_json(find(&service, options, &[])?.0.info())
}

async fn wait(service: Service, options: Value) -> ActionResult {
    let (process, options) = find(&service, options, &["timeout", "timeout_ms"])?;
    match options.duration("timeout")? {
        // When the timeout passes first, the info says it is still running.
        Some(timeout) => drop(deadline::within(timeout, process.wait()).await),
        None => drop(process.wait().await),
    }
    info_json(process.info())
}

async fn output(service: Service, options: Value) -> ActionResult {
    let output = find(&service, options, &[])?.0.output();
    Ok(json!({
        "output": output.to_string_lossy(),
        "stdout": String::from_utf8_lossy(&output.stdout()),
        "stderr": String::from_utf8_lossy(&output.stderr()),
        "dropped_bytes": output.dropped_bytes(),
    }))
}

async fn input(service: Service, options: Value) -> ActionResult {
    let (process, options) = find(&service, options, &["data"])?;
    let data = options.required_string("data")?;
    process.send_input(data.as_bytes()).await?;
    Ok(json!({}))
}

async fn close_stdin(service: Service, options: Value) -> ActionResult {
    find(&service, options, &[])?.0.close_stdin().await?;
    Ok(json!({}))
}

async fn remove(service: Service, options: Value) -> ActionResult {
    let options = Options::parse(options, &["id"])?;
    info_json(service.remove(&options.required_string("id")?)?)
}

/// Reads `id` (and the action's `other` keys) and finds that process.
fn find(
    service: &Service,
    options: Value,
    other: &[&str],
) -> Result<(Process, Options), ActionError> {
    let keys: Vec<&str> = std::iter::once("id").chain(other.iter().copied()).collect();
    let options = Options::parse(options, &keys)?;
    let process = service.get(&options.required_string("id")?)?;
    Ok((process, options))
}

fn info_json(info: ProcessInfo) -> ActionResult {
    to_json(&info)
}

fn to_json<T: serde::Serialize>(value: &T) -> ActionResult {
    serde_json::to_value(value).map_err(|error| ActionError::Failed {
        message: format!("serialising the result: {error}"),
    })
}
