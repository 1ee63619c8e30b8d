//! Logs on disk through the real `tend daemon`: every byte of an ad-hoc process's output in
//! `STATE_DIR/logs/ID.log` (rotated), `tend logs` printing what the files hold past the 1 MiB
//! ring, `-n` and `-f` across rotations and a restart, `rm` deleting the files, and a full
//! disk that never stops a process.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::cli_client_commands::DaemonUnderTest;
use crate::cli_usage::metrics_text;
use crate::server_support::FIXTURE;
use crate::support::{eventually, wait_child};

const LONG: Duration = Duration::from_secs(40);

/// What `seq 1 N` prints.
fn seq(n: u32) -> Vec<u8> {
    (1..=n).map(|i| format!("{i}\n")).collect::<String>().into_bytes()
}

/// The last `n` lines of `bytes` (which end with a newline).
fn last_lines(bytes: &[u8], n: usize) -> Vec<u8> {
    let text = std::str::from_utf8(bytes).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len() - n..].iter().map(|line| format!("{line}\n")).collect::<String>().into_bytes()
}

/// `PATH.N` … `PATH.1`, `PATH` that exist, oldest first, concatenated, and how many.
fn log_files(path: &Path) -> (Vec<u8>, usize) {
    let mut bytes = Vec::new();
    let mut count = 0;
    for n in (1..=1000).rev() {
        if let Ok(part) = std::fs::read(format!("{}.{n}", path.display())) {
            bytes.extend_from_slice(&part);
            count += 1;
        }
    }
    if let Ok(part) = std::fs::read(path) {
        bytes.extend_from_slice(&part);
        count += 1;
    }
    (bytes, count)
}

fn started_id(daemon: &DaemonUnderTest, args: &[&str]) -> String {
    let id = daemon.ok(&[&["start"][..], args].concat());
    id.trim().to_owned()
}

fn info(daemon: &DaemonUnderTest, id: &str) -> serde_json::Value {
    let list: serde_json::Value =
        serde_json::from_str(&daemon.ok(&["ps", "--all", "--json"])).unwrap();
    list.as_array().unwrap().iter().find(|info| info["id"] == id).expect("listed").clone()
}

/// `tend ARGS`'s stdout, read while it runs (it can be megabytes); it must succeed.
fn stdout_of(daemon: &DaemonUnderTest, args: &[&str]) -> Vec<u8> {
    let mut child = daemon
        .command(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn tend");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        stdout.read_to_end(&mut bytes).unwrap();
        bytes
    });
    let status = wait_child(&mut child, LONG);
    assert!(status.success(), "tend {args:?}: {status:?}");
    reader.join().unwrap()
}

#[test]
fn logs_print_all_the_files_hold_past_the_ring() {
    let daemon = DaemonUnderTest::start();
    // 3.4 MB, more than the 1 MiB ring.
    let id = started_id(&daemon, &["--", "seq", "1", "500000"]);
    assert_eq!(daemon.tend(&["wait", &id]).status.code(), Some(0));
    let expected = seq(500_000);
    assert!(expected.len() > 3 * 1024 * 1024);
    let path = daemon.state_dir().join(format!("logs/{id}.log"));
    assert_eq!(info(&daemon, &id)["log_path"], path.to_str().unwrap());
    assert!(info(&daemon, &id)["log_error"].is_null());
    let printed = stdout_of(&daemon, &["logs", &id]);
    assert_eq!(printed.len(), expected.len(), "tend logs | wc -c");
    assert!(printed == expected, "tend logs prints the exact output");
    assert_eq!(log_files(&path).0, expected, "the file holds it all, byte-exact");
    let tail = stdout_of(&daemon, &["logs", "-n", "3", &id]);
    assert_eq!(tail, b"499998\n499999\n500000\n");
}

