//! PID files: one winner among racing processes and threads, stale files taken over, liveness
//! through `EPERM`, and release that leaves other owners' files alone.

use std::fs;
use std::path::PathBuf;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use tend::daemon::{PidFile, PidFileError, read_pid};

use crate::daemon_support::{HelperSpec, NOBODY, hear, helper_role, open_to_all, say};

const LINE_WAIT: Duration = Duration::from_secs(20);

/// Helper role: wait for "go", try to acquire, report, hold until stdin closes.
fn race_helper() -> ! {
    let path = PathBuf::from(std::env::var("TEND_E2E_PIDFILE").expect("path"));
    say("ready");
    assert_eq!(hear().as_deref(), Some("go"));
    match PidFile::acquire(&path) {
        Ok(held) => {
            say(&format!("won {}", held.pid()));
            while hear().is_some() {}
            held.release().expect("release");
        }
        Err(PidFileError::Held { pid, .. }) => say(&format!("lost {}", pid.unwrap_or(0))),
        Err(other) => say(&format!("error {other}")),
    }
    std::process::exit(0)
}

#[test]
fn two_processes_race_for_one_pid_file_exactly_one_wins_100_rounds() {
    if helper_role().is_some() {
        race_helper();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("race.pid");
    let test = "daemon_pidfile::two_processes_race_for_one_pid_file_exactly_one_wins_100_rounds";
    for round in 0..100 {
        let spawn = || {
            HelperSpec::new(test, "race")
                .env("TEND_E2E_PIDFILE", path.display().to_string())
                .spawn()
        };
        let mut helpers = [spawn(), spawn()];
        for helper in &helpers {
            assert_eq!(helper.next_line(LINE_WAIT), "ready");
        }
        for helper in &mut helpers {
            helper.send("go");
        }
        let results: Vec<String> = helpers.iter().map(|h| h.next_line(LINE_WAIT)).collect();
        let winners: Vec<usize> = (0..2).filter(|&i| results[i].starts_with("won ")).collect();
        assert_eq!(winners.len(), 1, "round {round}: exactly one winner, got {results:?}");
        let (winner, loser) = (winners[0], 1 - winners[0]);
        let winner_pid = helpers[winner].pid();
        assert_eq!(results[winner], format!("won {winner_pid}"), "round {round}");
        assert_eq!(results[loser], format!("lost {winner_pid}"), "round {round}: names holder");
        assert_eq!(fs::read_to_string(&path).unwrap(), format!("{winner_pid}\n"));
        for helper in helpers {
            assert!(helper.wait(LINE_WAIT).success(), "round {round}: helper failed");
        }
        assert!(!path.exists(), "round {round}: the winner's release removed the file");
    }
}

#[test]
fn concurrent_threads_in_one_process_get_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    let path = Arc::new(dir.path().join("threads.pid"));
    for round in 0..50 {
        let barrier = Arc::new(Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (barrier, path) = (Arc::clone(&barrier), Arc::clone(&path));
                std::thread::spawn(move || {
                    barrier.wait();
                    let outcome = PidFile::acquire(&*path);
                    // Hold until everyone has tried, so a quick release cannot make two winners.
                    barrier.wait();
                    outcome
                })
            })
            .collect();
        let outcomes: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let won = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(won, 1, "round {round}");
        for outcome in &outcomes {
            if let Err(error) = outcome {
                assert!(
                    matches!(error, PidFileError::Held { pid: Some(p), .. } if *p == std::process::id())
                );
                let message = error.to_string();
                assert!(message.contains(&path.display().to_string()), "{message}");
                assert!(message.contains(&format!("PID {}", std::process::id())), "{message}");
            }
        }
        drop(outcomes);
        assert!(!path.exists());
    }
}

#[test]
fn stale_file_without_lock_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stale.pid");
    // A crashed owner's file: a PID, and no lock, since the kernel dropped it with the owner.
    fs::write(&path, "999999999\n").unwrap();
    let held = PidFile::acquire(&path).expect("stale file is taken over");
    assert_eq!(fs::read_to_string(&path).unwrap(), format!("{}\n", std::process::id()));
    assert_eq!(held.pid(), std::process::id());
    let status = read_pid(&path).unwrap();
    assert_eq!((status.pid, status.alive), (std::process::id(), true));
}

