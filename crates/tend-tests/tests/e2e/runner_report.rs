//! The pipeline report's JSON, pinned as a snapshot, and pipeline files in TOML and YAML
//! giving the same report.

use std::path::Path;

use insta::dynamic_redaction;
use serde_json::Value;
use tend::Service;
use tend::runner::{Runner, Step};

use crate::runner_support::{RUN_BOUND, run};
use crate::support::FIXTURE;

/// Times and ids change from run to run; a null stays null so the snapshot still shows which
/// steps have none.
fn redact() -> insta::internals::Redaction {
    dynamic_redaction(|value, _| if value.is_nil() { value } else { "[redacted]".into() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_report_keeps_its_shape() {
    let report = run(vec![
        Step::command("build", "printf").arg("compiled\\n"),
        Step::script("test", "echo '1 test failed' >&2; exit 1").after(["build"]),
        Step::script("deploy", "echo deploying").after(["test"]),
        Step::script("lint", "exit 2").allow_failure(true),
    ])
    .await;
    insta::assert_json_snapshot!(report, {
        ".duration_ms" => redact(),
        ".steps[].duration_ms" => redact(),
        ".steps[].process_id" => redact(),
        ".steps[].started_at" => redact(),
    }, @r#"
    {
      "mode": "dag",
      "success": false,
      "duration_ms": "[redacted]",
      "totals": {
        "passed": 1,
        "failed": 1,
        "allowed_failures": 1,
        "skipped": 1,
        "cancelled": 0
      },
      "steps": [
        {
          "name": "build",
          "status": "passed",
          "exit_code": 0,
          "signal": null,
          "duration_ms": "[redacted]",
          "output": "compiled\n",
          "error": null,
          "attempts": 1,
          "blocked_by": null,
          "process_id": "[redacted]",
          "started_at": "[redacted]"
        },
        {
          "name": "test",
          "status": "failed",
          "exit_code": 1,
          "signal": null,
          "duration_ms": "[redacted]",
          "output": "1 test failed\n",
          "error": "exited with code 1",
          "attempts": 1,
          "blocked_by": null,
          "process_id": "[redacted]",
          "started_at": "[redacted]"
        },
        {
          "name": "deploy",
          "status": "skipped",
          "exit_code": null,
          "signal": null,
          "duration_ms": null,
          "output": "",
          "error": "skipped because `test` failed",
          "attempts": 0,
          "blocked_by": "test",
          "process_id": null,
          "started_at": null
        },
        {
          "name": "lint",
          "status": "allowed_failure",
          "exit_code": 2,
          "signal": null,
          "duration_ms": "[redacted]",
          "output": "",
          "error": "exited with code 2",
          "attempts": 1,
          "blocked_by": null,
          "process_id": "[redacted]",
          "started_at": "[redacted]"
        }
      ],
      "services": []
    }
    "#);
    // And it reads back (durations to within float parsing, the rest exactly).
    let json = serde_json::to_string(&report).unwrap();
    let back: tend::runner::Report = serde_json::from_str(&json).unwrap();
    assert_eq!(comparable(&back), comparable(&report));
    assert!((back.duration_ms - report.duration_ms).abs() < 1e-6);
    assert_eq!(back.steps[0].process_id, report.steps[0].process_id);
    assert_eq!(back.steps[0].started_at, report.steps[0].started_at);
}

const TOML: &str = r#"
[steps.setup]
command = "FIXTURE"
args = ["lines", "2", "--prefix", "setup "]
dir = "work"

[steps.where]
run = "pwd; echo \"$GREETING $COUNT\""
after = ["setup"]
env = { GREETING = "hello", COUNT = 3 }
timeout = "20s"
grace = "1s"

[steps.flaky]
run = "exit 7"
allow_failure = true
retries = 1
retry_delay = "50ms"

[steps.last]
command = "FIXTURE"
args = ["exit", "0"]
after = ["where", "flaky"]
"#;

const YAML: &str = r#"
# The same pipeline as YAML.
steps:
  setup:
    command: FIXTURE
    args: [lines, "2", --prefix, "setup "]
    dir: work
  where:
    run: pwd; echo "$GREETING $COUNT"
    after: [setup]
    env:
      GREETING: hello
      COUNT: 3
    timeout: 20s
    grace: 1s
  flaky:
    run: exit 7
    allow_failure: true
    retries: 1
    retry_delay: 50ms
  last:
    command: FIXTURE
    args: [exit, "0"]
    after: [where, flaky]
"#;

/// The report as JSON without what differs between runs.
fn comparable(report: &tend::runner::Report) -> Value {
    let mut json = serde_json::to_value(report).unwrap();
    json["duration_ms"] = Value::Null;
    for step in json["steps"].as_array_mut().unwrap() {
        for key in ["duration_ms", "process_id", "started_at"] {
            step[key] = Value::Null;
        }
    }
    json
}

async fn run_file(path: &Path) -> tend::runner::Report {
    let pipeline = tend::runner::load(path).unwrap();
    let runner = Runner::new(Service::new());
    tokio::time::timeout(RUN_BOUND, runner.run(&pipeline)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toml_and_yaml_files_give_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("work")).unwrap();
    let toml = dir.path().join("pipeline.toml");
    let yaml = dir.path().join("pipeline.yaml");
    std::fs::write(&toml, TOML.replace("FIXTURE", FIXTURE)).unwrap();
    std::fs::write(&yaml, YAML.replace("FIXTURE", FIXTURE)).unwrap();
    assert_eq!(
        tend::runner::load(&toml).unwrap().steps(),
        tend::runner::load(&yaml).unwrap().steps()
    );

    let from_toml = run_file(&toml).await;
    let from_yaml = run_file(&yaml).await;
    assert_eq!(comparable(&from_toml), comparable(&from_yaml));

    // And the report says what the file asked for.
    let setup = from_toml.step("setup").unwrap();
    assert_eq!(setup.output, "setup 1\nsetup 2\n");
    let here = dir.path().canonicalize().unwrap();
    let expected = format!("{}\nhello 3\n", here.display());
    assert_eq!(from_toml.step("where").unwrap().output, expected, "steps run in the file's dir");
    let flaky = from_toml.step("flaky").unwrap();
    assert_eq!((flaky.attempts, flaky.exit_code), (2, Some(7)));
    assert!(from_toml.success, "{from_toml:#?}");
}
