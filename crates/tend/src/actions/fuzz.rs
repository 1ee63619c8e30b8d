//! Bounded fuzzing of the requests of `process.start`, `process.run`, `process.stop` and
//! `process.wait` (issue 10, "Fuzzing and soak"): arbitrary JSON, biased towards the real
//! keys and towards the values that broke things (huge, negative and odd durations, NUL,
//! `=` in names). Nothing may panic, and every duration read must give a deadline without
//! overflowing. Parsing only: nothing is started.

use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Map, Number, Value};
use tokio::time::Instant;

use crate::deadline::{deadline_after, timeout_deadline};
use crate::wire::{Launch, StartRequest, StopRequest, WaitRequest, decode};

/// Every key `process.start` and `process.run` accept.
const KEYS: &[&str] = &[
    "command",
    "args",
    "run",
    "dir",
    "env",
    "name",
    "labels",
    "timeout",
    "timeout_ms",
    "grace",
    "grace_ms",
    "capture",
    "detach",
    "stdin",
    "restart",
    "max_restarts",
    "restart_delay",
    "restart_delay_ms",
];

/// A request read and checked as `process.start` reads it.
fn launch(options: Value) -> Result<Launch, crate::wire::Invalid> {
    decode::<StartRequest>(options)?.launch()
}

/// Strings that meant something somewhere: durations at and past the limits, policies,
/// names with `=` and NUL.
const INTERESTING: &[&str] = &[
    "18446744073709551615s",
    "18446744073709551616s",
    "584542046090years",
    "100years",
    "0s",
    "0",
    "-1s",
    "1e300ms",
    "NaN",
    "1ns",
    "on_failure",
    "always",
    "unlimited",
    "piped",
    "A=B",
    "\u{0}",
    "",
    "true",
];

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<f64>().prop_filter_map("JSON has no NaN or infinity", |f| Number::from_f64(f)
            .map(Value::Number)),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        Just(Value::from(f64::MAX)),
        Just(Value::from(1.8446744073709552e22)),
        Just(Value::from(-0.0)),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(INTERESTING).prop_map(str::to_owned),
        "[0-9]{1,25}(ns|us|ms|s|m|h|d|w|y|years)?",
        any::<String>(),
    ]
}

/// Any JSON value, a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((text(), inner), 0..4)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// An option bag: mostly real keys (and their `_ms` forms), sometimes an unknown one.
fn bag(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        8 => proptest::sample::select(keys).prop_map(str::to_owned),
        1 => text(),
    ];
    proptest::collection::vec((key, json()), 0..8)
        .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>()))
}

/// Every duration a parsed bag can hold must make a deadline without overflowing.
fn deadlines(durations: impl IntoIterator<Item = Option<Duration>>) {
    let now = Instant::now();
    for duration in durations.into_iter().flatten() {
        let _ = deadline_after(now, duration);
        let _ = timeout_deadline(now, Some(duration));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn start_and_run_bags_never_panic(options in bag(KEYS)) {
        match launch(options.clone()) {
            Ok(Launch::Command(start)) => {
                deadlines([start.timeout, Some(start.grace), Some(start.restart.delay)]);
                prop_assert!(start.check().is_ok(), "a parsed start passes the library's check");
            }
            Ok(Launch::Script(script)) => {
                deadlines([script.timeout, Some(script.grace), Some(script.restart.delay)]);
            }
            // Every refusal names a key the request has, or one it lacks and needs.
            Err(error) => prop_assert!(
                KEYS.contains(&error.key.as_str()) || options.get(&error.key).is_some(),
                "{error}"
            ),
        }
    }

    #[test]
    fn stop_and_wait_bags_never_panic(options in bag(&["id", "grace", "grace_ms", "timeout", "timeout_ms"])) {
        if let Ok(stop) = decode::<StopRequest>(options.clone()) {
            deadlines([stop.grace().ok().flatten()]);
        }
        if let Ok(wait) = decode::<WaitRequest>(options) {
            deadlines([wait.timeout().ok().flatten()]);
        }
    }

    #[test]
    fn any_json_at_all_is_an_answer(options in json()) {
        let _ = launch(options.clone());
        if let Ok(wait) = decode::<WaitRequest>(options) {
            deadlines([wait.timeout().ok().flatten()]);
        }
    }
}
