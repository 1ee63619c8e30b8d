//! Item 6: a `Script` has the `StartOptions` knobs (gpud's restart plus output file), and
//! `env(name, value)` agrees with `StartOptions::env` and `Step::env`.

use std::time::Duration;

use tend::script::{Script, ScriptError};
use tend::{MaxRestarts, Restart, Service, StartOptions, Status};

use crate::{LIMIT, within};

#[tokio::test]
async fn restarts_append_every_run_to_the_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("agent.log");
    let service = Service::new();
    let process = Script::new("echo \"run $TEND_RUN_TAG\"; exit 1")
        .env("TEND_RUN_TAG", "x")
        .restart(
            Restart::on_failure().delay(Duration::from_millis(10)).max(MaxRestarts::Limited(2)),
        )
        .output_file(&log)
        .ring_size(4096)
        .start(&service)
        .unwrap();
    let info = within(LIMIT, process.wait()).await;
    assert_eq!((info.status, info.restarts, info.exit_code), (Status::Failed, 2, Some(1)));
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "run x\nrun x\nrun x\n");
}

#[tokio::test]
async fn stdin_data_reaches_a_file_mode_script_on_every_run() {
    let service = Service::new();
    let process = Script::new("cat").stdin_data("fed\n").start(&service).unwrap();
    within(LIMIT, process.wait()).await;
    assert_eq!(process.output().to_string_lossy(), "fed\n");
}

#[tokio::test]
async fn a_small_ring_keeps_only_the_newest_bytes() {
    let service = Service::new();
    let script = Script::new("for i in $(seq 1 200); do echo \"line $i\"; done").ring_size(64);
    let process = script.start(&service).unwrap();
    within(LIMIT, process.wait()).await;
    let output = process.output();
    let text = output.to_string_lossy();
    assert!(text.len() <= 64, "{} bytes kept", text.len());
    assert!(text.ends_with("line 200\n"), "{text}");
}

#[tokio::test]
async fn a_bad_env_name_is_refused_with_start_options_own_error() {
    let service = Service::new();
    let from_options = service.start(StartOptions::new("true").env("A=B", "1")).unwrap_err();
    let from_script = Script::new("true").env("A=B", "1").start(&service).unwrap_err();
    let ScriptError::Start(from_script) = from_script else { panic!("{from_script:?}") };
    assert_eq!(from_script.to_string(), from_options.to_string());
    assert!(from_options.to_string().contains("`A=B`"), "{from_options}");
    assert!(service.list().is_empty(), "nothing started");
}

#[tokio::test]
async fn the_last_value_for_a_name_wins_as_with_start_options() {
    let service = Service::new();
    let script = Script::new("echo \"$TEND_K\"").env("TEND_K", "first").env("TEND_K", "second");
    let process = script.start(&service).unwrap();
    within(LIMIT, process.wait()).await;
    let options = StartOptions::new("sh").args(["-c", "echo \"$TEND_K\""]);
    let direct = service.start(options.env("TEND_K", "first").env("TEND_K", "second")).unwrap();
    within(LIMIT, direct.wait()).await;
    assert_eq!(process.output().to_string_lossy(), "second\n");
    assert_eq!(direct.output().to_string_lossy(), "second\n");
}

#[tokio::test]
async fn a_script_merges_stderr_in_write_order_and_calls_back_per_line() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let service = Service::new();
    let process = Script::new("for i in 1 2 3 4; do echo \"out $i\"; echo \"err $i\" >&2; done")
        .merge_stderr(true)
        .on_line(move |stream, line| {
            record.lock().unwrap().push((stream, String::from_utf8_lossy(line).into_owned()));
        })
        .start(&service)
        .unwrap();
    within(LIMIT, process.wait()).await;
    let expected: Vec<String> =
        (1..=4).flat_map(|i| [format!("out {i}"), format!("err {i}")]).collect();
    let mut text = expected.join("\n");
    text.push('\n');
    assert_eq!(process.output().to_string_lossy(), text);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.iter().map(|(_, line)| line.clone()).collect::<Vec<_>>(), expected);
    assert!(seen.iter().all(|(stream, _)| *stream == tend::Stream::Stdout), "merged: {seen:?}");
}