#[test]
fn read_pid_reports_dead_and_invalid_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dead.pid");
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = child.id();
    child.wait().unwrap();
    fs::write(&path, format!("{dead_pid}\n")).unwrap();
    assert!(!read_pid(&path).unwrap().alive);
    fs::write(&path, "not a pid").unwrap();
    assert!(matches!(read_pid(&path), Err(PidFileError::Invalid { .. })));
    let missing = dir.path().join("missing.pid");
    let error = read_pid(&missing).unwrap_err();
    assert!(error.to_string().contains("missing.pid"), "{error}");
}

/// Helper role, run as an unprivileged user: report `read_pid` on the file it is given.
fn eperm_helper() -> ! {
    let path = std::env::var("TEND_E2E_PIDFILE").expect("path");
    let uid = fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m));
    match read_pid(&path) {
        Ok(status) => say(&format!("uid={} alive={}", uid.unwrap_or(0), status.alive)),
        Err(e) => say(&format!("error {e}")),
    }
    std::process::exit(0)
}

/// `kill(pid, 0)` fails with `EPERM` for a process we may not signal; that process is alive.
/// As root every process may be signalled, so the check runs in a helper switched to `nobody`,
/// looking at this (root-owned) test process. Unprivileged, it looks at PID 1 directly.
#[test]
fn pid_file_naming_a_live_process_we_may_not_signal_counts_as_alive() {
    if helper_role().is_some() {
        eperm_helper();
    }
    let dir = tempfile::tempdir().unwrap();
    open_to_all(dir.path());
    let path = dir.path().join("other-user.pid");
    if !crate::daemon_support::running_as_root() {
        fs::write(&path, "1\n").unwrap();
        assert!(read_pid(&path).unwrap().alive, "PID 1 belongs to root and is alive");
        return;
    }
    fs::write(&path, format!("{}\n", std::process::id())).unwrap();
    let test = "daemon_pidfile::pid_file_naming_a_live_process_we_may_not_signal_counts_as_alive";
    let helper = HelperSpec::new(test, "eperm")
        .env("TEND_E2E_PIDFILE", path.display().to_string())
        .user(NOBODY)
        .spawn();
    assert_eq!(helper.next_line(LINE_WAIT), format!("uid={NOBODY} alive=true"));
    assert!(helper.wait(LINE_WAIT).success());

    // The same helper on a dead PID says dead, so the answer above is not a constant.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    fs::write(&path, format!("{dead}\n")).unwrap();
    let helper = HelperSpec::new(test, "eperm")
        .env("TEND_E2E_PIDFILE", path.display().to_string())
        .user(NOBODY)
        .spawn();
    assert_eq!(helper.next_line(LINE_WAIT), format!("uid={NOBODY} alive=false"));
    assert!(helper.wait(LINE_WAIT).success());
}

#[test]
fn release_leaves_a_file_that_someone_else_now_owns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replaced.pid");
    let ours = PidFile::acquire(&path).unwrap();
    // Someone removes our file and a new owner creates and locks its own at the same path.
    fs::remove_file(&path).unwrap();
    let theirs = PidFile::acquire(&path).expect("the path is free again");
    ours.release().unwrap();
    assert!(path.exists(), "release must not remove the new owner's file");
    assert_eq!(fs::read_to_string(&path).unwrap(), format!("{}\n", std::process::id()));
    // And the new owner still holds it.
    assert!(matches!(PidFile::acquire(&path), Err(PidFileError::Held { .. })));
    theirs.release().unwrap();
    assert!(!path.exists());
}

#[test]
fn acquire_creates_parent_directories_and_reports_io_errors_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b/c/app.pid");
    let held = PidFile::acquire(&nested).unwrap();
    assert!(nested.exists());
    drop(held);
    assert!(!nested.exists(), "drop releases");

    let blocker = dir.path().join("file");
    fs::write(&blocker, "").unwrap();
    let error = PidFile::acquire(blocker.join("app.pid")).unwrap_err();
    assert!(matches!(error, PidFileError::Io { .. }), "{error:?}");
    assert!(error.to_string().contains(&blocker.display().to_string()), "{error}");
}
