//! Named actions: the registry, every process action with real processes, `NotRegistered`,
//! and each kind of bad option named by its key.

use serde_json::{Value, json};
use tend::Service;
use tend::actions::{ActionError, Actions, register_process_actions};

use crate::host_proctable::PATIENCE;
use crate::support::until;

fn process_actions() -> Actions {
    let actions = Actions::new();
    register_process_actions(&actions, Service::new());
    actions
}

async fn call(actions: &Actions, name: &str, options: Value) -> Value {
    let result = tokio::time::timeout(PATIENCE, actions.dispatch(name, options.clone())).await;
    match result.expect("the action to answer in time") {
        Ok(value) => value,
        Err(error) => panic!("{name} {options}: {error:?}"),
    }
}

async fn fails(actions: &Actions, name: &str, options: Value) -> ActionError {
    let result = tokio::time::timeout(PATIENCE, actions.dispatch(name, options.clone())).await;
    match result.expect("the action to answer in time") {
        Ok(value) => panic!("{name} {options} succeeded: {value}"),
        Err(error) => error,
    }
}

/// Asserts an `invalid_request` error naming `option`; returns its message.
async fn invalid(actions: &Actions, name: &str, options: Value, option: &str) -> String {
    let error = fails(actions, name, options.clone()).await;
    assert_eq!(error.code(), "invalid_request", "{name} {options}: {error}");
    let ActionError::InvalidOption { option: named, message } = &error else { unreachable!() };
    assert_eq!(named, option, "{name} {options}: {error}");
    assert!(error.to_string().contains(&format!("`{option}`")), "{error}");
    message.clone()
}

#[tokio::test]
async fn only_registered_names_can_be_dispatched() {
    let bare = Actions::new();
    let error = fails(&bare, "process.start", json!({"command": "true"})).await;
    assert_eq!(error, ActionError::NotRegistered { name: "process.start".into() });
    assert_eq!(error.code(), "not_registered");
    assert_eq!(error.to_json(), json!({"code": "not_registered", "message": error.to_string()}));
    assert!(!bare.is_registered("process.start"));

    let actions = process_actions();
    assert_eq!(
        actions.names(),
        [
            "process.close_stdin",
            "process.get",
            "process.input",
            "process.kill",
            "process.list",
            "process.output",
            "process.remove",
            "process.restart",
            "process.run",
            "process.signal",
            "process.start",
            "process.stop",
            "process.wait",
        ]
    );
    assert_eq!(fails(&actions, "process.exec", json!({})).await.code(), "not_registered");

    // Clones share the registry; registering again replaces.
    let clone = actions.clone();
    clone.register("echo", |options| async move { Ok(options) });
    assert!(actions.is_registered("echo"));
    assert_eq!(call(&actions, "echo", json!({"a": [1]})).await, json!({"a": [1]}));
    actions.register("echo", |_| async { Err(ActionError::Failed { message: "no".into() }) });
    assert_eq!(fails(&clone, "echo", json!(null)).await.code(), "failed");
}

