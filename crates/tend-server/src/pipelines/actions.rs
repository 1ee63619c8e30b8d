//! `pipeline.start`, `pipeline.list`, `pipeline.get`, `pipeline.cancel`: the server's
//! pipelines as named actions, registered beside the process actions so that the
//! `/pipelines` routes and any other caller share one code path.

use serde_json::{Value, json};
use tend::Service;

use super::{CancelOutcome, Pipelines, request};
use crate::actions::{ActionError, Actions, Options};
use crate::log::EventLog;

/// What the pipeline actions need of the server.
#[derive(Clone)]
pub(crate) struct PipelineHost {
    pub(crate) pipelines: Pipelines,
    pub(crate) service: Service,
    pub(crate) log: EventLog,
    pub(crate) max_processes: Option<usize>,
    /// Where pipelines run; `None`: the caller's runtime.
    pub(crate) runtime: Option<tokio::runtime::Handle>,
}

/// Registers the four actions.
pub(crate) fn register(actions: &Actions, host: PipelineHost) {
    let on = host.clone();
    actions.register("pipeline.start", move |options| {
        let host = on.clone();
        async move {
            let Value::Object(body) = options else {
                return Err(ActionError::InvalidRequest {
                    message: "body: must be a JSON object".into(),
                });
            };
            let request = request::parse(body)?;
            crate::limit::check(&host.service, host.max_processes)?;
            let runtime = host.runtime.clone().unwrap_or_else(tokio::runtime::Handle::current);
            let id = host.pipelines.launch(&runtime, &host.service, &host.log, request);
            Ok(json!({ "id": id }))
        }
    });
    let on = host.clone();
    actions.register("pipeline.list", move |options| {
        let host = on.clone();
        async move {
            Options::parse(options, &[])?;
            Ok(Value::Array(host.pipelines.list()))
        }
    });
    let on = host.clone();
    actions.register("pipeline.get", move |options| {
        let host = on.clone();
        async move {
            let id = id(options)?;
            host.pipelines.get(&id).ok_or_else(|| unknown(id))
        }
    });
    actions.register("pipeline.cancel", move |options| {
        let host = host.clone();
        async move {
            let id = id(options)?;
            match host.pipelines.cancel(&id) {
                CancelOutcome::Cancelling(view) => Ok(view),
                CancelOutcome::Ended => Err(ActionError::WrongState {
                    message: format!("pipeline `{id}` has already ended"),
                }),
                CancelOutcome::Unknown => Err(unknown(id)),
            }
        }
    });
}

fn unknown(id: String) -> ActionError {
    ActionError::Unknown { what: "pipeline".into(), id }
}

fn id(options: Value) -> Result<String, ActionError> {
    Options::parse(options, &["id"])?.required_string("id")
}
