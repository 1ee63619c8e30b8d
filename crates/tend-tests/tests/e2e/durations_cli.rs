//! The largest durations through every duration flag of the `tend` binary and through
//! pipeline files (issue 10, defect 1): each is honoured ("never" when that long) or a usage
//! error (exit 2) naming the flag; none panics (exit 101). And `--timeout 0s` means no
//! timeout, as the help says.

use std::process::Output;
use std::time::Duration;

use crate::cli_client_commands::DaemonUnderTest;
use crate::support::{fixture_path, tend_bin};

/// The largest humantime duration (`u64::MAX` seconds), and a century.
const HUGE: &[&str] = &["18446744073709551615s", "100years"];
/// One more second than humantime (and `Duration`) can hold.
const TOO_LARGE: &str = "18446744073709551616s";
/// Generous: every command is one short program on a loaded machine.
const LIMIT: Duration = Duration::from_secs(30);

/// `tend ARGS…` with nothing on stdin, bounded by [`LIMIT`].
pub(crate) fn tend(args: &[&str]) -> Output {
    assert_cmd::Command::new(tend_bin())
        .args(args)
        .write_stdin("")
        .timeout(LIMIT)
        .output()
        .expect("tend finishes")
}

fn describe(output: &Output) -> String {
    format!(
        "{:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn run_takes_the_largest_durations_and_names_a_flag_past_them() {
    for huge in HUGE {
        for flags in [
            vec!["--timeout", huge],
            vec!["--grace", huge],
            vec!["--restart", "on-failure", "--restart-delay", huge],
        ] {
            let args: Vec<&str> = ["run"].into_iter().chain(flags).chain(["--", "true"]).collect();
            let output = tend(&args);
            assert_eq!(output.status.code(), Some(0), "tend {args:?}: {}", describe(&output));
        }
    }
    for flag in ["--timeout", "--grace"] {
        let output = tend(&["run", flag, TOO_LARGE, "--", "true"]);
        assert_eq!(output.status.code(), Some(2), "{flag}: {}", describe(&output));
        assert!(String::from_utf8_lossy(&output.stderr).contains(flag), "{}", describe(&output));
    }
}

#[test]
fn a_zero_timeout_means_no_timeout() {
    let output = tend(&["run", "--timeout", "0s", "--", fixture_path(), "sleep", "0.3"]);
    assert_eq!(output.status.code(), Some(0), "not timed out (124): {}", describe(&output));
    let help = tend(&["run", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("0 means no timeout"));
}

#[test]
fn daemon_commands_take_the_largest_durations_and_the_daemon_still_stops() {
    let mut daemon = DaemonUnderTest::start();
    let addr = daemon.url.trim_start_matches("http://").to_owned();
    for huge in HUGE {
        let id = daemon.ok(&["start", "--timeout", huge, "--", "true"]);
        let id = id.trim();
        assert_eq!(daemon.tend(&["wait", id]).status.code(), Some(0));
        daemon.ok(&["rm", id]);

        daemon.ok(&[
            "start",
            "--name",
            "sleeper",
            "--timeout",
            huge,
            "--",
            fixture_path(),
            "sleep",
            "60",
        ]);
        // The fixture dies of SIGTERM: a grace of any length is not used up.
        assert_eq!(daemon.ok(&["stop", "sleeper", "--grace", huge]).trim(), "stopped");
        daemon.ok(&["rm", "sleeper"]);

        let health = tend(&["health", &addr, "--timeout", huge]);
        assert_eq!(health.status.code(), Some(0), "{}", describe(&health));
    }
    // As for `tend run`, a zero timeout is none.
    daemon.ok(&[
        "start",
        "--name",
        "zero",
        "--timeout",
        "0s",
        "--",
        fixture_path(),
        "sleep",
        "0.3",
    ]);
    assert_eq!(daemon.tend(&["wait", "zero"]).status.code(), Some(0), "not timed out (124)");
    let output = daemon.tend(&["stop", "nothing", "--grace", TOO_LARGE]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let health = tend(&["health", &addr, "--timeout", TOO_LARGE]);
    assert_eq!(health.status.code(), Some(2), "{}", describe(&health));
    assert!(String::from_utf8_lossy(&health.stderr).contains("--timeout"));
    // A process with the largest timeout still running: SIGTERM stops the daemon all the same.
    daemon.ok(&["start", "--timeout", HUGE[0], "--", fixture_path(), "sleep", "60"]);
    assert!(daemon.terminate().success(), "the daemon stops on SIGTERM");
}

#[test]
fn the_daemon_takes_the_largest_grace_and_still_stops() {
    let mut daemon = DaemonUnderTest::start_with_grace(HUGE[0]);
    daemon.ok(&["start", "--name", "sleeper", "--", fixture_path(), "sleep", "60"]);
    // The fixture dies of SIGTERM: the daemon's shutdown does not wait out the grace.
    assert!(daemon.terminate().success(), "the daemon stops on SIGTERM");

    let output = tend(&["daemon", "--grace", TOO_LARGE]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--grace"));
}

#[test]
fn pipeline_files_take_the_largest_durations_and_a_zero_timeout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut text = String::new();
    for (index, huge) in HUGE.iter().enumerate() {
        for key in ["timeout", "grace", "retry_delay"] {
            text.push_str(&format!(
                "[steps.{key}_{index}]\ncommand = \"true\"\n{key} = \"{huge}\"\nretries = 1\n\n"
            ));
        }
    }
    text.push_str(&format!(
        "[steps.zero]\ncommand = \"{}\"\nargs = [\"sleep\", \"0.3\"]\ntimeout = \"0s\"\n",
        fixture_path()
    ));
    let file = dir.path().join("huge.toml");
    std::fs::write(&file, text).expect("write the file");
    let output = tend(&["up", file.to_str().expect("a UTF-8 path")]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("7 passed"), "{}", describe(&output));
}