#[tokio::test]
async fn run_returns_info_and_output_and_a_non_zero_exit_is_not_an_error() {
    let actions = process_actions();
    let done =
        call(&actions, "process.run", json!({"command": "sh", "args": ["-c", "echo hi; exit 3"]}))
            .await;
    assert_eq!(done["output"], "hi\n");
    assert_eq!(done["info"]["exit_code"], 3);
    assert_eq!(done["info"]["status"], "failed");

    let dir = tempfile::tempdir().unwrap();
    let script = json!({
        "run": "echo \"$GREETING, $1-less\"; pwd",
        "env": {"GREETING": "it's me"},
        "dir": dir.path(),
        "name": "greeter",
        "labels": {"team": "core"},
        "restart": "never",
    });
    let done = call(&actions, "process.run", script).await;
    let pwd = dir.path().canonicalize().unwrap();
    assert_eq!(done["output"], format!("it's me, -less\n{}\n", pwd.display()));
    assert_eq!(done["info"]["status"], "exited");
    assert_eq!(done["info"]["command"], "bash");
    assert_eq!(done["info"]["name"], "greeter");
    assert_eq!(done["info"]["labels"], json!({"team": "core"}));
    // A `run` script goes through a file in the temporary directory, removed at the end.
    let file = std::path::PathBuf::from(done["info"]["args"][0].as_str().unwrap());
    assert!(file.file_name().unwrap().to_str().unwrap().starts_with("tend-script-"), "{file:?}");
    until(PATIENCE, "the script file to be removed", || !file.exists()).await;

    let timed = call(
        &actions,
        "process.run",
        json!({"command": "sleep", "args": ["30"], "timeout": "300ms", "grace_ms": 2000}),
    )
    .await;
    assert_eq!(timed["info"]["status"], "killed");
    assert_eq!(timed["info"]["reason"], "timeout");
    assert_eq!(timed["info"]["signal"], "SIGTERM");
}

#[tokio::test]
async fn start_get_list_wait_signal_and_remove() {
    let actions = process_actions();
    let info = call(
        &actions,
        "process.start",
        json!({"command": "sleep", "args": ["30"], "name": "nap", "labels": {"kind": "sleeper"}}),
    )
    .await;
    assert_eq!(info["status"], "running");
    assert!(info["pid"].as_u64().is_some());
    let id = info["id"].as_str().unwrap().to_owned();
    let other =
        call(&actions, "process.start", json!({"run": "sleep 30", "timeout_ms": 60000})).await;

    for key in [id.as_str(), &id[..id.len() - 2], "nap"] {
        assert_eq!(call(&actions, "process.get", json!({"id": key})).await["id"], id.as_str());
    }
    // UUIDv7s begin with their creation time in milliseconds: two made within a minute share
    // their first eight characters.
    let message = invalid(&actions, "process.get", json!({"id": &id[..8]}), "id").await;
    assert!(message.contains("more than one"), "{message}");

    let all = call(&actions, "process.list", json!({})).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let sleepers =
        call(&actions, "process.list", json!({"label": "kind=sleeper", "status": "running"})).await;
    assert_eq!(sleepers.as_array().unwrap().len(), 1);
    assert_eq!(sleepers[0]["id"], id.as_str());
    assert_eq!(call(&actions, "process.list", json!({"status": "exited"})).await, json!([]));

    let waited = call(&actions, "process.wait", json!({"id": "nap", "timeout_ms": 50})).await;
    assert_eq!(waited["status"], "running", "the timeout came first");

    let error = fails(&actions, "process.remove", json!({"id": "nap"})).await;
    assert_eq!(error.code(), "wrong_state", "{error}");

    call(&actions, "process.signal", json!({"id": "nap", "signal": "term"})).await;
    let ended = call(&actions, "process.wait", json!({"id": "nap", "timeout": "20s"})).await;
    assert_eq!(ended["signal"], "SIGTERM");
    assert_eq!(ended["status"], "failed", "a signal is not a kill: no reason");
    let error = fails(&actions, "process.signal", json!({"id": "nap", "signal": 15})).await;
    assert_eq!(error.code(), "wrong_state", "{error}");

    let removed = call(&actions, "process.remove", json!({"id": id})).await;
    assert_eq!(removed["id"], id.as_str());
    let error = fails(&actions, "process.get", json!({"id": "nap"})).await;
    assert_eq!(error, ActionError::NotFound { id: "nap".into() });
    assert_eq!(error.code(), "not_found");

    let killed = call(&actions, "process.kill", json!({"id": other["id"]})).await;
    assert_eq!(killed["status"], "killed");
    assert_eq!(killed["reason"], "killed");
    assert_eq!(killed["signal"], "SIGKILL");
    // Killing what has ended is not an error.
    assert_eq!(
        call(&actions, "process.kill", json!({"id": other["id"]})).await["status"],
        "killed"
    );
}

