//! Answers of the pipeline actions: a pipeline's live [`PipelineState`], its
//! [`PipelineSummary`] in a list.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::ProcessId;
use crate::runner::{Mode, Report, StepReport, StepStatus, Totals};

/// Where a pipeline stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum PipelineStatus {
    /// Steps are still running or waiting.
    Running,
    /// Every step has an outcome (which may be a failure).
    Finished,
    /// It was cancelled before it finished.
    Cancelled,
}

/// What every answer about a pipeline starts with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PipelineHead {
    /// Its id.
    pub id: String,
    /// Where it stands.
    pub status: PipelineStatus,
    /// When it was started.
    pub created_at: jiff::Timestamp,
    /// When it ended.
    pub ended_at: Option<jiff::Timestamp>,
    /// Whether a cancel was asked for.
    pub cancel_requested: bool,
    /// Set if its run died without a report (a bug).
    pub error: Option<String>,
}

/// A pipeline as `pipeline.get` and `pipeline.cancel` answer it: live while it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PipelineState {
    /// Its id, status and times.
    #[serde(flatten)]
    pub head: PipelineHead,
    /// Its report, live until the runner's final [`Report`] replaces it.
    pub report: LiveReport,
    /// Each step's `after` (the steps it waits for, in [`Mode::Dag`]), by step name; steps
    /// without any are left out, so the map is empty when no step waits for another.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub after: BTreeMap<String, Vec<String>>,
}

/// A pipeline's report: the runner's [`Report`] once it ended, or the same shape while it
/// runs with `success` null and each step [`StepState::Pending`] or
/// [`Running`](StepState::Running) until it has its [`StepReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LiveReport {
    /// How the steps are ordered.
    pub mode: Mode,
    /// Whether every step passed (or failed with `allow_failure`); null while it runs.
    pub success: Option<bool>,
    /// Run time so far, in milliseconds.
    pub duration_ms: f64,
    /// The steps settled so far, by outcome.
    pub totals: Totals,
    /// Each step, in declaration order.
    pub steps: Vec<StepState>,
}

impl LiveReport {
    /// Counts the settled steps into `totals`, as the runner's [`Report`] counts them.
    pub fn count(&mut self) {
        let mut totals = Totals::default();
        for step in &self.steps {
            let StepState::Ended(report) = step else { continue };
            let slot = match report.status {
                StepStatus::Passed => &mut totals.passed,
                StepStatus::Failed | StepStatus::TimedOut => &mut totals.failed,
                StepStatus::AllowedFailure => &mut totals.allowed_failures,
                StepStatus::Skipped => &mut totals.skipped,
                StepStatus::Cancelled => &mut totals.cancelled,
            };
            *slot += 1;
        }
        self.totals = totals;
    }
}

impl From<Report> for LiveReport {
    fn from(report: Report) -> Self {
        Self {
            mode: report.mode,
            success: Some(report.success),
            duration_ms: report.duration_ms,
            totals: report.totals,
            steps: report.steps.into_iter().map(StepState::Ended).collect(),
        }
    }
}

/// One step of a [`LiveReport`]. On the wire each is an object with `name` and `status`:
/// `pending`, `running` (with `attempts`, `process_id`, `started_at`), or the final
/// [`StepReport`] (whose `status` is a [`StepStatus`]).
#[derive(Debug, Clone, PartialEq)]
pub enum StepState {
    /// Not started yet.
    Pending {
        /// The step's name.
        name: String,
    },
    /// An attempt is running (a step waiting to retry stays `running`).
    Running {
        /// The step's name.
        name: String,
        /// The attempt running, from 1.
        attempts: u32,
        /// The process of that attempt.
        process_id: ProcessId,
        /// When the first attempt started.
        started_at: jiff::Timestamp,
    },
    /// It has its outcome.
    Ended(StepReport),
}

impl StepState {
    /// The step's name.
    pub fn name(&self) -> &str {
        match self {
            StepState::Pending { name } | StepState::Running { name, .. } => name,
            StepState::Ended(report) => &report.name,
        }
    }
}

/// The wire form of the two live states.
#[derive(Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
enum Live {
    Pending { name: String },
    Running { name: String, attempts: u32, process_id: ProcessId, started_at: jiff::Timestamp },
}

impl Serialize for StepState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.clone() {
            StepState::Pending { name } => Live::Pending { name }.serialize(serializer),
            StepState::Running { name, attempts, process_id, started_at } => {
                Live::Running { name, attempts, process_id, started_at }.serialize(serializer)
            }
            StepState::Ended(report) => report.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for StepState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let live =
            matches!(value.get("status").and_then(Value::as_str), Some("pending" | "running"));
        let state = if live {
            match serde_json::from_value(value).map_err(serde::de::Error::custom)? {
                Live::Pending { name } => StepState::Pending { name },
                Live::Running { name, attempts, process_id, started_at } => {
                    StepState::Running { name, attempts, process_id, started_at }
                }
            }
        } else {
            StepState::Ended(serde_json::from_value(value).map_err(serde::de::Error::custom)?)
        };
        Ok(state)
    }
}

/// By hand, as the serde is: a pending or running step, or the step's final report.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for StepState {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StepState".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "One step of a live report: `pending` (not started yet), `running` (an attempt runs or waits to retry), else its final StepReport.",
            "oneOf": [
                {
                    "type": "object",
                    "required": ["status", "name"],
                    "properties": { "status": { "const": "pending" }, "name": { "type": "string" } },
                    "additionalProperties": false,
                },
                {
                    "type": "object",
                    "required": ["status", "name", "attempts", "process_id", "started_at"],
                    "properties": {
                        "status": { "const": "running" },
                        "name": { "type": "string" },
                        "attempts": { "type": "integer", "minimum": 1 },
                        "process_id": generator.subschema_for::<ProcessId>(),
                        "started_at": generator.subschema_for::<jiff::Timestamp>(),
                    },
                    "additionalProperties": false,
                },
                generator.subschema_for::<StepReport>(),
            ],
        })
    }
}

/// One pipeline in `pipeline.list` (`GET /pipelines`): its state without the steps' reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PipelineSummary {
    /// Its id, status and times.
    #[serde(flatten)]
    pub head: PipelineHead,
    /// How the steps are ordered.
    pub mode: Mode,
    /// How many steps it has.
    pub steps: usize,
    /// Whether it succeeded; null while it runs.
    pub success: Option<bool>,
    /// The steps settled so far, by outcome.
    pub totals: Totals,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn step_states_round_trip_in_their_wire_shapes() {
        let pending = StepState::Pending { name: "a".into() };
        assert_eq!(
            serde_json::to_value(&pending).unwrap(),
            json!({"status": "pending", "name": "a"})
        );
        let running = StepState::Running {
            name: "b".into(),
            attempts: 2,
            process_id: "0190b4a8-1d1c-7000-8000-000000000000".parse().unwrap(),
            started_at: jiff::Timestamp::UNIX_EPOCH,
        };
        let json = serde_json::to_value(&running).unwrap();
        assert_eq!(json["status"], "running");
        assert_eq!(json["attempts"], 2);
        for state in [pending, running] {
            let json = serde_json::to_value(&state).unwrap();
            assert_eq!(serde_json::from_value::<StepState>(json).unwrap(), state);
        }
    }
}
