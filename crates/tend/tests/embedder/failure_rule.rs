//! One meaning of failure: a program that ran and exited non-zero is an outcome (`Ok` with
//! the status) through every run form; the checked forms make it an error.

use std::time::Duration;

use serde_json::json;
use tend::actions::{Actions, register_process_actions};
use tend::exec::{Cmd, ExecError};
use tend::program::{Program, ProgramError};
use tend::{Error, Service, StartOptions, Status};

const PATIENCE: Duration = Duration::from_secs(30);
const SCRIPT: &str = "echo out; echo err >&2; exit 3";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_non_zero_exit_is_the_same_outcome_through_run_exec_and_process_run() {
    let service = Service::new();

    let options = StartOptions::new("sh").args(["-c", SCRIPT]).timeout(PATIENCE);
    let ran = service.run(options.clone().merge_stderr(true)).await.expect("ran: an outcome");
    assert_eq!((ran.info.status, ran.info.exit_code), (Status::Failed, Some(3)));
    assert!(!ran.success());
    assert_eq!(ran.output.to_string_lossy(), "out\nerr\n");

    let cmd = || Cmd::new("sh").args(["-c", SCRIPT]).timeout(PATIENCE);
    let combined = cmd().combined_output().await.expect("ran: an outcome");
    assert_eq!(combined.status.code(), Some(3));
    assert_eq!(combined.output, b"out\nerr\n");
    let separate = cmd().output().await.expect("ran: an outcome");
    assert_eq!((separate.status.code(), &separate.stdout[..]), (Some(3), &b"out\n"[..]));
    let status = cmd().stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    assert_eq!(status.run().await.expect("ran: an outcome").code(), Some(3));

    let actions = Actions::new();
    register_process_actions(&actions, service.clone());
    let action = actions
        .dispatch("process.run", json!({"command": "sh", "args": ["-c", SCRIPT], "timeout": "30s"}))
        .await
        .expect("ran: an outcome");
    assert_eq!(action["info"]["status"], "failed");
    assert_eq!(action["info"]["exit_code"], 3);
    let text = action["output"].as_str().unwrap();
    assert!(text.contains("out\n") && text.contains("err\n"), "{text:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checked_forms_make_it_an_error_that_keeps_status_and_output() {
    let service = Service::new();
    let options = StartOptions::new("sh").args(["-c", SCRIPT]).timeout(PATIENCE).merge_stderr(true);
    let error = service.run_checked(options.clone()).await.unwrap_err();
    let Error::Failed(failed) = &error else { panic!("not Failed: {error:?}") };
    assert_eq!((failed.info.status, failed.info.exit_code), (Status::Failed, Some(3)));
    assert_eq!(failed.output.to_string_lossy(), "out\nerr\n");
    assert_eq!(error.to_string(), "`sh` exited with code 3");
    let same = service.run(options).await.unwrap().checked().unwrap_err();
    assert_eq!(same.to_string(), error.to_string());

    let error = Cmd::new("sh").args(["-c", SCRIPT]).checked().combined_output().await.unwrap_err();
    assert!(matches!(error, ExecError::Failed { exit_code: Some(3), signal: None, .. }));
    assert_eq!(error.partial_output(), b"out\nerr\n");
    assert_eq!(error.to_string(), "`sh` exited with code 3");

    // `Program::run` returns only text, so it is the checked form by nature.
    let error = Program::find("sh").unwrap().run(["-c", SCRIPT]).await.unwrap_err();
    let ProgramError::Failed { exit_code, output, .. } = &error else { panic!("{error:?}") };
    assert_eq!((*exit_code, output.as_str()), (Some(3), "out\nerr"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_program_that_could_not_run_is_an_error_everywhere() {
    let missing = "/nonexistent/tend-embedder";
    let service = Service::new();
    assert!(matches!(service.run(StartOptions::new(missing)).await, Err(Error::Spawn { .. })));
    assert!(matches!(Cmd::new(missing).combined_output().await, Err(ExecError::Spawn { .. })));
    let actions = Actions::new();
    register_process_actions(&actions, service);
    assert!(actions.dispatch("process.run", json!({"command": missing})).await.is_err());
}
