//! Every capturing form of the `exec` builder (`run`, `output`, `combined_output`) honours
//! cancellation and a timeout alike, leaving nothing of the group; and what it does is logged
//! through `tracing`.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tend::CancellationToken;
use tend::exec::{Cmd, ExecError};

use crate::exec::{two_sleepers, wait_for_members};
use crate::host_proctable::{PATIENCE, assert_group_gone};
use crate::program::wait_for_pid_file;

#[derive(Debug, Clone, Copy)]
enum Form {
    Run,
    Output,
    CombinedOutput,
}

const FORMS: [Form; 3] = [Form::Run, Form::Output, Form::CombinedOutput];

async fn finish(cmd: Cmd, form: Form) -> Result<(), ExecError> {
    match form {
        Form::Run => cmd.run().await.map(drop),
        Form::Output => cmd.output().await.map(drop),
        Form::CombinedOutput => cmd.combined_output().await.map(drop),
    }
}

/// Runs the two sleepers in `form` and cancels them once their group is complete.
async fn cancel_mid_run(form: Form) -> (Result<(), ExecError>, u32) {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let cancel = CancellationToken::new();
    tokio::join!(finish(two_sleepers(&pid_file).cancel(cancel.clone()), form), async {
        let pgid = wait_for_pid_file(&pid_file).await;
        wait_for_members(pgid, 3).await;
        cancel.cancel();
        pgid
    })
}

#[tokio::test]
async fn every_form_is_cancelled_mid_run_with_its_whole_group() {
    for form in FORMS {
        let started = Instant::now();
        let (result, pgid) = cancel_mid_run(form).await;
        let err = result.unwrap_err();
        assert!(
            matches!(&err, ExecError::Cancelled { program, .. } if program == "sh"),
            "{form:?}: {err:?}"
        );
        assert!(started.elapsed() < PATIENCE, "{form:?}");
        assert_group_gone(pgid).await;
    }
}

#[tokio::test]
async fn every_form_times_out_with_its_whole_group() {
    let limit = Duration::from_millis(500);
    for form in FORMS {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let started = Instant::now();
        let err = finish(two_sleepers(&pid_file).timeout(limit), form).await.unwrap_err();
        assert!(
            matches!(err, ExecError::TimedOut { after, .. } if after == limit),
            "{form:?}: {err:?}"
        );
        assert!(started.elapsed() >= limit && started.elapsed() < PATIENCE, "{form:?}");
        assert_group_gone(wait_for_pid_file(&pid_file).await).await;
    }
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn spawning_exiting_and_stopping_are_logged_through_tracing() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // The test runs on one thread (a current-thread runtime), so a thread-local default
    // subscriber sees every event of the commands below.
    let _guard = tracing::subscriber::set_default(subscriber);

    Cmd::new("true").run().await.unwrap();
    let (result, _) = cancel_mid_run(Form::Output).await;
    assert!(matches!(result, Err(ExecError::Cancelled { .. })));

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    for wanted in [
        "spawned program=\"true\"",
        "exited program=\"true\"",
        "spawned program=\"sh\"",
        "stopping process group program=\"sh\"",
        "why=\"cancelled\"",
        "killed process group program=\"sh\"",
    ] {
        assert!(text.contains(wanted), "no `{wanted}` in the log:\n{text}");
    }
}
