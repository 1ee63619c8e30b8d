//! A shared log file's failing writes: kept, counted, and forgotten once a write succeeds;
//! and a log directory's `ID.log` for each process.

use std::fs;
use std::time::Duration;

use super::{LogDir, LogFile, LogFileOptions, SharedLogFile, write_errors_total};
use crate::{ByteSize, Service, ServiceConfig, StartOptions};

#[test]
fn a_full_disk_is_kept_with_the_bytes_lost_and_counted() {
    let log = SharedLogFile::new(LogFile::open("/dev/full").unwrap());
    let before = write_errors_total();
    assert!(log.write(b"one line\n").is_err());
    assert!(log.write(b"two\n").is_err());
    assert_eq!(
        log.error().unwrap(),
        "log file /dev/full: No space left on device (13 bytes not written)"
    );
    assert!(write_errors_total() >= before + 2);
}

#[test]
fn a_file_that_cannot_be_opened_yet_starts_when_it_can_and_the_error_goes() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where the log's directory must go: the directory cannot be created.
    let blocker = dir.path().join("logs");
    fs::write(&blocker, "").unwrap();
    let path = blocker.join("web.log");
    let log = SharedLogFile::open_or_retry(&LogFileOptions::new(), &path);
    let error = log.error().unwrap();
    assert!(
        error.starts_with(&format!("log file {}: cannot create the directory", path.display())),
        "{error}"
    );
    assert!(log.write(b"lost\n").is_err());
    assert!(log.error().unwrap().ends_with("(5 bytes not written)"), "{:?}", log.error());
    fs::remove_file(&blocker).unwrap();
    log.write(b"kept\n").unwrap();
    assert_eq!(log.error(), None, "writing resumed");
    log.close().unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"kept\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_dir_gives_each_process_its_own_rotated_file() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let options = LogFileOptions::new().max_size(ByteSize::kib(4)).keep(3);
    let config = ServiceConfig {
        log_dir: Some(LogDir::new(&logs).options(options)),
        ..ServiceConfig::default()
    };
    let service = Service::with_config(config);
    let start = || StartOptions::new("seq").args(["1", "3000"]);
    let first = service.start(start()).unwrap();
    let second = service.start(start()).unwrap();
    let own = dir.path().join("own.log");
    let third = service.start(start().output_file(&own)).unwrap();
    for process in [&first, &second, &third] {
        tokio::time::timeout(Duration::from_secs(30), process.wait()).await.unwrap();
    }
    let expected: String = (1..=3000).map(|i| format!("{i}\n")).collect();
    for process in [&first, &second] {
        let path = logs.join(format!("{}.log", process.id()));
        assert_eq!(process.info().log_path.as_deref(), Some(path.as_path()));
        assert_eq!(process.info().log_error, None);
        let mut joined = Vec::new();
        for n in (1..=3).rev() {
            joined.extend(fs::read(format!("{}.{n}", path.display())).unwrap_or_default());
        }
        joined.extend(fs::read(&path).unwrap());
        assert_eq!(String::from_utf8(joined).unwrap(), expected, "exact, rotated");
        assert_eq!(process.logged_bytes(), expected.len() as u64);
    }
    assert_eq!(third.info().log_path.as_deref(), Some(own.as_path()), "its own file wins");
    // 13.9 kB in files of at most 4 KiB: four files each.
    assert_eq!(fs::read_dir(&logs).unwrap().count(), 8, "two processes, four files each");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(fs::metadata(&logs).unwrap().permissions().mode() & 0o777, 0o700);
}

#[test]
fn a_lazy_log_opens_at_the_first_write_and_counts_what_an_earlier_run_left() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs/web.log");
    let log = SharedLogFile::open_lazily(&LogFileOptions::new().max_size(ByteSize::new(10)), &path);
    assert!(!dir.path().join("logs").exists(), "nothing created before the first write");
    assert_eq!(log.error(), None);
    assert!(log.snapshot().is_empty());
    log.close().unwrap();
    assert!(!path.exists(), "a log never written to leaves no file");

    // An earlier run's 8 bytes count against the 16-byte limit: the first line (9 bytes)
    // does not fit beside them, so they are rotated first.
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, b"earlier\n").unwrap();
    let log = SharedLogFile::open_lazily(
        &LogFileOptions::new().max_size(ByteSize::new(16)).keep(1),
        &path,
    );
    log.write(b"new line\npart").unwrap();
    assert_eq!(fs::read(format!("{}.1", path.display())).unwrap(), b"earlier\n");
    assert_eq!(log.snapshot().read_from(0).unwrap(), b"earlier\nnew line\npart");
    log.close().unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"new line\npart");
}

