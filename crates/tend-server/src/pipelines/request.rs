//! The body of `POST /pipelines`: a pipeline file's schema as JSON, with the steps as a list.
//!
//! ```json
//! {"steps": [{"name": "build", "command": "make"},
//!            {"name": "test", "run": "make test", "after": ["build"], "timeout": "5m"}],
//!  "mode": "dag", "jobs": 2, "fail_fast": false}
//! ```
//!
//! Each step takes the keys of a `[steps.NAME]` table, plus its `name`; durations are
//! humantime strings as in the file (`"2s"`) or `*_ms` numbers (`"timeout_ms": 2000`). The
//! steps go through the file schema's own reader ([`tend::runner::steps_from`]) and
//! [`Pipeline::new`], so the API refuses exactly what a file would, with the same messages.

use std::time::Duration;

use serde::de::value::MapDeserializer;
use serde_json::{Map, Value};
use tend::runner::{Mode, Pipeline, steps_from};

use crate::actions::ActionError;

/// Top-level keys of the body.
const KEYS: &[&str] = &["steps", "mode", "jobs", "fail_fast"];
/// Step keys that are durations, each also accepted as `KEY_ms`.
const DURATIONS: &[&str] = &["timeout", "grace", "retry_delay"];

/// A checked `POST /pipelines` body.
#[derive(Debug)]
pub(crate) struct PipelineRequest {
    pub(crate) pipeline: Pipeline,
    pub(crate) mode: Mode,
    /// 0: no bound.
    pub(crate) jobs: usize,
    pub(crate) fail_fast: bool,
}

fn bad(message: impl std::fmt::Display) -> ActionError {
    ActionError::InvalidRequest { message: format!("body: {message}") }
}

