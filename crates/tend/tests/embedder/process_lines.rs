//! `Process::lines`, `Process::events` and `StartOptions::on_line`: one process's output as
//! lines, whenever the reader attaches, with lag reported.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tend::{
    Lagged, Line, MaxRestarts, Process, ProcessEvent, Restart, Service, StartOptions, Status,
    Stream,
};

/// Generous: the suite shares two cores with other builds.
const DEADLINE: Duration = Duration::from_secs(30);

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: not done within {DEADLINE:?}"))
}

/// Every item of `process.lines()` until it ends.
async fn all_lines(process: &Process) -> Vec<Result<Line, Lagged>> {
    let mut lines = process.lines();
    let mut items = Vec::new();
    within("reading lines", async {
        while let Some(item) = lines.recv().await {
            items.push(item);
        }
    })
    .await;
    items
}

fn text(lines: &[Result<Line, Lagged>], stream: Stream) -> Vec<String> {
    lines
        .iter()
        .filter_map(|item| item.as_ref().ok())
        .filter(|line| line.stream == stream)
        .map(Line::to_string_lossy)
        .collect()
}

fn sh(script: &str) -> StartOptions {
    StartOptions::new("sh").args(["-c", script])
}

#[tokio::test]
async fn a_reader_attached_after_the_end_gets_every_line_with_its_stream() {
    let service = Service::new();
    let process = service
        .start(sh(
            r#"printf 'one\ntwo\r\n'; printf 'err\n' >&2; printf '\n\377bin\n'; printf last"#,
        ))
        .unwrap();
    let info = within("the process", process.wait()).await;
    assert_eq!(info.status, Status::Exited);

    let lines = all_lines(&process).await;
    assert!(lines.iter().all(Result::is_ok), "no lag expected: {lines:?}");
    let stdout: Vec<&[u8]> = lines
        .iter()
        .map(|item| item.as_ref().unwrap())
        .filter(|line| line.stream == Stream::Stdout)
        .map(|line| &line.bytes[..])
        .collect();
    // Exact bytes: `\r` kept, an empty line kept, invalid UTF-8 kept, the last line without
    // a newline delivered.
    assert_eq!(stdout, [&b"one"[..], b"two\r", b"", b"\xffbin", b"last"]);
    assert_eq!(text(&lines, Stream::Stderr), ["err"]);
    assert!(lines.iter().all(|item| !item.as_ref().unwrap().partial));

    // A second reader, later still, gets the same.
    assert_eq!(all_lines(&process).await, lines);
}

#[tokio::test]
async fn a_live_follower_gets_every_line_of_seq_in_order() {
    let service = Service::new();
    let process = service.start(StartOptions::new("seq").args(["1", "100000"])).unwrap();
    // Attached at once: most lines are read live, as the process writes them.
    let lines = all_lines(&process).await;
    let expected: Vec<String> = (1..=100_000).map(|n| n.to_string()).collect();
    assert!(lines.iter().all(Result::is_ok), "the default 1 MiB ring holds all of seq's output");
    assert_eq!(text(&lines, Stream::Stdout), expected);
    assert_eq!(process.info().exit_code, Some(0));
}

#[tokio::test]
async fn lag_is_reported_when_the_ring_dropped_unread_output() {
    let service = Service::new();
    let process =
        service.start(StartOptions::new("seq").args(["1", "100000"]).ring_size(1024)).unwrap();
    // A live reader that stops reading while the process writes is told what it missed too.
    let mut slow = process.lines();
    let first = within("the first line", slow.recv()).await.expect("seq writes");
    within("seq", process.wait()).await;
    let mut lagged = first.is_err();
    while let Some(item) = within("the slow reader", slow.recv()).await {
        lagged |= item.is_err();
    }
    assert!(lagged, "a reader 1 KiB behind 588 KB of output must be told it lagged");

    let lines = all_lines(&process).await;
    let total: u64 = (1..=100_000u64).map(|n| n.to_string().len() as u64 + 1).sum();
    let Err(Lagged { dropped_bytes, .. }) = lines[0] else {
        panic!("the first item must report the dropped output, got {:?}", lines[0]);
    };
    assert_eq!(dropped_bytes, process.output().dropped_bytes());
    let held: u64 =
        lines[1..].iter().map(|item| item.as_ref().unwrap().bytes.len() as u64 + 1).sum();
    assert_eq!(dropped_bytes + held, total, "every byte is either read or reported dropped");
    // After the gap: the tail of seq, in order (the first line may be the end of a cut one).
    let tail = text(&lines[2..], Stream::Stdout);
    let first: u64 = tail[0].parse().unwrap();
    let expected: Vec<String> = (first..=100_000).map(|n| n.to_string()).collect();
    assert_eq!(tail, expected);
}

#[tokio::test]
async fn events_follow_a_process_and_end_with_its_exit() {
    let service = Service::new();
    let process = service.start(sh("echo started; sleep 0.3; echo done >&2; exit 3")).unwrap();
    let mut events = process.events();
    let mut seen = Vec::new();
    let info = within("events", async {
        loop {
            match events.recv().await.expect("Exited comes before the end") {
                ProcessEvent::Line(line) => seen.push((line.stream, line.to_string_lossy())),
                ProcessEvent::Lagged(lagged) => panic!("unexpected {lagged}"),
                ProcessEvent::Exited(info) => break info,
            }
        }
    })
    .await;
    assert_eq!(seen, [(Stream::Stdout, "started".into()), (Stream::Stderr, "done".into())]);
    assert_eq!(info.exit_code, Some(3));
    assert!(events.recv().await.is_none(), "nothing after Exited");
}

#[tokio::test]
async fn on_line_sees_every_line_and_a_panicking_callback_does_not_stop_the_reader() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let options = sh("seq 1 5; echo oops >&2; printf tail").on_line({
        let seen = seen.clone();
        move |stream, line| {
            seen.lock().unwrap().push((stream, String::from_utf8_lossy(line).into_owned()));
            if line == b"2" {
                panic!("a callback bug");
            }
        }
    });
    let service = Service::new();
    let process = service.start(options).unwrap();
    let info = within("the process", process.wait()).await;
    assert_eq!(info.exit_code, Some(0));
    let seen = seen.lock().unwrap().clone();
    let stdout: Vec<&str> =
        seen.iter().filter(|(s, _)| *s == Stream::Stdout).map(|(_, l)| l.as_str()).collect();
    assert_eq!(stdout, ["1", "2", "3", "4", "5", "tail"]);
    assert!(seen.contains(&(Stream::Stderr, "oops".into())));
    // Capture is untouched by the panic.
    assert_eq!(process.output().stdout(), b"1\n2\n3\n4\n5\ntail");
}

#[tokio::test]
async fn every_run_of_a_restarted_process_reaches_on_line_and_lines() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let options = sh("echo run; exit 1")
        .restart(
            Restart::on_failure().max(MaxRestarts::Limited(2)).delay(Duration::from_millis(10)),
        )
        .on_line({
            let calls = calls.clone();
            move |_, line| calls.lock().unwrap().push(line.to_vec())
        });
    let service = Service::new();
    let process = service.start(options).unwrap();
    let info = within("three runs", process.wait()).await;
    assert_eq!(info.restarts, 2);
    assert_eq!(*calls.lock().unwrap(), [b"run".to_vec(), b"run".to_vec(), b"run".to_vec()]);
    assert_eq!(text(&all_lines(&process).await, Stream::Stdout), ["run", "run", "run"]);
}
