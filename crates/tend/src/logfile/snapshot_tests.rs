//! Snapshots of a log that is being written to and rotated at the same time, with real
//! files: the snapshot and the writer's count always agree.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{LogCount, LogFileOptions, LogSnapshot, SharedLogFile};
use crate::ByteSize;

/// `0000000 line\n`, `0000001 line\n`, …: every byte tells where it is in the stream.
fn numbered_lines(count: usize) -> Vec<u8> {
    (0..count).flat_map(|n| format!("{n:07} line\n").into_bytes()).collect()
}

#[test]
fn a_snapshot_taken_while_the_log_rotates_ends_where_the_count_says() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flood.log");
    // Small files and many of them kept: a rotation every few writes, none lost.
    let options = LogFileOptions::new().max_size(ByteSize::kib(4)).keep(10_000);
    let log = SharedLogFile::new(options.open(&path).unwrap());
    let count = Arc::new(LogCount::default());
    let stream = numbered_lines(60_000);
    let done = Arc::new(AtomicBool::new(false));
    let writer = std::thread::spawn({
        let (log, count, stream, done) = (log.clone(), count.clone(), stream.clone(), done.clone());
        move || {
            // Uneven units, some ending inside a line (held by the log until its end).
            for unit in stream.chunks(997) {
                log.write_counted(unit, Some(&count)).unwrap();
            }
            done.store(true, Ordering::Relaxed);
        }
    });
    let mut checked = 0;
    while !done.load(Ordering::Relaxed) || checked == 0 {
        let (snapshot, logged) = log.snapshot_for(&count);
        let bytes = snapshot.read_from(0).unwrap();
        assert_eq!(bytes.len() as u64, snapshot.len());
        assert!(bytes == stream[..logged as usize], "the snapshot is the stream up to {logged}");
        // Rotations since (the writer goes on) do not change what it reads.
        assert!(snapshot.read_from(0).unwrap() == bytes, "read again after more writes");
        checked += 1;
    }
    writer.join().unwrap();
    assert!(LogSnapshot::list(&path).read_from(0).unwrap() == stream, "listed by path");
    log.write(b"unfinished").unwrap();
    let with_held = [&stream[..], b"unfinished"].concat();
    assert!(log.snapshot().read_from(0).unwrap() == with_held, "the held line is in it");
    assert!(checked > 1, "snapshots taken while it wrote: {checked}");
}

#[test]
fn a_snapshot_for_one_process_ends_at_its_bytes_when_another_appended_after() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("service.log");
    let options = LogFileOptions::new().max_size(ByteSize::kib(1)).keep(100);
    std::fs::write(&path, b"from an earlier daemon\n").unwrap();
    let log = SharedLogFile::new(options.open(&path).unwrap());
    let (first, second) = (LogCount::default(), LogCount::default());
    let first_bytes = numbered_lines(200);
    log.write_counted(&first_bytes, Some(&first)).unwrap();
    log.write_counted(b"the next run\n", Some(&second)).unwrap();
    let (snapshot, logged) = log.snapshot_for(&first);
    assert_eq!(logged, first_bytes.len() as u64);
    let bytes = snapshot.read_from(0).unwrap();
    assert!(bytes.ends_with(&first_bytes), "the first process's bytes end the snapshot");
    assert!(bytes.starts_with(b"from an earlier daemon\n"));
    let (snapshot, logged) = log.snapshot_for(&second);
    assert_eq!(logged, 13);
    assert!(snapshot.read_from(0).unwrap().ends_with(b"the next run\n"));
    assert_eq!(snapshot.read_range(5, 9).unwrap(), b"an e");
}
