//! Requests and answers of the pipeline actions (`pipeline.*`) and the `/pipelines` routes.

use serde::de::value::MapDeserializer;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::error::Invalid;
use crate::ProcessId;
use crate::runner::{Mode, Pipeline, Report, StepReport, StepStatus, Totals, steps_from};

/// What `pipeline.start` takes (`POST /pipelines`): a pipeline file's schema as JSON, with the
/// steps as a list.
///
/// ```json
/// {"steps": [{"name": "build", "command": "make"},
///            {"name": "test", "run": "make test", "after": ["build"], "timeout": "5m"}],
///  "mode": "dag", "jobs": 2, "fail_fast": false}
/// ```
///
/// Each step is an object with the keys of a file's `[steps.NAME]` table
/// ([`STEP_KEYS`](crate::runner::STEP_KEYS), durations also as `*_ms`) plus its `name`. The
/// steps are read by the file schema's own reader and checked by [`Pipeline::new`], so a
/// request is refused exactly where a file would be, with the same messages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PipelineRequest {
    /// The steps, in declaration order (required, at least one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<StepSchema>>"))]
    pub steps: Option<Vec<Map<String, Value>>>,
    /// `dag` (default), `sequential` or `parallel`.
    #[serde(default, deserialize_with = "mode", skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// At most this many steps at once (0 or absent: no bound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs: Option<usize>,
    /// Cancel the rest at the first failure that is not allowed (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_fast: Option<bool>,
}

/// The JSON Schema of one step of a [`PipelineRequest`], by hand: steps are read by the
/// pipeline file schema's own reader ([`STEP_KEYS`](crate::runner::STEP_KEYS) plus `name`).
#[cfg(feature = "schema")]
struct StepSchema;

#[cfg(feature = "schema")]
impl schemars::JsonSchema for StepSchema {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PipelineStep".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        use super::duration::{DurationText, Millis};
        let text = generator.subschema_for::<DurationText>();
        let millis = generator.subschema_for::<Millis>();
        let strings = serde_json::json!({ "type": "array", "items": { "type": "string" } });
        schemars::json_schema!({
            "description": "The keys of a pipeline file's [steps.NAME] table, plus `name`: `command` (+ `args`) or `run` (a bash script). Durations: humantime text, or milliseconds under KEY_ms.",
            "type": "object",
            "required": ["name"],
            "additionalProperties": false,
            "properties": {
                "name": { "type": "string", "minLength": 1 },
                "command": { "type": "string", "minLength": 1 },
                "args": strings,
                "run": { "type": "string", "minLength": 1 },
                "dir": { "type": "string" },
                "env": { "type": "object", "additionalProperties": { "type": ["string", "number", "boolean"] } },
                "after": strings,
                "allow_failure": { "type": "boolean" },
                "timeout": text, "timeout_ms": millis,
                "grace": text, "grace_ms": millis,
                "retries": { "type": "integer", "minimum": 0, "maximum": u32::MAX },
                "retry_delay": text, "retry_delay_ms": millis,
            },
        })
    }
}

fn mode<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Mode>, D::Error> {
    Option::<String>::deserialize(deserializer)?
        .map(|text| text.parse().map_err(serde::de::Error::custom))
        .transpose()
}

/// A checked [`PipelineRequest`], ready to run.
#[derive(Debug)]
pub struct PipelineParts {
    /// The steps, validated as a graph.
    pub pipeline: Pipeline,
    /// How they are ordered.
    pub mode: Mode,
    /// At most this many at once (0: no bound).
    pub jobs: usize,
    /// Cancel the rest at the first failure.
    pub fail_fast: bool,
}

impl PipelineRequest {
    /// Reads the steps and checks the pipeline; every refusal names the step and its key.
    ///
    /// ```
    /// use tend::wire::{PipelineRequest, decode};
    /// use serde_json::json;
    ///
    /// let request: PipelineRequest =
    ///     decode(json!({"steps": [{"name": "a", "command": "true", "timeout_ms": 1500}]})).unwrap();
    /// assert_eq!(request.into_parts().unwrap().pipeline.steps()[0].name, "a");
    /// let cycle: PipelineRequest = decode(json!({"steps": [
    ///     {"name": "a", "command": "x", "after": ["a"]}]})).unwrap();
    /// assert_eq!(cycle.into_parts().unwrap_err().key, "steps");
    /// ```
    pub fn into_parts(self) -> Result<PipelineParts, Invalid> {
        let bad = |message: String| Invalid::new("steps", message);
        let Some(list) = self.steps else {
            return Err(bad("`steps` is required: a list of steps, each with a `name`".into()));
        };
        if list.is_empty() {
            return Err(bad("`steps` is empty: give at least one step".into()));
        }
        let mut entries = Vec::with_capacity(list.len());
        for (index, mut step) in list.into_iter().enumerate() {
            match step.remove("name") {
                Some(Value::String(name)) if !name.is_empty() => {
                    entries.push((name, Value::Object(step)))
                }
                _ => {
                    return Err(bad(format!(
                        "steps[{index}]: `name` is required (a non-empty string)"
                    )));
                }
            }
        }
        let steps = steps_from(MapDeserializer::<_, serde_json::Error>::new(entries.into_iter()))
            .map_err(|error| bad(error.to_string()))?;
        let pipeline = Pipeline::new(steps).map_err(|error| bad(error.to_string()))?;
        Ok(PipelineParts {
            pipeline,
            mode: self.mode.unwrap_or_default(),
            jobs: self.jobs.unwrap_or(0),
            fail_fast: self.fail_fast.unwrap_or(false),
        })
    }
}

/// A request naming one pipeline: `pipeline.get`, `pipeline.cancel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PipelineRef {
    /// The pipeline's id, as `pipeline.start` answered it.
    pub id: String,
}

