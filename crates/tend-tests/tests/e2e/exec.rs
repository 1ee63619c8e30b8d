//! The `exec` builder: capture, stdin, environment, directory, errors, and every way of
//! stopping a command — cancellation, timeout, dropping the future, a background kill — each
//! leaving nothing of the process group alive.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tend::CancellationToken;
use tend::Signal;
use tend::exec::{Cmd, ExecError};
use tend::program::Program;
use tokio::io::AsyncReadExt;

use crate::host_proctable::{PATIENCE, assert_group_gone, kill_group, live_members};
use crate::program::wait_for_pid_file;

fn sh(script: &str) -> Cmd {
    Cmd::new("sh").args(["-c", script])
}

/// A shell script whose group should die: it writes its PID (= group ID) to `pid_file`, then
/// leaves a sleeping background job and sleeps itself.
pub(crate) fn two_sleepers(pid_file: &Path) -> Cmd {
    Cmd::new("sh").args([
        "-c",
        "echo started; echo $$ > \"$1\"; sleep 30 & sleep 30",
        "sh",
        pid_file.to_str().unwrap(),
    ])
}

#[tokio::test]
async fn output_keeps_streams_apart_and_bytes_exact() {
    let out = sh("printf 'out\\r\\nno newline'; printf 'err' >&2; exit 3").output().await.unwrap();
    assert_eq!(out.stdout, b"out\r\nno newline");
    assert_eq!(out.stderr, b"err");
    assert_eq!(out.status.code(), Some(3));
}

#[tokio::test]
async fn combined_output_is_in_write_order() {
    let script = "for i in 1 2 3 4 5 6 7 8; do echo out$i; echo err$i >&2; done";
    let out = sh(script).combined_output().await.unwrap();
    let expected: String = (1..=8).map(|i| format!("out{i}\nerr{i}\n")).collect();
    assert_eq!(String::from_utf8(out.output).unwrap(), expected);
    assert!(out.status.success());
}

#[tokio::test]
async fn megabytes_on_both_streams_do_not_deadlock() {
    // stderr first: reading stdout to its end before touching stderr would hang here.
    let script = "head -c 3000000 /dev/zero >&2; head -c 3000000 /dev/zero; echo done >&2";
    let out = sh(script).timeout(PATIENCE).output().await.unwrap();
    assert_eq!(out.stdout.len(), 3_000_000);
    assert_eq!(out.stderr.len(), 3_000_005);
    let all = sh(script).timeout(PATIENCE).combined_output().await.unwrap();
    assert_eq!(all.output.len(), 6_000_005);
    assert!(all.output.ends_with(b"\0done\n"));
}

#[tokio::test]
async fn stdin_bytes_are_written_while_output_is_read() {
    // Larger than any pipe buffer both ways: `cat` blocks on its stdout unless we read while
    // we write.
    let input: Vec<u8> = (0..4_000_000u32).map(|i| (i % 251) as u8).collect();
    let out = Cmd::new("cat").stdin(input.clone()).timeout(PATIENCE).output().await.unwrap();
    assert!(out.stdout == input, "cat echoed {} of {} bytes", out.stdout.len(), input.len());

    // A child that never reads its input is not an error.
    let ignored = Cmd::new("true").stdin(input).timeout(PATIENCE).output().await.unwrap();
    assert!(ignored.status.success());
}

#[tokio::test]
async fn env_adds_to_the_inherited_environment_unless_cleared() {
    let out = sh("echo \"$TEND_EXEC_TEST|$PATH\"").env("TEND_EXEC_TEST", "yes").output().await;
    let text = String::from_utf8(out.unwrap().stdout).unwrap();
    let (ours, path) = text.trim().split_once('|').unwrap();
    assert_eq!(ours, "yes");
    assert_eq!(path, std::env::var("PATH").unwrap(), "the inherited PATH is kept");

    let env = Program::find("env").unwrap();
    let out = Cmd::new(env.path()).env_clear().env("ONLY", "this").output().await.unwrap();
    assert_eq!(out.stdout, b"ONLY=this\n");
}

