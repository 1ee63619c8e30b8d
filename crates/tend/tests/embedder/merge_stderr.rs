//! `StartOptions::merge_stderr`: one pipe for both streams keeps the exact order of writes.

use std::time::Duration;

use tend::{EventKind, Received, Service, StartOptions, Stream};

/// Bound on any one run here: far more than a loaded debug build needs.
const PATIENCE: Duration = Duration::from_secs(30);

fn sh(script: &str) -> StartOptions {
    StartOptions::new("sh").args(["-c", script]).timeout(PATIENCE)
}

/// `n` lines alternately on stdout and stderr: `out 1`, `err 2`, `out 3`, …
fn interleaved(n: u32) -> StartOptions {
    sh(r#"i=1; while [ $i -le "$1" ]; do
            if [ $((i % 2)) -eq 1 ]; then echo "out $i"; else echo "err $i" >&2; fi
            i=$((i + 1))
          done"#)
    .args(["sh", &n.to_string()])
}

fn expected(n: u32) -> Vec<String> {
    (1..=n).map(|i| format!("{} {i}", if i % 2 == 1 { "out" } else { "err" })).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issue_example_comes_out_in_write_order() {
    let options = sh("echo 1; echo 2 >&2; echo 3; echo 4 >&2").merge_stderr(true);
    let done = Service::new().run(options).await.unwrap();
    assert!(done.success(), "{:?}", done.info);
    assert_eq!(done.output.to_string_lossy(), "1\n2\n3\n4\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_interleaved_lines_keep_write_order_in_ring_events_and_file() {
    const LINES: u32 = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("out.log");
    let service = Service::new();
    let mut events = service.subscribe();
    let options = interleaved(LINES).merge_stderr(true).output_file(&log);
    let done = tokio::time::timeout(PATIENCE, service.run(options)).await.unwrap().unwrap();
    assert!(done.success(), "{:?}", done.info);

    let ring: Vec<String> = done.output.to_string_lossy().lines().map(str::to_owned).collect();
    assert_eq!(ring.len(), expected(LINES).len());
    assert!(ring == expected(LINES), "ring out of write order: {:?}", first_difference(&ring));
    assert!(done.output.chunks().iter().all(|c| c.stream == Stream::Stdout), "tagged stdout");
    assert!(done.output.stderr().is_empty());

    let file: Vec<String> =
        std::fs::read_to_string(&log).unwrap().lines().map(str::to_owned).collect();
    assert!(file == expected(LINES), "file out of write order: {:?}", first_difference(&file));

    let mut lines = Vec::new();
    let id = done.info.id;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let received = tokio::time::timeout_at(deadline, events.recv()).await.expect("events end");
        let Some(Received::Event(event)) = received else { panic!("{received:?}") };
        match event.kind {
            EventKind::Output { stream, line, .. } if event.id == id => {
                assert_eq!(stream, Stream::Stdout);
                lines.push(String::from_utf8_lossy(&line).into_owned());
            }
            EventKind::Exited { .. } if event.id == id => break,
            _ => {}
        }
    }
    assert!(lines == expected(LINES), "events out of write order: {:?}", first_difference(&lines));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_merge_each_stream_keeps_its_own_order_and_tag() {
    let done = Service::new().run(interleaved(2_000)).await.unwrap();
    let all = expected(2_000);
    let of = |prefix: &str| -> Vec<String> {
        all.iter().filter(|l| l.starts_with(prefix)).map(|l| format!("{l}\n")).collect()
    };
    assert_eq!(String::from_utf8(done.output.stdout()).unwrap(), of("out").concat());
    assert_eq!(String::from_utf8(done.output.stderr()).unwrap(), of("err").concat());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_with_output_not_piped_is_harmless() {
    let options = sh("echo out; echo err >&2").merge_stderr(true).output(tend::OutputMode::Null);
    let done = Service::new().run(options).await.unwrap();
    assert!(done.success(), "{:?}", done.info);
    assert!(done.output.is_empty());
}

fn first_difference(got: &[String]) -> Option<(usize, String, String)> {
    let want = expected(got.len() as u32);
    got.iter().zip(&want).position(|(a, b)| a != b).map(|i| (i, got[i].clone(), want[i].clone()))
}