#[test]
fn a_lazy_log_never_follows_a_link_placed_before_its_first_write() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    fs::write(&victim, b"untouched\n").unwrap();
    let path = dir.path().join("web.log");
    let log = SharedLogFile::open_lazily(&LogFileOptions::new(), &path);
    std::os::unix::fs::symlink(&victim, &path).unwrap();
    assert!(matches!(log.write(b"secret\n"), Err(super::LogFileError::Symlink { .. })));
    assert!(log.error().unwrap().contains("symbolic link"), "{:?}", log.error());
    assert_eq!(fs::read(&victim).unwrap(), b"untouched\n");
    // The link gone, the next write creates the file.
    fs::remove_file(&path).unwrap();
    log.write(b"kept\n").unwrap();
    assert_eq!(log.error(), None);
    assert_eq!(fs::read(&path).unwrap(), b"kept\n");
}

#[test]
fn a_lazy_log_with_a_zero_limit_says_so_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("web.log");
    let log = SharedLogFile::open_lazily(&LogFileOptions::new().max_size(ByteSize::new(0)), &path);
    assert!(log.error().is_some_and(|error| error.contains(path.to_str().unwrap())));
}

/// Descriptors of this process open on `path`.
fn descriptors_on(path: &std::path::Path) -> usize {
    fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| target == path)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_process_in_a_log_dir_holds_no_file_until_it_prints() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let config = ServiceConfig { log_dir: Some(LogDir::new(&logs)), ..ServiceConfig::default() };
    let service = Service::with_config(config);
    let (go, gate) = (dir.path().join("go"), dir.path().join("gate"));
    fs::write(&gate, "").unwrap();
    // Silent until `go` exists, then one line and a partial one.
    let script = format!(
        "while [ ! -e {go} ]; do sleep 0.02; done; echo late; printf partial",
        go = go.display()
    );
    let process = service.start(StartOptions::new("sh").args(["-c", &script])).unwrap();
    let path = logs.join(format!("{}.log", process.id()));
    assert_eq!(process.info().log_path.as_deref(), Some(path.as_path()));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!path.exists(), "no file while it prints nothing");
    assert_eq!(descriptors_on(&path), 0);
    assert_eq!(process.info().log_error, None);
    fs::rename(&gate, &go).unwrap();
    tokio::time::timeout(Duration::from_secs(30), process.wait()).await.unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"late\n", "the unfinished line is held");
    let (snapshot, logged) = process.log_snapshot().unwrap();
    assert_eq!(snapshot.read_from(0).unwrap(), b"late\npartial", "exact, the held line included");
    assert_eq!(logged, 12);
    assert_eq!(process.logged_bytes(), 12);
}

#[test]
fn a_released_file_is_closed_and_reopened_by_the_next_write_keeping_the_held_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("web.log");
    let log = SharedLogFile::open_lazily(&LogFileOptions::new().max_size(ByteSize::new(12)), &path);
    log.write(b"one\ntw").unwrap();
    assert_eq!(descriptors_on(&path), 1);
    log.release_file();
    assert_eq!(descriptors_on(&path), 0, "closed");
    assert_eq!(log.snapshot().read_from(0).unwrap(), b"one\ntw", "the held line kept");
    // The size is read again on reopening: "three\n" does not fit beside "one\ntwo\n".
    log.write(b"o\nthree\n").unwrap();
    assert_eq!(descriptors_on(&path), 1);
    assert_eq!(fs::read(format!("{}.1", path.display())).unwrap(), b"one\ntwo\n");
    assert_eq!(fs::read(&path).unwrap(), b"three\n");
}
