//! Output of managed processes: captured byte-exact in a bounded ring, split into line events
//! with no limit on line length, each byte tagged with its stream.

use tend::{EventKind, OutputMode, Process, ProcessId, Received, Service, Stream, Subscription};

use crate::support::{DEADLINE, fixture};

const MIB: usize = 1 << 20;

/// Every output event of process `id` as `(stream, line, partial)`, up to its `exited`.
async fn output_events(events: &mut Subscription, id: ProcessId) -> Vec<(Stream, Vec<u8>, bool)> {
    let mut lines = Vec::new();
    loop {
        let received = tokio::time::timeout(DEADLINE, events.recv())
            .await
            .expect("events within the deadline")
            .expect("the service is alive");
        let Received::Event(event) = received else { panic!("lagged: {received:?}") };
        if event.id != id {
            continue;
        }
        match event.kind {
            EventKind::Output { stream, line, partial } => {
                lines.push((stream, line.to_vec(), partial))
            }
            EventKind::Exited { .. } => return lines,
            _ => {}
        }
    }
}

/// Waits for the end, at most [`DEADLINE`].
async fn finished(process: &Process) -> tend::ProcessInfo {
    tokio::time::timeout(DEADLINE, process.wait()).await.expect("the process ends in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mebibyte_line_without_newline_is_captured_whole_and_evented_in_flagged_pieces() {
    let service = Service::new();
    let mut events = service.subscribe();
    let process = service.start(fixture(&["long", &MIB.to_string()])).unwrap();

    let lines = output_events(&mut events, process.id()).await;
    let info = finished(&process).await;
    assert_eq!(info.exit_code, Some(0), "the child is not stalled by its long line");

    let output = process.output();
    assert_eq!(output.len(), MIB, "the whole line, in a ring of exactly that size");
    assert_eq!(output.dropped_bytes(), 0);
    assert!(output.stdout().iter().all(|&b| b == b'x'), "no newline added, nothing else");
    assert!(output.chunks().iter().all(|c| c.stream == Stream::Stdout));

    // Default maximum line event: 64 KiB, so 16 pieces; all but the last say "continues".
    assert_eq!(
        lines.len(),
        16,
        "pieces: {:?}",
        lines.iter().map(|l| l.1.len()).collect::<Vec<_>>()
    );
    assert!(
        lines.iter().all(|(stream, line, _)| *stream == Stream::Stdout && line.len() <= 64 * 1024)
    );
    assert!(lines[..15].iter().all(|(_, _, partial)| *partial));
    assert!(!lines[15].2, "the last piece ends the line");
    assert_eq!(lines.iter().map(|l| l.1.len()).sum::<usize>(), MIB);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_line_is_configurable_and_short_lines_stay_whole() {
    let service = Service::new();
    let mut events = service.subscribe();
    // `lines 3 --prefix 0123456789` prints `01234567891` etc.: 11 bytes each.
    let process =
        service.start(fixture(&["lines", "3", "--prefix", "0123456789"]).max_line(4)).unwrap();
    let lines = output_events(&mut events, process.id()).await;
    let texts: Vec<(&[u8], bool)> = lines.iter().map(|(_, l, p)| (&l[..], *p)).collect();
    let one_line =
        |last: &'static [u8]| [(&b"0123"[..], true), (&b"4567"[..], true), (last, false)];
    let expected: Vec<(&[u8], bool)> =
        [one_line(b"891"), one_line(b"892"), one_line(b"893")].concat();
    assert_eq!(texts, expected);

    let process = service.start(fixture(&["lines", "2"]).max_line(6)).unwrap();
    let lines = output_events(&mut events, process.id()).await;
    let texts: Vec<(&[u8], bool)> = lines.iter().map(|(_, l, p)| (&l[..], *p)).collect();
    assert_eq!(texts, [(&b"line 1"[..], false), (&b"line 2"[..], false)], "6 bytes fit in 6");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_mebibytes_through_a_one_mebibyte_ring_keep_the_newest_bytes() {
    let service = Service::new();
    let total = 10 * MIB;
    let process = service.start(fixture(&["flood", &total.to_string()])).unwrap();
    let info = finished(&process).await;
    assert_eq!(info.exit_code, Some(0));

    let output = process.output();
    let kept = output.stdout();
    assert_eq!(kept.len(), MIB, "the ring holds its capacity and never more");
    assert_eq!(output.dropped_bytes(), (total - MIB) as u64, "the oldest bytes went");
    // `flood` writes 100-byte lines (99 `x` and `\n`) and a short last line: 10 MiB is
    // 104857 lines and 60 bytes, so counted from the end, newlines sit at 0, 60, 160, …
    assert_eq!(total % 100, 60);
    for (from_end, &byte) in kept.iter().rev().enumerate() {
        let newline = from_end == 0 || (from_end >= 60 && (from_end - 60) % 100 == 0);
        let expected = if newline { b'\n' } else { b'x' };
        assert_eq!(byte, expected, "byte {from_end} from the end");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_are_kept_exactly_and_replaced_only_in_json() {
    let service = Service::new();
    let mut events = service.subscribe();
    let process = service.start(fixture(&["bytes", r"a\r\nb\xff\xfe\nlast\xc3"])).unwrap();
    let lines = output_events(&mut events, process.id()).await;
    finished(&process).await;

    assert_eq!(process.output().stdout(), b"a\r\nb\xff\xfe\nlast\xc3", "no newline added");
    let texts: Vec<&[u8]> = lines.iter().map(|(_, line, _)| &line[..]).collect();
    assert_eq!(texts, [&b"a\r"[..], b"b\xff\xfe", b"last\xc3"], "`\\r` kept, last line delivered");
    assert!(lines.iter().all(|(_, _, partial)| !partial));

    // JSON cannot hold raw bytes: there, and only there, invalid UTF-8 becomes U+FFFD.
    let mut events = service.subscribe();
    let process = service.start(fixture(&["bytes", r"ok\xff\n"])).unwrap();
    let event = loop {
        let Some(Received::Event(event)) = events.recv().await else { panic!("events end") };
        if event.id == process.id() && matches!(event.kind, EventKind::Output { .. }) {
            break event;
        }
    };
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(json["line"], "ok\u{fffd}");
    assert_eq!(json["stream"], "stdout");
    assert!(json.get("partial").is_none(), "`partial` appears only when true: {json}");
    assert!(matches!(&event.kind, EventKind::Output { line, .. } if &line[..] == b"ok\xff"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_chunk_and_each_line_keeps_its_stream() {
    let service = Service::new();
    let mut events = service.subscribe();
    let process = service.start(fixture(&["interleave", "200"])).unwrap();
    let lines = output_events(&mut events, process.id()).await;
    finished(&process).await;

    let expect = |tag: &str| (1..=200).map(|i| format!("{tag} {i}\n")).collect::<String>();
    let output = process.output();
    assert_eq!(String::from_utf8(output.stdout()).unwrap(), expect("out"));
    assert_eq!(String::from_utf8(output.stderr()).unwrap(), expect("err"));
    for chunk in output.chunks() {
        let want = if chunk.stream == Stream::Stdout { "out " } else { "err " };
        let text = chunk.to_string_lossy();
        assert!(text.lines().all(|l| l.starts_with(want)), "{:?} chunk {text:?}", chunk.stream);
    }
    assert_eq!(lines.len(), 400);
    for (stream, line, _) in &lines {
        let want: &[u8] = if *stream == Stream::Stdout { b"out " } else { b"err " };
        assert!(line.starts_with(want), "{stream}: {line:?}");
    }
}

/// gpud read stdout to its end before stderr: a child that filled the stderr pipe first hung
/// for ever. Here a child alternates lines on both streams, far beyond any pipe buffer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdout_and_stderr_are_read_concurrently() {
    let service = Service::new();
    let process = service.start(fixture(&["interleave", "30000"])).unwrap();
    assert_eq!(finished(&process).await.exit_code, Some(0));
    let output = process.output();
    let expected = |tag: &str| (1..=30000).map(|i| format!("{tag} {i}\n").len()).sum::<usize>();
    assert_eq!(output.stdout().len(), expected("out"));
    assert_eq!(output.stderr().len(), expected("err"));
    assert!(output.stdout().ends_with(b"out 30000\n") && output.stderr().ends_with(b"err 30000\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ring_respects_its_size_and_starts_on_a_character_boundary() {
    let service = Service::new();
    let process = service.start(fixture(&["lines", "100"]).ring_size(100)).unwrap();
    finished(&process).await;
    let output = process.output();
    let everything: String = (1..=100).map(|i| format!("line {i}\n")).collect();
    assert!(output.len() <= 100, "{} bytes in a 100-byte ring", output.len());
    assert!(output.len() > 90, "only the oldest bytes are dropped");
    assert!(everything.as_bytes().ends_with(&output.stdout()));
    assert_eq!(output.dropped_bytes() as usize + output.len(), everything.len());

    // Three two-byte characters in a five-byte ring: the last five bytes would start inside
    // a character, so the head moves on to the next boundary.
    let process =
        service.start(fixture(&["bytes", r"\xc3\xa9\xc3\xa9\xc3\xa9"]).ring_size(5)).unwrap();
    finished(&process).await;
    let output = process.output();
    assert_eq!(String::from_utf8(output.stdout()).unwrap(), "éé");
    assert_eq!(output.dropped_bytes(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capture_off_keeps_nothing_but_events_still_flow() {
    let service = Service::new();
    let mut events = service.subscribe();
    let process = service.start(fixture(&["lines", "2"]).capture(false)).unwrap();
    let lines = output_events(&mut events, process.id()).await;
    assert_eq!(finished(&process).await.exit_code, Some(0));
    assert!(process.output().is_empty());
    let texts: Vec<&[u8]> = lines.iter().map(|(_, line, _)| &line[..]).collect();
    assert_eq!(texts, [&b"line 1"[..], b"line 2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_output_gives_neither_capture_nor_events() {
    let service = Service::new();
    let mut events = service.subscribe();
    let process = service.start(fixture(&["lines", "2"]).output(OutputMode::Null)).unwrap();
    assert!(output_events(&mut events, process.id()).await.is_empty());
    assert_eq!(finished(&process).await.exit_code, Some(0));
    assert!(process.output().is_empty());
}

/// Lazy allocation, seen from outside: a process that has printed nothing holds no ring. An
/// eager 1 MiB ring per process would add at least 64 MiB of address space for 64 idle
/// processes (large allocations are mapped, so virtual size shows them even untouched).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_processes_do_not_allocate_their_rings() {
    let service = Service::new();
    // Warm up: the first start forks the guardian and sets up the child reaper.
    let warm_up = service.start(fixture(&["sleep", "30"])).unwrap();
    crate::support::wait_for_line(&warm_up, "ready").await;
    warm_up.kill().unwrap();
    finished(&warm_up).await;
    let before = virtual_size();
    let mut idle = Vec::new();
    for _ in 0..64 {
        // `sleep` prints only `ready`: six bytes, which a lazy ring keeps in a small block.
        idle.push(service.start(fixture(&["sleep", "30"])).unwrap());
    }
    for process in &idle {
        crate::support::wait_for_line(process, "ready").await;
    }
    let grown = virtual_size().saturating_sub(before);
    for process in &idle {
        process.kill().unwrap();
    }
    for process in &idle {
        finished(process).await;
    }
    assert!(grown < 32 * MIB, "64 idle processes grew the address space by {} KiB", grown / 1024);
}

/// `VmSize` of this process in bytes.
fn virtual_size() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmSize:")).expect("VmSize in status");
    let kib: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}