/// The answer of `pipeline.start` (`202` from `POST /pipelines`): it runs in the background.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PipelineStarted {
    /// Its id.
    pub id: String,
}

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
    use crate::wire::decode;

    fn refusal(body: Value) -> String {
        match decode::<PipelineRequest>(body) {
            Ok(request) => request.into_parts().unwrap_err().to_string(),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn steps_keep_their_order_and_durations_take_both_forms() {
        let request: PipelineRequest = decode(json!({
            "steps": [
                { "name": "z", "command": "true", "timeout_ms": 1500 },
                { "name": "a", "run": "echo", "after": ["z"], "grace": "2s" }
            ],
            "mode": "sequential", "jobs": 1, "fail_fast": true
        }))
        .unwrap();
        let parts = request.into_parts().unwrap();
        let steps = parts.pipeline.steps();
        assert_eq!(steps[0].name, "z");
        assert_eq!(steps[0].timeout, Some(std::time::Duration::from_millis(1500)));
        assert_eq!(steps[1].grace, std::time::Duration::from_secs(2));
        assert_eq!((parts.mode, parts.jobs, parts.fail_fast), (Mode::Sequential, 1, true));
    }

    #[test]
    fn errors_name_the_culprit() {
        for (body, expected) in [
            (
                json!({ "steps": [{ "name": "b", "command": "x", "tiemout": "1s" }] }),
                "step `b`: unknown key `tiemout`",
            ),
            (json!({ "steps": [{ "name": "b" }] }), "step `b`: needs `command`"),
            (
                json!({ "steps": [{ "name": "a", "command": "x", "grace": "1s", "grace_ms": 5 }] }),
                "`grace` or `grace_ms`",
            ),
            (
                json!({ "steps": [{ "name": "a", "command": "x", "timeout_ms": -1 }] }),
                "`timeout_ms`",
            ),
            (json!({ "steps": [{ "name": "a", "command": "x", "timeout": 5 }] }), "`timeout_ms`"),
            (json!({ "stepz": [] }), "unknown key `stepz`"),
            (
                json!({ "steps": [{ "name": "a", "command": "x" }], "parallel": true }),
                "unknown key `parallel`",
            ),
            (json!({ "steps": [{ "command": "x" }] }), "steps[0]: `name`"),
            (json!({ "steps": [] }), "`steps` is empty"),
            (json!({ "mode": "dag" }), "`steps` is required"),
            (json!({ "steps": [{ "name": "a", "command": "x" }], "mode": "waves" }), "`waves`"),
        ] {
            let message = refusal(body.clone());
            assert!(message.contains(expected), "{body}: `{message}` lacks `{expected}`");
        }
    }

    #[cfg(feature = "schema")]
    #[test]
    fn the_step_schema_names_every_step_key() {
        let schema = schemars::schema_for!(StepSchema);
        let properties = schema.get("properties").and_then(Value::as_object).unwrap();
        let mut keys: Vec<&str> = properties.keys().map(String::as_str).collect();
        let mut expected: Vec<&str> = crate::runner::STEP_KEYS.to_vec();
        expected.push("name");
        keys.sort_unstable();
        expected.sort_unstable();
        assert_eq!(keys, expected);
    }

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

    mod fuzz {
        //! Arbitrary JSON bodies, biased towards the real keys and the values that broke
        //! durations: nothing panics, and every refusal names a key.

        use proptest::prelude::*;
        use serde_json::{Number, Value};

        use crate::wire::{PipelineRequest, decode};

        fn step_key() -> impl Strategy<Value = String> {
            let keys: Vec<String> = crate::runner::STEP_KEYS
                .iter()
                .map(|key| (*key).to_owned())
                .chain(["name".to_owned()])
                .collect();
            proptest::sample::select(keys)
        }

        fn leaf() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                Just(Value::from(f64::MAX)),
                "[0-9]{1,22}(ns|ms|s|h|years)?".prop_map(Value::String),
                Just(Value::from("18446744073709551615s")),
                Just(Value::from("A=B\u{0}")),
                any::<String>().prop_map(Value::String),
            ]
        }

        fn step() -> impl Strategy<Value = Value> {
            let value = leaf().prop_recursive(2, 8, 3, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                    proptest::collection::vec(("[A-Z=]{0,3}", inner), 0..3)
                        .prop_map(|entries| Value::Object(entries.into_iter().collect())),
                ]
            });
            proptest::collection::vec((step_key(), value), 0..8)
                .prop_map(|entries| Value::Object(entries.into_iter().collect()))
        }

        fn body() -> impl Strategy<Value = Value> {
            let steps = prop_oneof![
                4 => proptest::collection::vec(step(), 0..4).prop_map(Value::Array),
                1 => leaf(),
            ];
            (steps, leaf(), leaf(), leaf(), any::<u8>()).prop_map(
                |(steps, mode, jobs, fail_fast, present)| {
                    let mut body = serde_json::Map::new();
                    for (bit, key, value) in [
                        (1, "steps", steps),
                        (2, "mode", mode),
                        (4, "jobs", jobs),
                        (8, "fail_fast", fail_fast),
                    ] {
                        if present & bit != 0 {
                            body.insert(key.to_owned(), value);
                        }
                    }
                    Value::Object(body)
                },
            )
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn any_body_is_an_answer(body in body()) {
                let refusal = match decode::<PipelineRequest>(body) {
                    Ok(request) => request.into_parts().err(),
                    Err(error) => Some(error),
                };
                if let Some(error) = refusal {
                    let keys = ["steps", "mode", "jobs", "fail_fast"];
                    prop_assert!(keys.contains(&error.key.as_str()), "{error}");
                }
            }
        }
    }
}
