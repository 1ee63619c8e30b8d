//! Requests of the pipeline actions (`pipeline.*`) and the `/pipelines` routes; the answers
//! are in `pipeline_state.rs`.

use serde::de::value::MapDeserializer;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::error::Invalid;
use crate::runner::{Mode, Pipeline, steps_from};

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
/// request is refused exactly where a file would be, with the same messages. One key of a
/// file's step is refused here: `env_file`, which would name a file on the daemon's machine,
/// relative to no pipeline file (`invalid_request`, saying to give the variables in `env`).
///
/// A request is steps only: the services of a file (`[services.NAME]`, a Procfile) are run by
/// `tend up` and [`Runner`](crate::runner::Runner), not through this API, and a `services`
/// key is refused like any unknown key, as is a service key (`ready`, `restart`, …) in a
/// step.
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
            "description": "The keys of a pipeline file's [steps.NAME] table, plus `name`: `command` (+ `args`) or `run` (a bash script). Durations: humantime text, or milliseconds under KEY_ms. `env_file` is refused: it would name a file on the daemon's machine; give the variables in `env`.",
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
                // A file's key, refused in a request: it would name a file on the daemon's machine.
                "env_file": false,
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
    fn env_file_is_refused_naming_the_step_and_saying_what_to_do() {
        let body = json!({"steps": [{"name": "web", "run": "x", "env_file": ".env"}]});
        let error = decode::<PipelineRequest>(body).unwrap().into_parts().unwrap_err();
        assert_eq!(error.key, "steps");
        let message = error.to_string();
        assert!(message.contains("step `web`: `env_file`: not accepted here"), "{message}");
        assert!(message.contains("give the variables in `env`"), "{message}");
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
            // Steps only: no services, and no service keys in a step.
            (
                json!({ "steps": [{ "name": "a", "command": "x" }],
                        "services": { "db": { "run": "db" } } }),
                "unknown key `services`",
            ),
            (
                json!({ "steps": [{ "name": "a", "command": "x",
                                    "ready": { "tcp": "127.0.0.1:1" } }] }),
                "step `a`: unknown key `ready`",
            ),
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