#[tokio::test]
async fn input_close_stdin_and_output() {
    let actions = process_actions();
    let info = call(
        &actions,
        "process.start",
        json!({"command": "sh", "args": ["-c", "cat; echo err >&2"], "stdin": "piped"}),
    )
    .await;
    let id = info["id"].clone();
    assert_eq!(
        call(&actions, "process.input", json!({"id": id, "data": "hello\n"})).await,
        json!({})
    );
    assert_eq!(call(&actions, "process.close_stdin", json!({"id": id})).await, json!({}));
    assert_eq!(call(&actions, "process.wait", json!({"id": id})).await["exit_code"], 0);
    let output = call(&actions, "process.output", json!({"id": id})).await;
    assert_eq!(output["stdout"], "hello\n");
    assert_eq!(output["stderr"], "err\n");
    assert_eq!(output["output"], "hello\nerr\n");
    assert_eq!(output["dropped_bytes"], 0);

    for action in ["process.input", "process.close_stdin"] {
        let error = fails(&actions, action, json!({"id": id, "data": "late"})).await;
        let error = if action == "process.close_stdin" {
            // close_stdin takes no `data`: the key is refused before anything else.
            assert_eq!(error.code(), "invalid_request");
            fails(&actions, action, json!({"id": id})).await
        } else {
            error
        };
        assert_eq!(error.code(), "wrong_state", "{action}: {error}");
    }
}

#[tokio::test]
async fn a_restart_policy_reruns_a_failing_program_on_the_same_record() {
    let actions = process_actions();
    for options in [
        json!({"command": "sh", "args": ["-c", "echo run; exit 3"], "restart": "on_failure",
               "max_restarts": 2, "restart_delay": "10ms"}),
        json!({"run": "echo run; exit 3", "restart": "on-failure", "max_restarts": "2",
               "restart_delay_ms": 10}),
    ] {
        let started = call(&actions, "process.start", options).await;
        let id = started["id"].as_str().unwrap().to_owned();
        let info = call(&actions, "process.wait", json!({"id": id, "timeout": "20s"})).await;
        assert_eq!(info["status"], "failed", "{info}");
        assert_eq!(info["restarts"], 2, "{info}");
        let output = call(&actions, "process.output", json!({"id": id})).await;
        assert_eq!(output["stdout"], "run\nrun\nrun\n", "{output}");
    }
}

