//! `Program`: lookup on PATH, trimmed output, failures that keep output and code, and
//! cancellation that leaves no process of the group behind.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use tend::CancellationToken;
use tend::program::{Program, ProgramError};

use crate::host_proctable::{PATIENCE, assert_group_gone};

/// Writes an executable shell script.
fn script(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn sh() -> Program {
    Program::find("sh").expect("sh on PATH")
}

#[test]
fn finds_a_real_program_as_an_absolute_path() {
    let sh = sh();
    assert_eq!(sh.name(), "sh");
    assert!(sh.path().is_absolute());
    assert!(sh.path().ends_with("sh"));
}

#[test]
fn a_missing_program_is_not_found_by_name() {
    let err = Program::find("tend-no-such-program").unwrap_err();
    assert!(
        matches!(&err, ProgramError::NotFound { program, .. } if program == "tend-no-such-program")
    );
    assert!(err.to_string().contains("tend-no-such-program"), "{err}");
}

#[test]
fn an_empty_path_entry_is_not_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    script(&dir.path().join("tend-tool"), "echo tool");
    // The tool sits in the working directory; empty entries (leading, doubled, trailing) must
    // not find it there.
    for path in [":/nonexistent", "/nonexistent::/also-not", "/nonexistent:", ""] {
        let err = Program::find_with_path("tend-tool", Some(OsStr::new(path)), dir.path())
            .expect_err(path);
        assert!(matches!(err, ProgramError::NotFound { .. }), "{path}: {err}");
    }
    // An explicit `.` is deliberate, and means the given working directory.
    let found =
        Program::find_with_path("tend-tool", Some(OsStr::new("/nonexistent:.")), dir.path())
            .unwrap();
    assert_eq!(found.path(), dir.path().join("tend-tool"));
    // And an absolute entry works from anywhere.
    let found = Program::find_with_path("tend-tool", Some(dir.path().as_os_str()), "/").unwrap();
    assert_eq!(found.path(), dir.path().join("tend-tool"));
}

#[test]
fn a_relative_path_resolves_against_the_given_directory() {
    let dir = tempfile::tempdir().unwrap();
    script(&dir.path().join("bin/tend-tool"), "echo tool");
    for name in ["bin/tend-tool", "./bin/tend-tool"] {
        let found = Program::find_in(name, dir.path()).unwrap();
        assert!(found.path().is_absolute());
        assert_eq!(found.path().canonicalize().unwrap(), dir.path().join("bin/tend-tool"));
        assert_eq!(found.name(), name);
    }
    // Not against the test's own working directory.
    let err = Program::find("./bin/tend-tool").unwrap_err();
    assert!(err.to_string().contains("./bin/tend-tool"), "{err}");
}

#[test]
fn files_that_cannot_run_are_skipped_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("first");
    std::fs::create_dir_all(&plain).unwrap();
    std::fs::write(plain.join("tend-tool"), "not a program").unwrap();
    std::fs::create_dir_all(dir.path().join("second/tend-tool")).unwrap();
    let good = dir.path().join("third");
    script(&good.join("tend-tool"), "echo tool");

    let both = std::env::join_paths([&plain, &dir.path().join("second")]).unwrap();
    let err = Program::find_with_path("tend-tool", Some(&both), "/").unwrap_err();
    assert!(err.to_string().contains("is not executable"), "{err}");

    let all = std::env::join_paths([&plain, &dir.path().join("second"), &good]).unwrap();
    let found = Program::find_with_path("tend-tool", Some(&all), "/").unwrap();
    assert_eq!(found.path(), good.join("tend-tool"));
}

#[tokio::test]
async fn run_returns_trimmed_combined_output_in_order() {
    let out = sh().run(["-c", "printf '  \\n out\\n'; echo err >&2; printf 'end \\n\\n'"]).await;
    assert_eq!(out.unwrap(), "out\nerr\nend");
}

#[tokio::test]
async fn run_in_uses_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = sh().run_in(dir.path(), ["-c", "pwd -P"]).await.unwrap();
    assert_eq!(Path::new(&out), dir.path().canonicalize().unwrap());
}

#[tokio::test]
async fn a_failure_keeps_output_and_exit_code() {
    let err = sh().run(["-c", "echo partial; echo why >&2; exit 3"]).await.unwrap_err();
    match &err {
        ProgramError::Failed { program, exit_code, signal, output } => {
            assert_eq!(program, "sh");
            assert_eq!(*exit_code, Some(3));
            assert_eq!(*signal, None);
            assert_eq!(output, "partial\nwhy");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("`sh`") && message.contains("3") && message.contains("why"),
        "{message}"
    );

    let killed = sh().run(["-c", "kill -TERM $$"]).await.unwrap_err();
    assert!(
        matches!(killed, ProgramError::Failed { exit_code: None, signal: Some(s), .. } if s == tend::Signal::TERM),
        "{killed:?}"
    );
}

#[tokio::test]
async fn cancellation_kills_the_whole_group() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let cancel = CancellationToken::new();
    let sh = sh().cancel(cancel.clone());
    let started = Instant::now();
    let path = pid_file.to_str().unwrap();
    let run = sh.run(["-c", "echo started; echo $$ > \"$1\"; sleep 30 & sleep 30", "sh", path]);
    let (result, pgid) = tokio::join!(run, async {
        let pgid = wait_for_pid_file(&pid_file).await;
        cancel.cancel();
        pgid
    });
    let err = result.unwrap_err();
    assert!(
        matches!(&err, ProgramError::Cancelled { program, output } if program == "sh" && output == "started"),
        "{err:?}"
    );
    assert!(started.elapsed() < PATIENCE);
    assert_group_gone(pgid).await;
}

#[tokio::test]
async fn a_timeout_kills_the_whole_group_and_names_the_program() {
    let sh = sh().timeout(Duration::from_secs(2));
    let started = Instant::now();
    let err = sh.run(["-c", "echo $$; sleep 30 & sleep 30"]).await.unwrap_err();
    assert!(started.elapsed() < PATIENCE);
    let ProgramError::TimedOut { after, output, .. } = &err else { panic!("{err:?}") };
    assert_eq!(*after, Duration::from_secs(2));
    assert!(err.to_string().contains("`sh` timed out after 2s"), "{err}");
    let pgid: u32 = output.parse().expect("the shell's PID in the partial output");
    assert_group_gone(pgid).await;
}

fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Polls for a PID written by a child, without blocking the runtime.
pub(crate) async fn wait_for_pid_file(path: &Path) -> u32 {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(pid) = read_pid(path) {
            return pid;
        }
        assert!(Instant::now() < deadline, "no PID in {} after {PATIENCE:?}", path.display());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
