//! The pipeline events of the API's event stream (`/api/v1/events`), beside the process
//! events and in the same sequence. Each type is the event's own fields; on the wire every
//! event also has `seq`, `time` and `event` (its name, [`PipelineEvent::name`]).

use serde::{Deserialize, Serialize};

use super::pipeline_state::PipelineStatus;
use crate::ProcessId;
use crate::runner::{Mode, StepStatus, Totals};

/// One pipeline event's fields, by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum PipelineEvent {
    /// `pipeline_started`.
    Started(PipelineStartedEvent),
    /// `step_started`.
    StepStarted(StepStartedEvent),
    /// `step_finished`.
    StepFinished(StepFinishedEvent),
    /// `pipeline_finished`.
    Finished(PipelineFinishedEvent),
}

impl PipelineEvent {
    /// The `event` name on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            PipelineEvent::Started(_) => "pipeline_started",
            PipelineEvent::StepStarted(_) => "step_started",
            PipelineEvent::StepFinished(_) => "step_finished",
            PipelineEvent::Finished(_) => "pipeline_finished",
        }
    }
}

/// `pipeline_started`: the run began.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PipelineStartedEvent {
    /// The pipeline's id.
    pub pipeline: String,
    /// How its steps are ordered.
    pub mode: Mode,
    /// Its steps' names, in declaration order.
    pub steps: Vec<String>,
}

/// `step_started`: an attempt of a step started (each retry is a new process).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StepStartedEvent {
    /// The pipeline's id.
    pub pipeline: String,
    /// The step's name.
    pub step: String,
    /// The attempt's process.
    pub process_id: ProcessId,
    /// The attempt, from 1.
    pub attempt: u32,
}

/// `step_finished`: a step has its outcome (a skipped or cancelled step that never started
/// has only this one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StepFinishedEvent {
    /// The pipeline's id.
    pub pipeline: String,
    /// The step's name.
    pub step: String,
    /// How it ended.
    pub status: StepStatus,
    /// The last attempt's exit code, if it exited.
    pub exit_code: Option<i32>,
    /// Its run time in milliseconds, if it ran.
    pub duration_ms: Option<f64>,
    /// Attempts made.
    pub attempts: u32,
    /// Why it failed or did not run, if so.
    pub error: Option<String>,
}

/// `pipeline_finished`: the run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PipelineFinishedEvent {
    /// The pipeline's id.
    pub pipeline: String,
    /// `finished` or `cancelled`.
    pub status: PipelineStatus,
    /// Whether every step passed (or failed with `allow_failure`).
    pub success: bool,
    /// Its run time in milliseconds (null if its run died without a report).
    pub duration_ms: Option<f64>,
    /// The steps by outcome (null if its run died without a report).
    pub totals: Option<Totals>,
    /// Set if its run died without a report (a bug).
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_event_reads_back_as_its_own_kind_from_the_stream() {
        let finished = json!({ "seq": 9, "time": "2026-01-01T00:00:00Z", "event": "step_finished",
            "pipeline": "p", "step": "a", "status": "timed_out", "exit_code": null,
            "duration_ms": 2.5, "attempts": 2, "error": "timed out" });
        let event: PipelineEvent = serde_json::from_value(finished).unwrap();
        assert_eq!(event.name(), "step_finished");
        let done = json!({ "event": "pipeline_finished", "pipeline": "p", "status": "cancelled",
            "success": false, "duration_ms": null, "totals": null, "error": "x" });
        let event: PipelineEvent = serde_json::from_value(done).unwrap();
        assert_eq!(event.name(), "pipeline_finished");
        let started =
            PipelineStartedEvent { pipeline: "p".into(), mode: Mode::Dag, steps: vec!["a".into()] };
        let json = serde_json::to_value(PipelineEvent::Started(started.clone())).unwrap();
        assert_eq!(json, json!({ "pipeline": "p", "mode": "dag", "steps": ["a"] }));
        assert_eq!(
            serde_json::from_value::<PipelineEvent>(json).unwrap(),
            PipelineEvent::Started(started)
        );
    }
}