#[test]
fn rotation_loses_nothing_below_the_limit_and_tail_reads_across_files() {
    let daemon = DaemonUnderTest::start_with(&["--log-max-size", "64KiB", "--log-keep", "100"]);
    let id = started_id(&daemon, &["--", "seq", "1", "300000"]);
    assert_eq!(daemon.tend(&["wait", &id]).status.code(), Some(0));
    let expected = seq(300_000);
    let path = daemon.state_dir().join(format!("logs/{id}.log"));
    let (on_disk, files) = log_files(&path);
    assert!(files > 20, "rotated into {files} files");
    assert!(on_disk == expected, "the files concatenated are the exact output");
    for n in 1..files {
        let size = std::fs::metadata(format!("{}.{n}", path.display())).unwrap().len();
        assert!(size <= 64 * 1024, "{}.{n} has {size} bytes", path.display());
    }
    assert!(stdout_of(&daemon, &["logs", &id]) == expected);
    // 30 000 lines span several files (about 9 400 lines each).
    let tail = stdout_of(&daemon, &["logs", "--tail", "30000", &id]);
    assert!(tail == last_lines(&expected, 30_000), "-n across rotated files");
    // `rm` of the finished record deletes its files.
    daemon.ok(&["rm", &id]);
    assert_eq!(log_files(&path).1, 0, "ID.log* removed");
}

#[test]
fn follow_goes_across_rotations_and_marks_a_restart() {
    let daemon = DaemonUnderTest::start_with(&["--log-max-size", "256KiB", "--log-keep", "40"]);
    let work = tempfile::tempdir().unwrap();
    // 2 MB a run, twice: the first run fails with 3 and is restarted once.
    let script = "seq 1 300000; if [ -f ran ]; then exit 0; fi; touch ran; sleep 6; exit 3";
    let id = started_id(
        &daemon,
        &[
            "--restart",
            "on-failure",
            "--max-restarts",
            "1",
            "--restart-delay",
            "1s",
            "-C",
            work.path().to_str().unwrap(),
            "--",
            "sh",
            "-c",
            script,
        ],
    );
    let path = daemon.state_dir().join(format!("logs/{id}.log"));
    // Follow once the ring no longer holds the start (the beginning comes from the files),
    // while the first run sleeps before failing.
    let first_run = seq(300_000).len();
    eventually(LONG, "the first run's output on disk", || log_files(&path).0.len() == first_run);
    let mut follower = daemon
        .command(&["logs", "-f", &id])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tend logs -f");
    let mut stdout = follower.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        stdout.read_to_end(&mut bytes).unwrap();
        bytes
    });
    let status = wait_child(&mut follower, LONG);
    assert!(status.success(), "{status:?}");
    let printed = reader.join().unwrap();
    let mut stderr = String::new();
    follower.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let expected = [seq(300_000), seq(300_000)].concat();
    assert_eq!(printed.len(), expected.len(), "stderr: {stderr}");
    assert!(printed == expected, "both runs, exactly");
    // The marker names the exit code, unless the follower lagged behind the events of the
    // flood of lines and missed the `restarted` event (then the record's count shows it).
    assert!(
        ["-- restarted (attempt 1) after exit code 3 --\n", "-- restarted (attempt 1) --\n"]
            .contains(&stderr.as_str()),
        "{stderr}"
    );
    assert_eq!(info(&daemon, &id)["restarts"], 1);
    assert!(log_files(&path).1 > 10, "rotated");
    // -n across the restart and the rotated files: the first run's last line, then all of
    // the second run.
    let tail = stdout_of(&daemon, &["logs", "-n", "300001", &id]);
    assert!(tail == [b"300000\n".to_vec(), seq(300_000)].concat(), "-n across a restart");
}

