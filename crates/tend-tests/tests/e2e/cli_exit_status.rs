//! `tend run` and `tend wait` exit with the same shell status for the same program: its exit
//! code, 128+N for signal N, 124 for its timeout, 127 or 126 when it could not be started
//! (one `ProcessInfo::shell_status` decides for both).

use std::os::unix::fs::PermissionsExt;

use tend::process::exit_code;

use crate::cli_client_commands::DaemonUnderTest;
use crate::support::{DEADLINE, tend_bin};

/// `tend run [OPTIONS] -- PROGRAM…`'s exit status.
fn run_status(options: &[&str], program: &[&str]) -> Option<i32> {
    let output = assert_cmd::Command::new(tend_bin())
        .arg("run")
        .args(options)
        .arg("--")
        .args(program)
        .write_stdin(b"".as_slice())
        .timeout(DEADLINE)
        .output()
        .expect("tend run finishes");
    output.status.code()
}

/// `tend start --name NAME [OPTIONS] -- PROGRAM…` on `daemon` (which may refuse it: the
/// record is kept either way), then `tend wait NAME`'s exit status.
fn wait_status(
    daemon: &DaemonUnderTest,
    name: &str,
    options: &[&str],
    program: &[&str],
) -> Option<i32> {
    let mut start = vec!["start", "--name", name];
    start.extend(options);
    start.push("--");
    start.extend(program);
    daemon.tend(&start);
    daemon.tend(&["wait", name]).status.code()
}

#[test]
fn run_and_wait_exit_with_the_same_status() {
    let daemon = DaemonUnderTest::start();
    let dir = tempfile::tempdir().unwrap();
    let not_executable = dir.path().join("not-executable");
    std::fs::write(&not_executable, "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&not_executable, std::fs::Permissions::from_mode(0o644)).unwrap();
    let not_executable = not_executable.to_str().unwrap();
    let directory = dir.path().to_str().unwrap();

    let cases: [(&str, &[&str], &[&str], i32); 7] = [
        ("success", &[], &["true"], 0),
        ("exit-code", &[], &["sh", "-c", "exit 3"], 3),
        ("signal", &[], &["sh", "-c", "kill -KILL $$"], exit_code::signalled(tend::Signal::KILL)),
        ("timeout", &["--timeout", "1s"], &["sleep", "30"], exit_code::TIMED_OUT),
        ("not-found", &[], &["tend-e2e-no-such-program"], exit_code::NOT_FOUND),
        ("not-executable", &[], &[not_executable], exit_code::CANNOT_EXECUTE),
        ("directory", &[], &[directory], exit_code::CANNOT_EXECUTE),
    ];
    for (name, options, program, expected) in cases {
        let run = run_status(options, program);
        let wait = wait_status(&daemon, name, options, program);
        assert_eq!(
            (run, wait),
            (Some(expected), Some(expected)),
            "{name}: `tend run` vs `tend wait`"
        );
    }
}
