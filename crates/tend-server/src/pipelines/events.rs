//! Pipeline events in the event log, beside the process events and in the same sequence.
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

use serde_json::{Map, Value, json};
use tend::runner::{Mode, Report, StepEvent};

use crate::log::EventLog;

fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

pub(crate) fn pipeline_started(log: &EventLog, id: &str, mode: Mode, steps: &[String]) {
    let body = json!({ "pipeline": id, "mode": mode, "steps": steps });
    log.append_pipeline("pipeline_started", fields(body));
}

pub(crate) fn step(log: &EventLog, id: &str, event: &StepEvent) {
    match event {
        StepEvent::Started { step, attempt, process } => {
            let body =
                json!({ "pipeline": id, "step": step, "process_id": process, "attempt": attempt });
            log.append_pipeline("step_started", fields(body));
        }
        StepEvent::Finished(report) => {
            let body = json!({
                "pipeline": id, "step": report.name, "status": report.status,
                "exit_code": report.exit_code, "duration_ms": report.duration_ms,
                "attempts": report.attempts, "error": report.error,
            });
            log.append_pipeline("step_finished", fields(body));
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
    let status = if cancelled { "cancelled" } else { "finished" };
    let body = match report {
        Some(report) => json!({
            "pipeline": id, "status": status, "success": report.success,
            "duration_ms": report.duration_ms, "totals": report.totals, "error": null,
        }),
        None => json!({
            "pipeline": id, "status": status, "success": false, "duration_ms": null,
            "totals": null, "error": "the pipeline's task ended without a report",
        }),
    };
    log.append_pipeline("pipeline_finished", fields(body));
}
