//! Log files with real files, real processes and the real file system's errors.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{LogFile, LogFileError, LogFileOptions, append_output, follow};
use crate::{ByteSize, Service, StartOptions};

/// Lines of pseudo-random lengths (2 to 300 bytes with the newline), `total` bytes or a few
/// more.
fn lines(total: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(total + 400);
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut n = 0u64;
    while bytes.len() < total {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = (state % 300) as usize;
        let line = format!("{n:08} {}", "x".repeat(len));
        bytes.extend_from_slice(&line.as_bytes()[..len.max(1).min(line.len())]);
        bytes.push(b'\n');
        n += 1;
    }
    bytes
}

/// The live file and every `PATH.N` that exists, oldest first, and the count of files in
/// the directory (to see that nothing else was left).
fn rotated_files(path: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for n in (1..=100).rev() {
        let numbered = super::files::numbered(path, n);
        if let Ok(bytes) = fs::read(&numbered) {
            files.push((numbered, bytes));
        }
    }
    files.push((path.to_path_buf(), fs::read(path).unwrap()));
    files
}

fn entries(dir: &Path) -> usize {
    fs::read_dir(dir).unwrap().count()
}

/// Checks what the issue asks of a rotated log: at most `keep` rotated files, each file at
/// most `max` bytes and ending at a line boundary, and their concatenation the newest bytes of
/// `written`, exactly, starting at a line.
fn check_rotation(path: &Path, written: &[u8], max: usize, keep: usize) {
    let files = rotated_files(path);
    assert_eq!(files.len(), keep + 1, "{:?}", files.iter().map(|f| &f.0).collect::<Vec<_>>());
    assert_eq!(entries(path.parent().unwrap()), keep + 1, "nothing beyond {keep} rotated files");
    let mut kept = Vec::new();
    for (file, bytes) in &files {
        assert!(bytes.len() <= max, "{} has {} bytes, over {max}", file.display(), bytes.len());
        assert!(!bytes.is_empty(), "{} is empty", file.display());
        assert_eq!(bytes.last(), Some(&b'\n'), "{} ends mid-line", file.display());
        kept.extend_from_slice(bytes);
    }
    assert!(written.ends_with(&kept), "the kept files are not the newest bytes, exactly");
    let start = written.len() - kept.len();
    assert!(start == 0 || written[start - 1] == b'\n', "the oldest kept file starts mid-line");
    // The files are full up to a line: what is kept is at least keep files of nearly `max`.
    assert!(kept.len() > keep * (max - 300), "only {} bytes kept", kept.len());
}

#[test]
fn three_mib_with_a_one_mib_limit_keeps_the_newest_bytes_exactly_in_three_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("web.log");
    let max = 1024 * 1024;
    let mut log = LogFileOptions::new().max_size(ByteSize::mib(1)).keep(2).open(&path).unwrap();
    let written = lines(3 * max);
    // Writes of odd sizes, so most end mid-line.
    for chunk in written.chunks(4093) {
        log.write(chunk).unwrap();
    }
    log.close().unwrap();
    check_rotation(&path, &written, max, 2);
}

#[test]
fn a_partial_line_is_held_until_its_end_and_written_on_close_or_drop() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let mut log = LogFileOptions::new().max_size(ByteSize::new(10)).keep(1).open(&path).unwrap();
    log.write(b"12345").unwrap();
    assert_eq!(log.held(), 5);
    assert_eq!(fs::read(&path).unwrap(), b"");
    log.write(b"678\nabc").unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"12345678\n");
    // `abcdef\n` would pass 10 bytes: the file rotates before it, not in the middle.
    log.write(b"def\nxy").unwrap();
    assert_eq!(fs::read(super::files::numbered(&path, 1)).unwrap(), b"12345678\n");
    assert_eq!(fs::read(&path).unwrap(), b"abcdef\n");
    drop(log);
    assert_eq!(fs::read(&path).unwrap(), b"abcdef\nxy", "drop writes the held line");
}

