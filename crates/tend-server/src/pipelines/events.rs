//! Pipeline events in the event log, beside the process events and in the same sequence.
//!
//! The fields of each are a [`tend::wire::PipelineEvent`]:
//!
//! * `pipeline_started` — `pipeline` (id), `mode`, `steps` (names, declaration order)
//! * `step_started` — `pipeline`, `step`, `process_id`, `attempt` (from 1; each retry is a
//!   new process)
//! * `step_finished` — `pipeline`, `step`, `status`, `exit_code`, `duration_ms`, `attempts`,
//!   `error`
//! * `pipeline_finished` — `pipeline`, `status` (`finished` or `cancelled`), `success`,
//!   `duration_ms`, `totals`, `error`
//!
//! Each has `seq`, `time` and `event` as every event does. For one pipeline they come in that
//! order, each step's `step_started` before its `step_finished` (a skipped or cancelled step
//! that never started has only `step_finished`). Relative to the events of a step's *process*
//! they may come a little early: the log receives process events through the service's bus,
//! and pipeline events straight from the runner.

use serde_json::{Map, Value};
use tend::runner::{Mode, Report, StepEvent};
use tend::wire::{
    PipelineEvent, PipelineFinishedEvent, PipelineStartedEvent, PipelineStatus, StepFinishedEvent,
    StepStartedEvent,
};

use crate::log::EventLog;

fn append(log: &EventLog, event: PipelineEvent) {
    let fields = match serde_json::to_value(&event) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    log.append_pipeline(event.name(), fields);
}

pub(crate) fn pipeline_started(log: &EventLog, id: &str, mode: Mode, steps: &[String]) {
    let event = PipelineStartedEvent { pipeline: id.to_owned(), mode, steps: steps.to_vec() };
    append(log, PipelineEvent::Started(event));
}

pub(crate) fn step(log: &EventLog, id: &str, event: &StepEvent) {
    match event {
        StepEvent::Started { step, attempt, process } => {
            let event = StepStartedEvent {
                pipeline: id.to_owned(),
                step: step.clone(),
                process_id: *process,
                attempt: *attempt,
            };
            append(log, PipelineEvent::StepStarted(event));
        }
        StepEvent::Finished(report) => {
            let event = StepFinishedEvent {
                pipeline: id.to_owned(),
                step: report.name.clone(),
                status: report.status,
                exit_code: report.exit_code,
                duration_ms: report.duration_ms,
                attempts: report.attempts,
                error: report.error.clone(),
            };
            append(log, PipelineEvent::StepFinished(event));
        }
        // Retries show as further `step_started` events with a higher `attempt`.
        _ => {}
    }
}

pub(crate) fn pipeline_finished(
    log: &EventLog,
    id: &str,
    report: Option<&Report>,
    cancelled: bool,
) {
    let status = if cancelled { PipelineStatus::Cancelled } else { PipelineStatus::Finished };
    let event = match report {
        Some(report) => PipelineFinishedEvent {
            pipeline: id.to_owned(),
            status,
            success: report.success,
            duration_ms: Some(report.duration_ms),
            totals: Some(report.totals),
            error: None,
        },
        None => PipelineFinishedEvent {
            pipeline: id.to_owned(),
            status,
            success: false,
            duration_ms: None,
            totals: None,
            error: Some("the pipeline's task ended without a report".into()),
        },
    };
    append(log, PipelineEvent::Finished(event));
}
