//! Bounded fuzzing of the pipeline file parser (issue 10, "Fuzzing and soak"): arbitrary
//! text, and valid files (TOML and YAML) mutated a few characters at a time, through
//! `parse_toml`/`parse_yaml` (which validate the steps and services as a graph), and arbitrary
//! JSON steps through `steps_from`, whose steps go on through `Pipeline::new`. Nothing may
//! panic; every error must name a place or a step. Parsing only: nothing is started.

use proptest::prelude::*;
use serde_json::{Number, Value};
use tend::runner::{Pipeline, STEP_KEYS, Step, parse_toml, parse_yaml, steps_from};

/// A valid TOML file using every key.
const TOML: &str = r#"[steps.build]
command = "cargo"
args = ["build", "--release"]
dir = "sub"
env = { RUST_LOG = "info", PORT = 8080, DEBUG = true }
timeout = "18446744073709551615s"
grace = "2s"
retries = 3
retry_delay = "500ms"

[steps.test]
run = "cargo test"
after = ["build"]
allow_failure = true
timeout = "0s"

[services.db]
command = "db"
after = ["build"]
ready = { tcp = "127.0.0.1:5432", interval = "100ms", timeout_ms = 3000 }
alive = { exec = "true", interval = "1s", failures = 2 }
restart = "always"
max_restarts = 5
restart_delay = "1s"
stop_signal = "INT"
log = "db.log"
log_max_size = "1MiB"
log_keep = 2
"#;

/// The same in YAML.
const YAML: &str = "steps:
  build:
    command: cargo
    args: [build, --release]
    dir: sub
    env: { RUST_LOG: info, PORT: 8080 }
    timeout: 18446744073709551615s
    grace: 2s
    retries: 3
    retry_delay: 500ms
  test:
    run: cargo test
    after: [build]
    allow_failure: true
    timeout: 0s
services:
  db:
    run: exec db
    after: [build]
    ready: { log: 'ready \\d+', initial_delay: 1s }
    alive: { tcp: '127.0.0.1:5432' }
    restart: on_failure
    grace: 3s
    log: db.log
";

/// Characters that matter to TOML, YAML or the schema.
const PIECES: &[&str] = &[
    "\"",
    "'",
    "[",
    "]",
    "{",
    "}",
    "=",
    ":",
    ",",
    "\n",
    " ",
    "-",
    "#",
    "\\u0000",
    "\\",
    "0",
    "9999999999999999999999",
    "e300",
    "years",
    "s",
    "steps",
    "services",
    "ready",
    "tcp",
    "log",
    "after",
    "timeout",
    "&a",
    "*a",
    "!!binary",
    "\t",
    "\u{0}",
    "é",
];

/// An error must say something.
fn check<T>(parsed: Result<T, String>) -> Result<(), TestCaseError> {
    if let Err(message) = parsed {
        prop_assert!(!message.is_empty(), "an error says something");
    }
    Ok(())
}

/// `text` with each `(position, piece, delete)` applied: insert `piece` at `position` (a
/// fraction of the length), or delete the character there.
fn mutate(text: &str, edits: &[(f64, usize, bool)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for &(at, piece, delete) in edits {
        let index = ((chars.len() as f64) * at) as usize;
        if delete {
            if index < chars.len() {
                chars.remove(index);
            }
        } else {
            let index = index.min(chars.len());
            chars.splice(index..index, PIECES[piece % PIECES.len()].chars());
        }
    }
    chars.into_iter().collect()
}

fn edits() -> impl Strategy<Value = Vec<(f64, usize, bool)>> {
    proptest::collection::vec((0.0..1.0f64, any::<usize>(), any::<bool>()), 1..6)
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            "[0-9]{1,22}(ns|ms|s|m|h|d|years)?",
            proptest::sample::select(PIECES).prop_map(str::to_owned),
            any::<String>(),
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        let keys = prop_oneof![
            9 => proptest::sample::select(STEP_KEYS),
            1 => Just("other"),
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((keys.prop_map(str::to_owned), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check(parse_toml(&text).map_err(|e| e.to_string()))?;
        check(parse_yaml(&text).map_err(|e| e.to_string()))?;
    }

    #[test]
    fn mutated_toml_never_panics(edits in edits()) {
        let text = mutate(TOML, &edits);
        check(parse_toml(&text).map_err(|e| e.to_string()))?;
    }

    #[test]
    fn mutated_yaml_never_panics(edits in edits()) {
        let text = mutate(YAML, &edits);
        check(parse_yaml(&text).map_err(|e| e.to_string()))?;
    }

    #[test]
    fn arbitrary_json_steps_never_panic(steps in proptest::collection::vec(("[a-z]{1,3}", json()), 0..5)) {
        // A JSON object is a map deserializer of its own (its keys sorted, which is fine here).
        let steps = Value::Object(steps.into_iter().collect());
        // Whatever parsed goes on through the graph checks, which must not panic either.
        let steps: Result<Vec<Step>, String> = steps_from(steps).map_err(|e| e.to_string());
        check(steps.map(Pipeline::new))?;
    }
}

#[test]
fn the_unmutated_files_are_valid() {
    for pipeline in [parse_toml(TOML).expect("valid TOML"), parse_yaml(YAML).expect("valid YAML")] {
        assert_eq!(pipeline.len(), 2);
        assert_eq!(pipeline.steps()[0].timeout.map(|t| t.as_secs()), Some(u64::MAX));
        assert_eq!(pipeline.services().len(), 1);
    }
}