#[test]
fn an_existing_file_is_appended_to_and_counts_toward_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("web.log");
    fs::write(&path, "an earlier run wrote this line\n").unwrap(); // 31 bytes
    let options = LogFileOptions::new().max_size(ByteSize::new(40)).keep(3);
    let mut log = options.open(&path).unwrap();
    assert_eq!(log.size(), 31);
    log.write(b"fits\n").unwrap(); // 36
    log.write(b"does not fit\n").unwrap();
    log.close().unwrap();
    let first = super::files::numbered(&path, 1);
    assert_eq!(fs::read(&first).unwrap(), b"an earlier run wrote this line\nfits\n");
    assert_eq!(fs::read(&path).unwrap(), b"does not fit\n");
    // A second run goes on where the first stopped, and shifts the first run's rotation.
    let mut log = options.open(&path).unwrap();
    log.write(b"second run, long enough to rotate\n").unwrap();
    drop(log);
    assert_eq!(
        fs::read(super::files::numbered(&path, 2)).unwrap(),
        b"an earlier run wrote this line\nfits\n"
    );
    assert_eq!(fs::read(&first).unwrap(), b"does not fit\n");
    assert_eq!(fs::read(&path).unwrap(), b"second run, long enough to rotate\n");
}

#[test]
fn keep_zero_keeps_only_the_live_file_and_extra_old_files_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.log");
    // Left by an earlier run that kept more.
    fs::write(super::files::numbered(&path, 1), "old 1\n").unwrap();
    fs::write(super::files::numbered(&path, 2), "old 2\n").unwrap();
    let mut log = LogFileOptions::new().max_size(ByteSize::kib(4)).keep(0).open(&path).unwrap();
    let written = lines(20 * 1024);
    for chunk in written.chunks(1000) {
        log.write(chunk).unwrap();
    }
    log.close().unwrap();
    check_rotation(&path, &written, 4096, 0);
}

#[test]
fn a_line_longer_than_the_limit_goes_whole_into_a_file_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.log");
    let mut log = LogFileOptions::new().max_size(ByteSize::new(100)).keep(5).open(&path).unwrap();
    let long = [b"L".repeat(349), b"\n".to_vec()].concat();
    // In one write (whole lines) and in pieces (held past the limit, then written as it comes).
    log.write(b"short\n").unwrap();
    log.write(&long).unwrap();
    log.write(b"between\n").unwrap();
    for piece in long.chunks(60) {
        log.write(piece).unwrap();
    }
    log.write(b"after\n").unwrap();
    log.close().unwrap();
    let files: Vec<Vec<u8>> = rotated_files(&path).into_iter().map(|(_, bytes)| bytes).collect();
    let expected: Vec<&[u8]> = vec![b"short\n", &long, b"between\n", &long, b"after\n"];
    assert_eq!(files, expected);
}

#[test]
fn a_symbolic_link_at_the_log_path_is_refused_and_its_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("precious");
    fs::write(&target, "keep me").unwrap();
    let path = dir.path().join("web.log");
    std::os::unix::fs::symlink(&target, &path).unwrap();
    let error = LogFile::open(&path).unwrap_err();
    assert!(matches!(error, LogFileError::Symlink { .. }), "{error:?}");
    assert!(error.to_string().contains(&path.display().to_string()), "{error}");
    assert_eq!(fs::read(&target).unwrap(), b"keep me");
}

#[test]
fn a_directory_or_fifo_at_the_path_and_a_zero_limit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let error = LogFile::open(dir.path()).unwrap_err();
    assert!(matches!(error, LogFileError::WrongType { found: "a directory", .. }), "{error:?}");
    let error =
        LogFileOptions::new().max_size(ByteSize::new(0)).open(dir.path().join("x")).unwrap_err();
    assert!(error.to_string().contains("must be more than 0"), "{error}");
}

#[test]
fn missing_parent_directories_are_created_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs/project/web.log");
    let mut log = LogFile::open(&path).unwrap();
    log.write(b"up\n").unwrap();
    let mode = fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode & !0o600, 0, "file mode {mode:o}");
}

#[test]
fn a_full_disk_is_an_error_naming_the_file_and_the_writer_stays_usable() {
    let mut log = LogFile::open("/dev/full").unwrap();
    for _ in 0..2 {
        let error = log.write(b"no space for this line\n").unwrap_err();
        assert!(matches!(error, LogFileError::Io { action: "write", .. }), "{error:?}");
        assert_eq!(error.os_error().unwrap().raw_os_error(), Some(28), "ENOSPC");
        assert!(error.to_string().contains("/dev/full"), "{error}");
    }
    let io_error: std::io::Error = log.write_all(b"x\n").unwrap_err();
    assert_eq!(io_error.kind(), ErrorKind::StorageFull);
}

#[test]
fn an_unwritable_path_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("file");
    fs::write(&not_a_dir, "").unwrap();
    let path = not_a_dir.join("web.log");
    let error = LogFile::open(&path).unwrap_err();
    assert!(error.to_string().contains(&not_a_dir.display().to_string()), "{error}");
}