#[tokio::test]
async fn runs_in_the_given_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = sh("pwd -P").dir(dir.path()).output().await.unwrap();
    let pwd = String::from_utf8(out.stdout).unwrap();
    assert_eq!(Path::new(pwd.trim()), dir.path().canonicalize().unwrap());
}

#[tokio::test]
async fn run_returns_the_status_and_checked_names_the_program_and_how_it_ended() {
    sh("exit 0").stdout(Stdio::null()).checked().run().await.unwrap();
    assert_eq!(sh("exit 7").run().await.unwrap().code(), Some(7), "unchecked: an outcome");

    let err = sh("exit 7").checked().run().await.unwrap_err();
    assert!(matches!(err, ExecError::Failed { exit_code: Some(7), signal: None, .. }), "{err:?}");
    assert_eq!(err.to_string(), "`sh` exited with code 7");

    let err = sh("kill -KILL $$").checked().run().await.unwrap_err();
    assert!(matches!(err, ExecError::Failed { exit_code: None, signal: Some(Signal::KILL), .. }));
    assert_eq!(err.to_string(), "`sh` was killed by SIGKILL");

    let err = sh("echo why; exit 3").checked().combined_output().await.unwrap_err();
    assert_eq!(err.partial_output(), b"why\n", "checked keeps what it captured");
}

#[tokio::test]
async fn a_program_that_cannot_start_is_named() {
    let err = Cmd::new("tend-no-such-program").output().await.unwrap_err();
    assert!(matches!(&err, ExecError::Spawn { program, .. } if program == "tend-no-such-program"));
    assert!(err.to_string().starts_with("cannot start `tend-no-such-program`"), "{err}");

    let err = Cmd::new("sh").dir("/tend/no/such/dir").run().await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("`sh`") && message.contains("/tend/no/such/dir"), "{message}");
}

#[tokio::test]
async fn cancellation_kills_the_whole_group_and_keeps_partial_output() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let cancel = CancellationToken::new();
    let started = Instant::now();
    let (result, pgid) =
        tokio::join!(two_sleepers(&pid_file).cancel(cancel.clone()).output(), async {
            let pgid = wait_for_pid_file(&pid_file).await;
            // The shell and both sleeps.
            wait_for_members(pgid, 3).await;
            cancel.cancel();
            pgid
        });
    let err = result.unwrap_err();
    assert!(matches!(&err, ExecError::Cancelled { program, .. } if program == "sh"), "{err:?}");
    assert_eq!(err.partial_output(), b"started\n");
    assert!(started.elapsed() < PATIENCE);
    assert_group_gone(pgid).await;
}

#[tokio::test]
async fn a_timeout_kills_the_whole_group() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let started = Instant::now();
    let err = two_sleepers(&pid_file)
        .timeout(Duration::from_secs(2))
        .combined_output()
        .await
        .unwrap_err();
    assert!(matches!(err, ExecError::TimedOut { after, .. } if after == Duration::from_secs(2)));
    assert!(started.elapsed() < PATIENCE);
    assert_eq!(err.partial_output(), b"started\n");
    assert_group_gone(wait_for_pid_file(&pid_file).await).await;
}

#[tokio::test]
async fn dropping_the_future_kills_the_whole_group() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let run = two_sleepers(&pid_file).output();
    let pgid = tokio::select! {
        result = run => panic!("the sleepers ended on their own: {result:?}"),
        pgid = async {
            let pgid = wait_for_pid_file(&pid_file).await;
            wait_for_members(pgid, 3).await;
            pgid
        } => pgid,
    };
    // `run` was dropped when the select ended.
    assert_group_gone(pgid).await;
}

