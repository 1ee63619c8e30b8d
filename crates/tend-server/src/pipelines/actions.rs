//! `pipeline.start`, `pipeline.list`, `pipeline.get`, `pipeline.cancel`: the server's
//! pipelines as typed named actions, registered beside the process actions so that the
//! `/pipelines` routes and any other caller share one code path.

use tend::Service;
use tend::actions::check_process_limit;
use tend::wire::{Empty, PipelineRef, PipelineRequest, PipelineStarted};

use super::{CancelOutcome, Pipelines};
use crate::actions::{ActionError, Actions};
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
    actions.register_typed("pipeline.start", move |request: PipelineRequest| {
        let host = on.clone();
        async move {
            let parts = request.into_parts()?;
            check_process_limit(&host.service, host.max_processes)?;
            let runtime = host.runtime.clone().unwrap_or_else(tokio::runtime::Handle::current);
            let id = host.pipelines.launch(&runtime, &host.service, &host.log, parts, &[]);
            Ok(PipelineStarted { id })
        }
    });
    let on = host.clone();
    actions.register_typed("pipeline.list", move |_: Empty| {
        let pipelines = on.pipelines.list();
        async move { Ok(pipelines) }
    });
    let on = host.clone();
    actions.register_typed("pipeline.get", move |PipelineRef { id }| {
        let state = on.pipelines.get(&id).ok_or_else(|| unknown(id));
        async move { state }
    });
    actions.register_typed("pipeline.cancel", move |PipelineRef { id }| {
        let outcome = match host.pipelines.cancel(&id) {
            CancelOutcome::Cancelling(state) => Ok(state),
            CancelOutcome::Ended => Err(ActionError::WrongState {
                message: format!("pipeline `{id}` has already ended"),
            }),
            CancelOutcome::Unknown => Err(unknown(id)),
        };
        async move { outcome }
    });
}

fn unknown(id: String) -> ActionError {
    ActionError::Unknown { what: "pipeline".into(), id }
}
