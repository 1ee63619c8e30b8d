//! Input no program can be given is refused up front, everywhere, in the library's words
//! (issue 10, weaknesses): an environment name that is empty or holds `=` or NUL, a NUL in a
//! program, argument, value or script, an empty program after `--`; and a pipeline file over
//! 16 MiB (even `/dev/zero`) is refused before it is parsed.

use std::process::Output;

use serde_json::json;
use tend::process::{check_env_name, check_no_nul};
use tend::script::{Script, ScriptError};
use tend::{Error, Service, StartOptions};

use crate::durations_cli::tend;
use crate::server_support::TestServer;

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_refuses_before_starting_anything() {
    let service = Service::new();
    let refused = |options: StartOptions| match service.start(options) {
        Err(Error::InvalidOption { option, message }) => (option, message),
        other => panic!("not refused: {other:?}"),
    };
    assert_eq!(
        refused(StartOptions::new("echo").env("A=B", "x")),
        ("env", check_env_name("A=B").unwrap_err())
    );
    assert_eq!(refused(StartOptions::new("echo").env("", "x")).1, check_env_name("").unwrap_err());
    assert_eq!(
        refused(StartOptions::new("echo").env("A", "x\0")).1,
        check_no_nul("x\0").unwrap_err()
    );
    assert_eq!(
        refused(StartOptions::new("echo").arg("a\0b")),
        ("args", check_no_nul("a\0b").unwrap_err())
    );
    assert_eq!(refused(StartOptions::new("ec\0ho")).0, "command");
    assert!(service.list().is_empty(), "no record for a refused start");

    let script = Script::new("echo \0").start(&service).unwrap_err();
    assert!(
        matches!(&script, ScriptError::Start(Error::InvalidOption { option: "run", .. })),
        "{script:?}"
    );
    let env = Script::new("true").env("A\0", "x").start(&service).unwrap_err();
    assert!(
        matches!(&env, ScriptError::Start(Error::InvalidOption { option: "env", .. })),
        "{env:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_refuses_with_the_same_words() {
    let server = TestServer::start().await;
    let cases = [
        (json!({ "command": "echo", "env": { "A=B": "x" } }), "env", check_env_name("A=B")),
        (json!({ "command": "echo", "env": { "": "x" } }), "env", check_env_name("")),
        (json!({ "command": "echo", "env": { "A": "x\u{0}" } }), "env", check_no_nul("x\0")),
        (json!({ "command": "echo", "args": ["a\u{0}b"] }), "args", check_no_nul("a\0b")),
        (json!({ "command": "ec\u{0}ho" }), "command", check_no_nul("ec\0ho")),
        (json!({ "run": "echo \u{0}" }), "run", check_no_nul("echo \0")),
        (json!({ "run": "true", "env": { "A\u{0}": "x" } }), "env", check_env_name("A\0")),
    ];
    for (body, option, expected) in cases {
        let reply = server.call("POST", "/api/v1/processes", Some(body.clone())).await;
        assert_eq!(reply.status, 400, "{body}: {}", String::from_utf8_lossy(&reply.body));
        let error = &reply.json()["error"];
        let message = error["message"].as_str().unwrap_or_default();
        assert!(message.contains(&expected.clone().unwrap_err()), "{body}: {error}");
        assert!(message.contains(option), "{body}: {error}");
    }
    let step = json!({ "name": "a", "command": "true", "env": { "A=B": "x" } });
    let reply = server.call("POST", "/api/v1/pipelines", Some(json!({ "steps": [step] }))).await;
    assert_eq!(reply.status, 400);
    assert!(String::from_utf8_lossy(&reply.body).contains(&check_env_name("A=B").unwrap_err()));
    assert!(server.service.list().is_empty(), "nothing was started");
}

#[test]
fn the_command_line_refuses_with_usage_errors() {
    let empty = tend(&["run", "--", ""]);
    assert_eq!(empty.status.code(), Some(2), "{}", stderr(&empty));
    assert!(stderr(&empty).contains("empty"), "{}", stderr(&empty));
    let env = tend(&["run", "-e", "=x", "--", "true"]);
    assert_eq!(env.status.code(), Some(2), "{}", stderr(&env));
    assert!(stderr(&env).contains(&check_env_name("").unwrap_err()), "{}", stderr(&env));
    // An empty argument is an argument, not an error.
    assert_eq!(tend(&["run", "--", "true", ""]).status.code(), Some(0));
}

#[test]
fn pipeline_files_refuse_unusable_strings_naming_step_key_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        ("[steps.a]\ncommand = \"true\"\nenv = { \"A=B\" = \"x\" }\n", check_env_name("A=B")),
        ("[steps.a]\nrun = \"echo \\u0000\"\n", check_no_nul("echo \0")),
        ("[steps.a]\ncommand = \"echo\"\nargs = [\"\\u0000\"]\n", check_no_nul("\0")),
    ];
    for (text, expected) in cases {
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, text).expect("write");
        let output = tend(&["up", file.to_str().expect("UTF-8")]);
        assert_eq!(output.status.code(), Some(2), "{text}: {}", stderr(&output));
        let stderr = stderr(&output);
        assert!(stderr.contains(&expected.unwrap_err()), "{text}: {stderr}");
        assert!(stderr.contains("bad.toml:") && stderr.contains("step `a`"), "{text}: {stderr}");
    }
}

#[test]
fn pipeline_files_over_16_mib_are_refused_before_parsing() {
    let zero = tend(&["up", "/dev/zero"]);
    assert_eq!(zero.status.code(), Some(2), "{}", stderr(&zero));
    assert!(stderr(&zero).contains("larger than 16 MiB"), "{}", stderr(&zero));

    let dir = tempfile::tempdir().expect("temp dir");
    let big = dir.path().join("big.toml");
    // A valid file, but one byte too long: comments padding a real step.
    let step = "[steps.a]\ncommand = \"true\"\n";
    let padding = "#".repeat(tend::runner::MAX_FILE_SIZE as usize + 1 - step.len() - 1);
    std::fs::write(&big, format!("{step}{padding}\n")).expect("write");
    let output = tend(&["up", big.to_str().expect("UTF-8")]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("larger than 16 MiB"), "{}", stderr(&output));
    let error = tend::runner::load(&big).unwrap_err();
    assert!(matches!(error, tend::runner::FileError::TooLarge { .. }), "{error}");

    // Exactly at the limit it is read and run.
    std::fs::write(&big, format!("{step}{}\n", &padding[1..])).expect("write");
    assert_eq!(tend::runner::load(&big).expect("at the limit").len(), 1);
}