#[tokio::test]
async fn an_already_cancelled_token_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let cancel = CancellationToken::new();
    cancel.cancel();
    let err = Cmd::new("touch").arg(&marker).cancel(cancel).run().await.unwrap_err();
    assert!(matches!(err, ExecError::Cancelled { .. }), "{err:?}");
    assert!(!marker.exists());
}

#[tokio::test]
async fn a_background_job_holding_the_pipes_does_not_hold_up_the_result() {
    // The shell exits at once, but its background `sleep` keeps stdout open for 30 s.
    let started = Instant::now();
    let out = sh("echo $$; sleep 30 &").combined_output().await.unwrap();
    let elapsed = started.elapsed();
    let pgid: u32 = String::from_utf8_lossy(&out.output).trim().parse().unwrap();
    let left = live_members(pgid);
    kill_group(pgid);
    assert!(out.status.success());
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    // Left alone on a normal exit: it may be meant to outlive the shell.
    assert_eq!(left.len(), 1, "{left:?}");
    assert_group_gone(pgid).await;
}

#[tokio::test]
async fn background_kill_takes_the_group_and_wait_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let child = two_sleepers(&pid_file).stdout(Stdio::null()).spawn_background().unwrap();
    let pgid = wait_for_pid_file(&pid_file).await;
    assert_eq!(child.pid(), pgid);
    wait_for_members(pgid, 3).await;
    assert!(child.try_wait().is_none());
    child.kill();
    let status = tokio::time::timeout(PATIENCE, child.wait()).await.unwrap().unwrap();
    assert_eq!(status.signal(), Some(Signal::KILL.number()));
    // Waiting again gives the same answer; signalling after the end is not an error.
    assert_eq!(child.wait().await.unwrap(), status);
    child.signal(Signal::TERM).await.unwrap();
    assert_group_gone(pgid).await;
}

#[tokio::test]
async fn background_signals_are_delivered_once_to_the_group() {
    let child = Cmd::new("sleep").arg("30").spawn_background().unwrap();
    assert!(tend::proctable::is_alive(child.pid()));
    child.signal(Signal::TERM).await.unwrap();
    let status = tokio::time::timeout(PATIENCE, child.wait()).await.unwrap().unwrap();
    assert_eq!(status.signal(), Some(Signal::TERM.number()));
    assert_eq!(tend::proctable::get(child.pid()).unwrap(), None, "reaped, not a zombie");
}

#[tokio::test]
async fn background_timeout_and_cancellation_are_errors() {
    let child = Cmd::new("sleep").arg("30").timeout(Duration::from_millis(300)).spawn_background();
    let err = child.unwrap().wait().await.unwrap_err();
    assert!(matches!(err, ExecError::TimedOut { .. }), "{err:?}");

    let cancel = CancellationToken::new();
    let child = Cmd::new("sleep").arg("30").cancel(cancel.clone()).spawn_background().unwrap();
    cancel.cancel();
    let err = tokio::time::timeout(PATIENCE, child.wait()).await.unwrap().unwrap_err();
    assert!(matches!(err, ExecError::Cancelled { .. }), "{err:?}");
    assert_group_gone(child.pid()).await;
}

#[tokio::test]
async fn background_pipes_can_be_taken() {
    let mut child =
        Cmd::new("cat").stdin("hello\n").stdout(Stdio::piped()).spawn_background().unwrap();
    let mut stdout = child.take_stdout().unwrap();
    let mut echoed = String::new();
    stdout.read_to_string(&mut echoed).await.unwrap();
    assert_eq!(echoed, "hello\n");
    assert!(child.wait().await.unwrap().success());
}

/// Waits, without blocking the runtime, until group `pgid` has `count` live members.
pub(crate) async fn wait_for_members(pgid: u32, count: usize) {
    let deadline = Instant::now() + PATIENCE;
    while live_members(pgid).len() != count {
        assert!(Instant::now() < deadline, "group {pgid}: {:?}", live_members(pgid));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