/// A tmpfs mounted on a directory for the test's life.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Self {
        assert!(
            crate::daemon_support::running_as_root(),
            "the full-disk test mounts a tmpfs and must run as root (id -u is not 0)"
        );
        std::fs::create_dir_all(dir).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("run mount");
        assert!(status.success(), "cannot mount a tmpfs on {}: {status:?}", dir.display());
        Self(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_never_stops_a_process_and_writing_resumes() {
    let mut daemon = DaemonUnderTest::start();
    let daemon_log = crate::support::line_channel(daemon.take_stderr());
    let logs = daemon.state_dir().join("logs");
    let _tmpfs = Tmpfs::mount(&logs, "1m");
    let id = started_id(&daemon, &["--name", "chat", "--", FIXTURE, "echo"]);
    let path = logs.join(format!("{id}.log"));
    daemon.ok(&["input", "chat", "before the disk filled"]);
    eventually(LONG, "the first line on disk", || {
        std::fs::read(&path).is_ok_and(|bytes| bytes == b"before the disk filled\n")
    });
    // Fill the disk.
    let filler = logs.join("filler");
    let filled = Command::new("dd")
        .args(["if=/dev/zero", "bs=4096", "count=1000"])
        .arg(format!("of={}", filler.display()))
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!filled.success(), "dd should have run out of space");
    let line = "x".repeat(5000);
    daemon.ok(&["input", "chat", &line]);
    let error = crate::support::eventually_some(LONG, "log_error in ps --json", || {
        info(&daemon, &id)["log_error"].as_str().map(str::to_owned)
    });
    assert!(error.contains(path.to_str().unwrap()), "{error}");
    assert!(error.contains("No space left on device"), "{error}");
    assert!(error.contains("bytes not written"), "{error}");
    // It runs on, and its output still reaches the ring and the API.
    daemon.ok(&["input", "chat", "still here"]);
    eventually(LONG, "the output in logs", || {
        String::from_utf8(stdout_of(&daemon, &["logs", "chat"])).unwrap().ends_with("still here\n")
    });
    assert_eq!(info(&daemon, &id)["status"], "running");
    let table = daemon.ok(&["ps"]);
    assert!(
        table.contains(&format!("chat: {error}")) || table.contains("No space left"),
        "{table}"
    );
    let metrics = metrics_text(&daemon);
    let count = metrics
        .lines()
        .find_map(|line| line.strip_prefix("tend_log_write_errors_total "))
        .expect("the counter in /metrics");
    assert!(count.trim().parse::<u64>().unwrap() > 0, "{metrics}");
    // Space freed: writing resumes with the next line.
    std::fs::remove_file(&filler).unwrap();
    daemon.ok(&["input", "chat", "after the space was freed"]);
    eventually(LONG, "the line after the space was freed on disk", || {
        std::fs::read_to_string(&path)
            .is_ok_and(|text| text.ends_with("after the space was freed\n"))
    });
    assert!(info(&daemon, &id)["log_error"].is_null());
    // The daemon's log says it once when it began and once when it ended, however many
    // writes failed in between.
    let began = crate::support::next_line(&daemon_log, "the daemon's log line for the error");
    assert!(
        began.contains(&format!("log file {}: No space left on device", path.display())),
        "{began}"
    );
    let ended = crate::support::next_line(&daemon_log, "the daemon's log line for resuming");
    assert!(ended.contains(&format!("log file {}: writing again (", path.display())), "{ended}");
    daemon.ok(&["kill", "chat"]);
    assert!(daemon_log.try_recv().is_err(), "nothing more in the daemon's log");
}

#[test]
fn follow_marks_a_restart_with_the_exit_code_on_stderr() {
    let daemon = DaemonUnderTest::start();
    let work = tempfile::tempdir().unwrap();
    let script = "echo run; if [ -f ran ]; then exit 0; fi; touch ran; sleep 2; exit 3";
    let dir = work.path().to_str().unwrap();
    let restart = ["--restart", "on-failure", "--max-restarts", "1", "--restart-delay", "1s"];
    let id = started_id(&daemon, &[&restart[..], &["-C", dir, "--", "sh", "-c", script]].concat());
    let output = daemon
        .command(&["logs", "-f", &id])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tend logs -f");
    let output = output.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(output.stdout, b"run\nrun\n");
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "-- restarted (attempt 1) after exit code 3 --\n"
    );
}