#[test]
fn a_failed_rotation_keeps_the_bytes_in_the_live_file_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("web.log");
    let mut log = LogFileOptions::new().max_size(ByteSize::new(10)).keep(1).open(&path).unwrap();
    log.write(b"first\n").unwrap();
    // A non-empty directory where the rotated file must go: rename cannot replace it.
    let blocker = super::files::numbered(&path, 1);
    fs::create_dir(&blocker).unwrap();
    fs::write(blocker.join("inside"), "").unwrap();
    let error = log.write(b"second\n").unwrap_err();
    assert!(matches!(error, LogFileError::Rotate { .. }), "{error:?}");
    assert!(error.to_string().contains(&path.display().to_string()), "{error}");
    assert_eq!(fs::read(&path).unwrap(), b"first\nsecond\n", "nothing lost");
    // Once the way is clear, it rotates again.
    fs::remove_dir_all(&blocker).unwrap();
    log.write(b"third\n").unwrap();
    assert_eq!(fs::read(&blocker).unwrap(), b"first\nsecond\n");
    assert_eq!(fs::read(&path).unwrap(), b"third\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_output_is_logged_byte_exact_in_capture_order_with_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("web.log");
    let log = LogFileOptions::new().max_size(ByteSize::mib(1)).keep(2).open(&path).unwrap();
    let service = Service::new();
    // 3.6 MiB on stdout and stderr, interleaved; a ring big enough to compare with all of it.
    let script = "seq 1 400000; seq 1 50000 >&2; seq 400001 500000; seq 50001 60000 >&2";
    let options = StartOptions::new("sh").args(["-c", script]).ring_size(8 * 1024 * 1024);
    let process = service.start(options).unwrap();
    let followed =
        tokio::time::timeout(Duration::from_secs(50), follow(&process, log)).await.unwrap();
    let written = process.output().combined();
    assert!(written.len() > 3 * 1024 * 1024);
    assert_eq!((followed.bytes, followed.dropped, followed.errors), (written.len() as u64, 0, 0));
    check_rotation(&path, &written, 1024 * 1024, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_and_unterminated_output_of_both_streams_is_logged_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bin.log");
    let log = LogFile::open(&path).unwrap();
    let service = Service::new();
    let script = r"printf 'a\000b\377c\r\n'; printf 'err no newline' >&2; sleep 0.1; printf 'tail without newline'";
    let process = service.start(StartOptions::new("sh").args(["-c", script])).unwrap();
    let followed =
        tokio::time::timeout(Duration::from_secs(30), follow(&process, log)).await.unwrap();
    let output = process.output();
    // Each stream is exact; their order in the file is the capture order, which the two
    // pipe readers decide.
    assert_eq!(output.stdout(), b"a\0b\xffc\r\ntail without newline");
    assert_eq!(output.stderr(), b"err no newline");
    let expected = output.combined();
    assert_eq!(fs::read(&path).unwrap(), expected);
    assert_eq!(followed.bytes, expected.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_appended_in_turn_make_one_file_their_exact_concatenation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.log");
    let mut log =
        Some(LogFileOptions::new().max_size(ByteSize::kib(4)).keep(1).open(&path).unwrap());
    let service = Service::new();
    let mut expected = Vec::new();
    // Runs ending in an unfinished line that the next one continues, on either stream (one
    // stream a run: the order of two streams within a run is the capture order).
    for script in
        ["printf 'one\\ntwo'", "printf ' and three\\n'", "printf 'four' >&2", "printf '!\\n'"]
    {
        let process = service.start(StartOptions::new("sh").args(["-c", script])).unwrap();
        let (file, followed) = tokio::time::timeout(
            Duration::from_secs(30),
            append_output(&process, log.take().unwrap()),
        )
        .await
        .unwrap();
        let written = process.output().combined();
        assert_eq!(followed.bytes, written.len() as u64);
        expected.extend_from_slice(&written);
        log = file;
    }
    log.unwrap().close().unwrap();
    assert_eq!(expected, b"one\ntwo and three\nfour!\n");
    assert_eq!(fs::read(&path).unwrap(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_into_a_full_disk_counts_the_errors_and_the_process_runs_on() {
    let log = LogFile::open("/dev/full").unwrap();
    let service = Service::new();
    let script = "echo one; sleep 0.1; echo two";
    let process = service.start(StartOptions::new("sh").args(["-c", script])).unwrap();
    let followed =
        tokio::time::timeout(Duration::from_secs(30), follow(&process, log)).await.unwrap();
    assert_eq!(followed.bytes, 8);
    assert!(followed.errors >= 1, "{followed:?}");
    let error = followed.last_error.unwrap().to_string();
    assert!(error.contains("/dev/full"), "{error}");
    assert_eq!(process.wait().await.exit_code, Some(0));
}

/// The writer against a plain `File` write loop of the same bytes, in the same chunks, each
/// into a fresh file, runs interleaved and the best of five kept; the figures are printed
/// (`--no-capture`). The bound is generous: the machine is shared.
#[test]
fn throughput_is_close_to_a_plain_file_write_loop() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = lines(32 * 1024 * 1024);
    let chunk = 64 * 1024;
    let fresh = |name: &str| {
        let path = dir.path().join(name);
        for n in 0..=3 {
            let _ = fs::remove_file(super::files::numbered(&path, n));
        }
        let _ = fs::remove_file(&path);
        path
    };
    let plain = || {
        let path = fresh("plain.log");
        let start = Instant::now();
        let mut file = fs::OpenOptions::new().append(true).create(true).open(&path).unwrap();
        for piece in bytes.chunks(chunk) {
            file.write_all(piece).unwrap();
        }
        drop(file);
        start.elapsed()
    };
    let logged = |max_size: ByteSize| {
        let path = fresh("rotating.log");
        let start = Instant::now();
        let options = LogFileOptions::new().max_size(max_size).keep(2);
        let mut log = options.open(&path).unwrap();
        for piece in bytes.chunks(chunk) {
            log.write(piece).unwrap();
        }
        log.close().unwrap();
        start.elapsed()
    };
    let (mut best_plain, mut best_logged, mut best_unrotated) =
        (Duration::MAX, Duration::MAX, Duration::MAX);
    for _ in 0..5 {
        best_plain = best_plain.min(plain());
        best_logged = best_logged.min(logged(ByteSize::mib(10)));
        best_unrotated = best_unrotated.min(logged(ByteSize::gib(1)));
    }
    let mib = bytes.len() as f64 / (1024.0 * 1024.0);
    let ratio = best_logged.as_secs_f64() / best_plain.as_secs_f64();
    println!(
        "{mib:.0} MiB in {chunk} B writes: File {:.0} MiB/s; LogFile 10MiB keep 2 (3 rotations) {:.0} MiB/s, \
         ratio {ratio:.2}; LogFile without rotation {:.0} MiB/s, ratio {:.2}",
        mib / best_plain.as_secs_f64(),
        mib / best_logged.as_secs_f64(),
        mib / best_unrotated.as_secs_f64(),
        best_unrotated.as_secs_f64() / best_plain.as_secs_f64(),
    );
    assert!(ratio < 5.0, "LogFile {best_logged:?} vs File {best_plain:?}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 200, failure_persistence: None, ..Default::default() })]

    /// Any lines, cut into writes anywhere, with any small limit and `keep`: the files hold
    /// the newest bytes exactly, from a line start; each ends at a line boundary; a file over
    /// the limit is one line longer than the limit; no more than `keep` rotated files.
    #[test]
    fn any_writes_rotate_at_line_boundaries_and_keep_the_newest_bytes_exactly(
        line_lengths in proptest::collection::vec(0usize..60, 1..80),
        cuts in proptest::collection::vec(1usize..70, 1..20),
        max in 1u64..50,
        keep in 0u32..4,
    ) {
        let mut written = Vec::new();
        for (n, len) in line_lengths.iter().enumerate() {
            written.extend((0..*len).map(|i| b'a' + ((n + i) % 26) as u8));
            written.push(b'\n');
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.log");
        let mut log = LogFileOptions::new().max_size(ByteSize::new(max)).keep(keep).open(&path).unwrap();
        let mut rest = &written[..];
        for cut in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (piece, tail) = rest.split_at((*cut).min(rest.len()));
            log.write(piece).unwrap();
            rest = tail;
        }
        log.close().unwrap();
        let files = rotated_files(&path);
        proptest::prop_assert!(files.len() <= keep as usize + 1);
        proptest::prop_assert_eq!(entries(dir.path()), files.len());
        let mut kept = Vec::new();
        for (_, bytes) in &files {
            proptest::prop_assert_eq!(bytes.last(), Some(&b'\n'));
            if bytes.len() as u64 > max {
                proptest::prop_assert_eq!(memchr::memchr_iter(b'\n', bytes).count(), 1);
            }
            kept.extend_from_slice(bytes);
        }
        proptest::prop_assert!(written.ends_with(&kept));
        let start = written.len() - kept.len();
        proptest::prop_assert!(start == 0 || written[start - 1] == b'\n');
        // The live file always holds at least the last line.
        let last_line = written[..written.len() - 1].iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        proptest::prop_assert!(kept.len() >= written.len() - last_line);
    }
}