/// Reads and validates the body; every error is a 400 naming the key and the step.
pub(crate) fn parse(mut body: Map<String, Value>) -> Result<PipelineRequest, ActionError> {
    if let Some(key) = body.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(bad(format!("unknown key `{key}` (expected one of: {})", KEYS.join(", "))));
    }
    let mode = match body.get("mode") {
        None | Some(Value::Null) => Mode::default(),
        Some(Value::String(mode)) => mode.parse().map_err(|e| bad(format!("`mode`: {e}")))?,
        Some(_) => return Err(bad("`mode` must be \"dag\", \"sequential\" or \"parallel\"")),
    };
    let jobs = match body.get("jobs") {
        None | Some(Value::Null) => 0,
        Some(value) => value
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| bad("`jobs` must be a whole number from 0 (0: no bound)"))?,
    };
    let fail_fast = match body.get("fail_fast") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => return Err(bad("`fail_fast` must be true or false")),
    };
    let Some(Value::Array(list)) = body.remove("steps") else {
        return Err(bad("`steps` is required: a list of steps, each with a `name`"));
    };
    if list.is_empty() {
        return Err(bad("`steps` is empty: give at least one step"));
    }
    let mut entries = Vec::with_capacity(list.len());
    for (index, item) in list.into_iter().enumerate() {
        let Value::Object(mut step) = item else {
            return Err(bad(format!("steps[{index}] must be an object")));
        };
        let name = match step.remove("name") {
            Some(Value::String(name)) if !name.is_empty() => name,
            _ => {
                return Err(bad(format!(
                    "steps[{index}]: `name` is required (a non-empty string)"
                )));
            }
        };
        for key in DURATIONS {
            let ms_key = format!("{key}_ms");
            let Some(ms) = step.remove(&ms_key) else { continue };
            if step.contains_key(*key) {
                return Err(bad(format!("step `{name}`: give `{key}` or `{ms_key}`, not both")));
            }
            let span = ms
                .as_f64()
                .filter(|ms| *ms >= 0.0)
                .and_then(|ms| Duration::try_from_secs_f64(ms / 1000.0).ok())
                .ok_or_else(|| {
                    bad(format!(
                        "step `{name}`: `{ms_key}` must be a number of milliseconds from 0"
                    ))
                })?;
            // Handed on as the file's humantime form, so one reader checks every duration.
            step.insert((*key).to_owned(), Value::String(format!("{}ns", span.as_nanos())));
        }
        entries.push((name, Value::Object(step)));
    }
    let steps = steps_from(MapDeserializer::<_, serde_json::Error>::new(entries.into_iter()))
        .map_err(bad)?;
    let pipeline = Pipeline::new(steps).map_err(bad)?;
    Ok(PipelineRequest { pipeline, mode, jobs, fail_fast })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn error(body: Value) -> String {
        let Value::Object(map) = body else { panic!("an object") };
        parse(map).unwrap_err().to_string()
    }

    #[test]
    fn steps_keep_their_order_and_durations_take_both_forms() {
        let Value::Object(body) = json!({
            "steps": [
                { "name": "z", "command": "true", "timeout_ms": 1500 },
                { "name": "a", "run": "echo", "after": ["z"], "grace": "2s" }
            ],
            "mode": "sequential", "jobs": 1, "fail_fast": true
        }) else {
            unreachable!()
        };
        let request = parse(body).unwrap();
        let steps = request.pipeline.steps();
        assert_eq!(steps[0].name, "z");
        assert_eq!(steps[0].timeout, Some(Duration::from_millis(1500)));
        assert_eq!(steps[1].grace, Duration::from_secs(2));
        assert_eq!((request.mode, request.jobs, request.fail_fast), (Mode::Sequential, 1, true));
    }

    #[test]
    fn errors_name_the_culprit() {
        let unknown = error(json!({ "steps": [{ "name": "b", "command": "x", "tiemout": "1s" }] }));
        assert!(unknown.contains("step `b`: unknown key `tiemout`"), "{unknown}");
        let missing = error(json!({ "steps": [{ "name": "b" }] }));
        assert!(missing.contains("step `b`: needs `command`"), "{missing}");
        let cycle = error(json!({ "steps": [
            { "name": "a", "command": "x", "after": ["b"] },
            { "name": "b", "command": "x", "after": ["a"] }
        ] }));
        assert!(cycle.contains("dependency cycle: a -> b -> a"), "{cycle}");
        let both = error(
            json!({ "steps": [{ "name": "a", "command": "x", "grace": "1s", "grace_ms": 5 }] }),
        );
        assert!(both.contains("`grace` or `grace_ms`"), "{both}");
        assert!(error(json!({ "stepz": [] })).contains("unknown key `stepz`"));
        assert!(error(json!({ "steps": [{ "command": "x" }] })).contains("steps[0]: `name`"));
        let negative =
            error(json!({ "steps": [{ "name": "a", "command": "x", "timeout_ms": -1 }] }));
        assert!(negative.contains("`timeout_ms`"), "{negative}");
    }

    mod fuzz {
        //! Arbitrary JSON bodies, biased towards the real keys and the values that broke
        //! durations: nothing panics, every refusal is `invalid_request`.

        use proptest::prelude::*;
        use serde_json::{Number, Value};

        use super::{DURATIONS, parse};

        /// A step's keys: the file's, the `name`, and the `*_ms` forms of the durations.
        fn step_key() -> impl Strategy<Value = String> {
            let ms = DURATIONS.iter().map(|key| format!("{key}_ms"));
            let keys: Vec<String> = tend::runner::STEP_KEYS
                .iter()
                .map(|key| (*key).to_owned())
                .chain(["name".to_owned()])
                .chain(ms)
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
            let key = step_key();
            let value = leaf().prop_recursive(2, 8, 3, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                    proptest::collection::vec(("[A-Z=]{0,3}", inner), 0..3)
                        .prop_map(|entries| Value::Object(entries.into_iter().collect())),
                ]
            });
            proptest::collection::vec((key, value), 0..8)
                .prop_map(|entries| Value::Object(entries.into_iter().collect()))
        }

        fn body() -> impl Strategy<Value = serde_json::Map<String, Value>> {
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
                    body
                },
            )
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn any_body_is_an_answer(body in body()) {
                if let Err(error) = parse(body) {
                    prop_assert_eq!(error.code(), "invalid_request");
                }
            }
        }
    }
}
