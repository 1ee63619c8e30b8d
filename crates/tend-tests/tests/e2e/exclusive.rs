//! The exclusive runner: exactly one run at a time under contention, refusal at once,
//! cancellation that takes the whole group down, and exit codes.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tend::CancellationToken;
use tend::Service;
use tend::exclusive::{ExclusiveError, ExclusiveRunner};
use tend::script::Script;
use tokio::sync::Barrier;

use crate::host_proctable::{PATIENCE, assert_group_gone, kill_group};
use crate::program::wait_for_pid_file;

/// A script that counts its runs in `dir/runs`, then waits (bounded) for `dir/release`.
fn gated(dir: &Path) -> Script {
    Script::new(
        "echo run >> \"$DIR/runs\"\n\
         for _ in $(seq 1000); do [ -e \"$DIR/release\" ] && exit 0; sleep 0.02; done\n\
         exit 1",
    )
    .env("DIR", dir.display().to_string())
}

fn runs(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("runs")).map_or(0, |text| text.lines().count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_sixteen_concurrent_callers_exactly_one_runs() {
    let dir = tempfile::tempdir().unwrap();
    let runner = ExclusiveRunner::new(Service::new());
    let barrier = Arc::new(Barrier::new(16));
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (runner, barrier, script) = (runner.clone(), barrier.clone(), gated(dir.path()));
        callers.spawn(async move {
            barrier.wait().await;
            let started = Instant::now();
            let result = runner.run_until_completion(script, CancellationToken::new()).await;
            (result, started.elapsed())
        });
    }
    // The fifteen refusals come back while the winner is still held at its gate.
    let mut refused = 0;
    while refused < 15 {
        let Ok(joined) = tokio::time::timeout(PATIENCE, callers.join_next()).await else {
            panic!("only {refused} of 15 callers were refused; {} scripts ran", runs(dir.path()));
        };
        let (result, took) = joined.unwrap().unwrap();
        assert!(matches!(result, Err(ExclusiveError::AlreadyRunning)), "{result:?}");
        assert!(took < Duration::from_secs(5), "refused at once, not after {took:?}");
        refused += 1;
    }
    assert_eq!(refused, 15);
    assert!(runner.is_running());
    std::fs::write(dir.path().join("release"), "").unwrap();
    let joined = tokio::time::timeout(PATIENCE, callers.join_next()).await;
    let (result, _) = joined.expect("the winner to finish").unwrap().unwrap();
    assert_eq!(result.unwrap(), (String::new(), 0));
    assert_eq!(runs(dir.path()), 1);

    // Released: the next caller runs.
    assert!(!runner.is_running());
    let again = runner.run_until_completion(gated(dir.path()), CancellationToken::new()).await;
    assert_eq!(again.unwrap().1, 0);
    assert_eq!(runs(dir.path()), 2);
}

#[tokio::test]
async fn exit_codes_and_output_come_back() {
    let runner = ExclusiveRunner::new(Service::new());
    let cases = [
        ("echo out; echo err >&2; tend-no-such-command-anywhere", 127),
        ("if then fi", 2),
        ("echo bye; exit 42", 42),
        ("kill -TERM $$", 128 + 15),
    ];
    for (text, code) in cases {
        let (output, status) =
            runner.run_until_completion(Script::new(text), CancellationToken::new()).await.unwrap();
        assert_eq!(status, code, "{text}: {output}");
        if code == 42 {
            assert_eq!(output, "bye\n");
        }
        if code == 127 {
            // Two pipes: their relative order is not kept, each one's is.
            assert!(output.contains("out\n") && output.contains("err\n"), "{output}");
        }
    }
}

#[tokio::test]
async fn cancellation_kills_the_group_promptly_and_releases_the_runner() {
    for allow_detached in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let script = Script::new("echo started; echo $$ > \"$PID_FILE\"; sleep 30 & sleep 30")
            .env("PID_FILE", pid_file.display().to_string())
            .allow_detached(allow_detached);
        let runner = ExclusiveRunner::new(Service::new());
        let cancel = CancellationToken::new();
        let started = Instant::now();
        let (result, pgid) =
            tokio::join!(runner.run_until_completion(script, cancel.clone()), async {
                let pgid = wait_for_pid_file(&pid_file).await;
                cancel.cancel();
                pgid
            });
        let elapsed = started.elapsed();
        kill_group(pgid); // clean-up only: asserted below
        let err = result.unwrap_err();
        assert!(
            matches!(&err, ExclusiveError::Cancelled { output } if output == "started\n"),
            "{err:?}"
        );
        assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
        assert!(!runner.is_running());
        assert_group_gone(pgid).await;
    }
}

#[tokio::test]
async fn dropping_the_run_kills_the_script_and_releases_the_runner() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let script = Script::new("echo $$ > \"$PID_FILE\"; sleep 30 & sleep 30")
        .env("PID_FILE", pid_file.display().to_string());
    let runner = ExclusiveRunner::new(Service::new());
    let pgid = tokio::select! {
        _ = runner.run_until_completion(script, CancellationToken::new()) => panic!("ended by itself"),
        pgid = wait_for_pid_file(&pid_file) => pgid,
    };
    assert!(!runner.is_running());
    assert_group_gone(pgid).await;
}

#[tokio::test]
async fn a_token_cancelled_beforehand_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let runner = ExclusiveRunner::new(Service::new());
    let cancel = CancellationToken::new();
    cancel.cancel();
    let err = runner.run_until_completion(gated(dir.path()), cancel).await.unwrap_err();
    assert!(matches!(&err, ExclusiveError::Cancelled { output } if output.is_empty()), "{err:?}");
    assert_eq!(runs(dir.path()), 0);
    assert!(!runner.is_running());
}

#[tokio::test]
async fn a_script_that_cannot_start_releases_the_runner() {
    let runner = ExclusiveRunner::new(Service::new());
    let script = Script::new("true").env("", "no name");
    let err = runner.run_until_completion(script, CancellationToken::new()).await.unwrap_err();
    assert!(matches!(err, ExclusiveError::Script(_)), "{err:?}");
    let ok = runner.run_until_completion(Script::new("true"), CancellationToken::new()).await;
    assert_eq!(ok.unwrap(), (String::new(), 0));
}
