//! Output to a file: both streams appended whole-line, exact bytes, kept across restarts,
//! written without subscribers or capture, and errors that name the path.

use std::future::Future;
use std::path::Path;

use tend::{Error, MaxRestarts, OutputMode, Restart, Service, StartOptions, Status};

use crate::host_proctable::PATIENCE;
use crate::support::{FIXTURE, fixture};

async fn bounded<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out after {PATIENCE:?} waiting for {what}"))
}

async fn run_to_end(service: &Service, options: StartOptions) -> tend::ProcessInfo {
    bounded("the process to end", service.start(options).unwrap().wait()).await
}

fn read(path: &Path) -> String {
    String::from_utf8(std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test]
async fn both_streams_land_in_the_file_line_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("out.log");
    let service = Service::new();
    let info = run_to_end(&service, fixture(&["interleave", "500"]).output_file(&log)).await;
    assert_eq!(info.status, Status::Exited);
    let text = read(&log);
    let (mut outs, mut errs) = (Vec::new(), Vec::new());
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("out", n)) => outs.push(n.parse::<u32>().unwrap()),
            Some(("err", n)) => errs.push(n.parse::<u32>().unwrap()),
            _ => panic!("mangled line {line:?}"),
        }
    }
    let want: Vec<u32> = (1..=500).collect();
    assert_eq!(outs, want, "stdout lines in order, none lost");
    assert_eq!(errs, want, "stderr lines in order, none lost");
    assert!(text.ends_with('\n'));
}

#[tokio::test]
async fn a_line_is_written_whole_even_when_the_other_stream_writes_in_its_middle() {
    // stdout writes half a line, stderr a whole one, then stdout the rest. The pauses make
    // the reader see the halves separately; the file must hold each line in one piece.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("halves.log");
    let script = "printf 'first '; sleep 0.2; echo other >&2; sleep 0.2; echo half";
    let options = StartOptions::new("sh").args(["-c", script]).output_file(&log);
    let service = Service::new();
    let process = service.start(options).unwrap();
    bounded("wait", process.wait()).await;
    assert_eq!(read(&log), "other\nfirst half\n");
    // The ring keeps bytes as read: there, the halves are apart.
    assert_eq!(process.output().to_string_lossy(), "first other\nhalf\n");
}

#[tokio::test]
async fn concurrent_floods_never_interleave_mid_line() {
    // Two writers at once, in 64 KiB writes that cut lines anywhere: stdout lines are 1000
    // bytes, stderr lines 777. Any line of another length in the file was torn apart.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("flood.log");
    let script =
        r#""$1" flood 20000000 --line-len 1000 & "$1" flood 20202000 --line-len 777 >&2; wait"#;
    let options = StartOptions::new("sh")
        .args(["-c", script, "sh", FIXTURE])
        .capture(false)
        .output_file(&log);
    let info = run_to_end(&Service::new(), options).await;
    assert_eq!(info.status, Status::Exited);
    let bytes = std::fs::read(&log).unwrap();
    assert_eq!(bytes.len(), 20_000_000 + 20_202_000);
    let (mut long, mut short) = (0, 0);
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        match line.len() {
            1000 => long += 1,
            777 => short += 1,
            other => panic!("a line of {other} bytes: streams interleaved mid-line"),
        }
    }
    assert_eq!((long, short), (20_000, 26_000));
}

#[tokio::test]
async fn appends_exact_bytes_including_a_last_line_without_newline() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("exact.log");
    std::fs::write(&log, "earlier\n").unwrap();
    let service = Service::new();
    let options = fixture(&["bytes", r"crlf\r\n\xff\xfe raw\nno newline"]).output_file(&log);
    run_to_end(&service, options).await;
    let mut want = b"earlier\n".to_vec();
    want.extend_from_slice(b"crlf\r\n\xff\xfe raw\nno newline");
    assert_eq!(std::fs::read(&log).unwrap(), want, "appended, byte for byte");
}

#[tokio::test]
async fn the_file_grows_across_restarts_and_matches_the_ring() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("runs.log");
    let restart = Restart::always().max(MaxRestarts::Limited(2)).delay(std::time::Duration::ZERO);
    let options = fixture(&["lines", "3", "--prefix", "l"]).restart(restart).output_file(&log);
    let service = Service::new();
    let process = service.start(options).unwrap();
    let info = bounded("wait", process.wait()).await;
    assert_eq!(info.restarts, 2);
    assert_eq!(read(&log), "l1\nl2\nl3\n".repeat(3));
    assert_eq!(process.output().to_string_lossy(), read(&log), "the ring holds the same");
}

#[tokio::test]
async fn written_without_subscribers_or_capture_and_complete_at_exit() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("big.log");
    let service = Service::new();
    let options =
        fixture(&["flood", "5000000", "--line-len", "100"]).capture(false).output_file(&log);
    let process = service.start(options).unwrap();
    let info = bounded("wait", process.wait()).await;
    assert_eq!(info.status, Status::Exited);
    assert!(process.output().is_empty(), "capture was off");
    // Complete as soon as `wait` returns: the end waits for the writer.
    assert_eq!(std::fs::metadata(&log).unwrap().len(), 5_000_000);
}

#[tokio::test]
async fn a_file_that_cannot_be_opened_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("missing-dir").join("out.log");
    let service = Service::new();
    let error = service.start(fixture(&["exit", "0"]).output_file(&log)).unwrap_err();
    assert!(matches!(error, Error::OutputFile { ref path, .. } if *path == log), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("missing-dir/out.log"), "{message}");
    let record = &service.list()[0];
    assert_eq!(record.status, Status::Failed);
    assert_eq!(record.pid, None, "nothing was started");
    assert!(record.error.as_deref().unwrap().contains("missing-dir"));
}

#[tokio::test]
async fn an_output_file_needs_piped_output() {
    let dir = tempfile::tempdir().unwrap();
    let options =
        fixture(&["exit", "0"]).output(OutputMode::Null).output_file(dir.path().join("x.log"));
    let error = Service::new().start(options).unwrap_err();
    assert!(matches!(error, Error::InvalidOption { option: "output_file", .. }), "{error:?}");
}