#[tokio::test]
async fn bad_options_are_typed_errors_naming_the_key() {
    let actions = process_actions();
    let start_cases = [
        (json!({}), "command"),
        (json!({"args": ["x"]}), "command"),
        (json!({"command": 5}), "command"),
        (json!({"command": ""}), "command"),
        (json!({"command": "echo", "run": "echo"}), "run"),
        (json!({"command": "echo", "args": "a b"}), "args"),
        (json!({"command": "echo", "args": ["a", 1]}), "args"),
        (json!({"run": "echo", "args": []}), "args"),
        (json!({"command": "echo", "bogus": true}), "bogus"),
        (json!({"command": "echo", "grace": "soon"}), "grace"),
        (json!({"command": "echo", "timeout": "5s", "timeout_ms": 5}), "timeout_ms"),
        (json!({"command": "echo", "timeout_ms": "5"}), "timeout_ms"),
        (json!({"command": "echo", "stdin": "inherit"}), "stdin"),
        (json!({"command": "echo", "restart": "sometimes"}), "restart"),
        (json!({"command": "echo", "restart": "always", "max_restarts": -1}), "max_restarts"),
        (json!({"command": "echo", "restart": "always", "max_restarts": "lots"}), "max_restarts"),
        (json!({"command": "echo", "restart": "always", "restart_delay": 5}), "restart_delay"),
        (json!({"command": "echo", "env": {"A": 1}}), "env"),
        (json!({"command": "echo", "env": {"A=B": "c"}}), "env"),
        (json!({"run": "echo", "env": ["A=B"]}), "env"),
        (json!({"command": "echo", "labels": {"a": true}}), "labels"),
        (json!({"command": "echo", "capture": "yes"}), "capture"),
        (json!({"command": "echo", "dir": 1}), "dir"),
        (json!("echo"), "options"),
    ];
    for (options, key) in start_cases {
        for action in ["process.start", "process.run"] {
            invalid(&actions, action, options.clone(), key).await;
        }
    }
    let message =
        invalid(&actions, "process.start", json!({"command": "sleep", "timeout": 5}), "timeout")
            .await;
    assert!(message.contains("timeout_ms") && message.contains("\"5s\""), "{message}");
    assert!(
        call(&actions, "process.list", json!({})).await.as_array().unwrap().is_empty(),
        "nothing started"
    );

    let error =
        fails(&actions, "process.start", json!({"command": "/nonexistent/tend-program"})).await;
    assert_eq!(error.code(), "failed");
    assert!(error.to_string().contains("/nonexistent/tend-program"), "{error}");

    let running =
        call(&actions, "process.start", json!({"command": "sleep", "args": ["30"]})).await;
    let id = running["id"].clone();
    for action in [
        "process.get",
        "process.kill",
        "process.wait",
        "process.output",
        "process.input",
        "process.close_stdin",
        "process.remove",
        "process.signal",
    ] {
        invalid(&actions, action, json!({}), "id").await;
        invalid(&actions, action, json!({"id": 7}), "id").await;
        invalid(&actions, action, json!({"id": id, "extra": 1}), "extra").await;
        let error = fails(&actions, action, json!({"id": "no-such-process"})).await;
        assert_eq!(error, ActionError::NotFound { id: "no-such-process".into() }, "{action}");
    }
    invalid(&actions, "process.signal", json!({"id": id}), "signal").await;
    let message =
        invalid(&actions, "process.signal", json!({"id": id, "signal": "SIGNOPE"}), "signal").await;
    assert!(message.contains("SIGNOPE"), "{message}");
    invalid(&actions, "process.signal", json!({"id": id, "signal": 0}), "signal").await;
    invalid(&actions, "process.signal", json!({"id": id, "signal": ["TERM"]}), "signal").await;
    invalid(&actions, "process.input", json!({"id": id}), "data").await;
    invalid(&actions, "process.input", json!({"id": id, "data": [104, 105]}), "data").await;
    invalid(&actions, "process.wait", json!({"id": id, "timeout": 1}), "timeout").await;
    invalid(&actions, "process.list", json!({"status": "zombie"}), "status").await;
    invalid(&actions, "process.list", json!({"label": "no-equals"}), "label").await;
    invalid(&actions, "process.list", json!({"owner": "me"}), "owner").await;
    invalid(&actions, "process.list", json!([1]), "options").await;
    // stdin was not piped: a state error, not an option error.
    assert_eq!(
        fails(&actions, "process.input", json!({"id": id, "data": "x"})).await.code(),
        "wrong_state"
    );
    assert_eq!(call(&actions, "process.kill", json!({"id": id})).await["status"], "killed");
}

#[tokio::test]
async fn run_with_merge_stderr_keeps_the_order_the_program_wrote_in() {
    let actions = process_actions();
    let script = "for i in $(seq 1 200); do echo out $i; echo err $i >&2; done";
    let expected: String = (1..=200).map(|i| format!("out {i}\nerr {i}\n")).collect();
    for request in [
        json!({"command": "sh", "args": ["-c", script], "merge_stderr": true}),
        json!({"run": script, "merge_stderr": true}),
    ] {
        let done = call(&actions, "process.run", request.clone()).await;
        assert_eq!(done["output"], expected, "{request}");
    }
    let wrong = actions.dispatch("process.run", json!({"command": "true", "merge_stderr": "yes"}));
    let error = wrong.await.unwrap_err();
    assert!(error.to_string().contains("merge_stderr"), "{error}");
}
