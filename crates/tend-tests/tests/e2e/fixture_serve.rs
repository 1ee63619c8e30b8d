//! The fixture's `serve` mode, the service the stack's tests run: it listens when told,
//! answers HTTP statuses in the order given, prints its line, takes its stop signal as told,
//! and writes a timeline of all of it. Pinned with plain `std::process` and real sockets.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::ExitStatusExt;
use std::thread;
use std::time::{Duration, Instant};

use rustix::process::Signal;
use tend_tests::timeline;

use crate::fixture::{DEADLINE, Running, fixture, kill, lines, next_line, run, wait_bounded};

const MS: u64 = 1_000_000;

/// The address in the fixture's `listening ADDR` line.
fn listening(line: &str) -> String {
    line.strip_prefix("listening ").expect(line).to_owned()
}

fn connect(address: &str) -> TcpStream {
    let stream = TcpStream::connect(address).expect("connect to the fixture");
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    stream
}

/// Sends one GET and reads its answer: status and body.
fn get(stream: &mut TcpStream, reader: &mut impl BufRead, close: bool) -> (u16, String) {
    let connection = if close { "connection: close\r\n" } else { "" };
    // One write: a request in pieces meets Nagle and delayed ACKs (40 ms a request).
    let request = format!("GET /health HTTP/1.1\r\nhost: fixture\r\n{connection}\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    read_answer(reader)
}

fn read_answer(reader: &mut impl BufRead) -> (u16, String) {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect(&line);
    let mut length = 0;
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (status, String::from_utf8(body).unwrap())
}

/// One request on a connection of its own.
fn get_once(address: &str) -> (u16, String) {
    let mut stream = connect(address);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    get(&mut stream, &mut reader, true)
}

#[test]
fn serve_listens_after_its_delay_on_a_free_port_and_says_which() {
    let dir = tempfile::tempdir().unwrap();
    let (port_file, timeline) = (dir.path().join("port"), dir.path().join("timeline"));
    let mut child = Running::spawn(fixture(&[
        "serve",
        "--name",
        "db",
        "--listen",
        "127.0.0.1:0",
        "--listen-after",
        "0.3",
        "--port-file",
        port_file.to_str().unwrap(),
        "--timeline",
        timeline.to_str().unwrap(),
    ]));
    let out = lines(child.stdout.take().unwrap());
    let address = listening(&next_line(&out));
    let port = std::fs::read_to_string(&port_file).unwrap();
    assert_eq!(address, format!("127.0.0.1:{port}"));
    // Without --http a connection is accepted and closed: EOF, no bytes.
    let mut bytes = Vec::new();
    connect(&address).read_to_end(&mut bytes).unwrap();
    assert!(bytes.is_empty());

    let timeline = timeline::read(&timeline).unwrap();
    assert_eq!(timeline.events("db"), ["started", "listening"]);
    let waited =
        timeline.time("db", "listening").unwrap() - timeline.time("db", "started").unwrap();
    assert!(waited >= 300 * MS, "listened {waited} ns after starting");
    assert_eq!(timeline.first("db", "started").unwrap().pid, child.id());
}

#[test]
fn serve_records_listening_no_later_than_the_port_opens() {
    let dir = tempfile::tempdir().unwrap();
    let timeline = dir.path().join("timeline");
    let address = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let _child = Running::spawn(fixture(&[
        "serve",
        "--listen",
        &address.to_string(),
        "--listen-after",
        "0.3",
        "--timeline",
        timeline.to_str().unwrap(),
    ]));
    let start = Instant::now();
    let mut refused = 0;
    let connected = loop {
        if TcpStream::connect(address).is_ok() {
            break timeline::now_nanos();
        }
        refused += 1;
        assert!(start.elapsed() < DEADLINE, "{address} never opened");
        thread::sleep(Duration::from_millis(2));
    };
    assert!(refused > 0, "the port was open before --listen-after passed");
    // The time is taken before the bind; its line may reach the file just after a client
    // got in, so wait (boundedly) for the line, then compare the times.
    let recorded = timeline::wait_for(&timeline, DEADLINE, "`listening`", |t| {
        t.time("fixture", "listening").is_some()
    });
    let listening = recorded.time("fixture", "listening").unwrap();
    assert!(listening <= connected, "`listening` recorded after a client got in");
}

#[test]
fn serve_answers_http_statuses_in_order_then_the_last_one_for_good() {
    let dir = tempfile::tempdir().unwrap();
    let timeline = dir.path().join("timeline");
    let mut child = Running::spawn(fixture(&[
        "serve",
        "--name",
        "web",
        "--listen",
        "127.0.0.1:0",
        "--http",
        "503,500,200",
        "--timeline",
        timeline.to_str().unwrap(),
    ]));
    let address = listening(&next_line(&lines(child.stdout.take().unwrap())));

    assert_eq!(get_once(&address), (503, "web 503\n".into()));
    assert_eq!(get_once(&address).0, 500);
    // Keep-alive: several requests on one connection, each answered in turn.
    let mut stream = connect(&address);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    assert_eq!(get(&mut stream, &mut reader, false), (200, "web 200\n".into()));
    assert_eq!(get(&mut stream, &mut reader, false).0, 200);
    assert_eq!(get(&mut stream, &mut reader, true).0, 200);
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "closed after `connection: close`");

    // Not HTTP: 400 and closed, and the sequence is not advanced.
    let mut stream = connect(&address);
    stream.write_all(b"hello\r\n\r\n").unwrap();
    assert_eq!(read_answer(&mut BufReader::new(stream)).0, 400);

    let timeline = timeline::read(&timeline).unwrap();
    assert_eq!(
        timeline.events("web"),
        [
            "started",
            "listening",
            "http-503",
            "http-500",
            "http-200",
            "http-200",
            "http-200",
            "http-400"
        ]
    );
}

#[test]
fn serve_status_file_overrides_the_sequence_while_it_exists() {
    let dir = tempfile::tempdir().unwrap();
    let status = dir.path().join("status");
    let mut child = Running::spawn(fixture(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--http-file",
        status.to_str().unwrap(),
    ]));
    let address = listening(&next_line(&lines(child.stdout.take().unwrap())));
    assert_eq!(get_once(&address).0, 200, "no file, no --http: 200");
    std::fs::write(&status, "500\n").unwrap();
    assert_eq!(get_once(&address), (500, "fixture 500\n".into()));
    std::fs::remove_file(&status).unwrap();
    assert_eq!(get_once(&address).0, 200);
}

#[test]
fn serve_exits_its_term_delay_after_term_with_its_code_and_records_when() {
    let dir = tempfile::tempdir().unwrap();
    let timeline = dir.path().join("timeline");
    let mut child = Running::spawn(fixture(&[
        "serve",
        "--name",
        "api",
        "--print",
        "api up",
        "--term-delay",
        "0.3",
        "--term-exit",
        "3",
        "--timeline",
        timeline.to_str().unwrap(),
    ]));
    assert_eq!(next_line(&lines(child.stdout.take().unwrap())), "api up");
    let sent = timeline::now_nanos();
    let printed = timeline::read(&timeline).unwrap().time("api", "printed");
    assert!(printed.is_some_and(|printed| printed <= sent), "`printed` after the line was read");
    kill(child.id(), Signal::TERM);
    assert_eq!(wait_bounded(&mut child).code(), Some(3));

    let timeline = timeline::read(&timeline).unwrap();
    assert_eq!(timeline.events("api"), ["started", "printed", "term", "exiting"]);
    let term = timeline.time("api", "term").unwrap();
    assert!(term >= sent, "TERM recorded before it was sent");
    let delay = timeline.time("api", "exiting").unwrap() - term;
    assert!(delay >= 300 * MS, "exited {delay} ns after TERM");
}

#[test]
fn serve_can_die_by_its_stop_signal_or_take_another_one() {
    let mut child = Running::spawn(fixture(&["serve", "--print", "up", "--term-exit", "signal"]));
    assert_eq!(next_line(&lines(child.stdout.take().unwrap())), "up");
    kill(child.id(), Signal::TERM);
    assert_eq!(wait_bounded(&mut child).signal(), Some(15));

    let dir = tempfile::tempdir().unwrap();
    let timeline = dir.path().join("timeline");
    let mut child = Running::spawn(fixture(&[
        "serve",
        "--print",
        "up",
        "--stop-signal",
        "INT",
        "--timeline",
        timeline.to_str().unwrap(),
    ]));
    assert_eq!(next_line(&lines(child.stdout.take().unwrap())), "up");
    kill(child.id(), Signal::INT);
    assert_eq!(wait_bounded(&mut child).code(), Some(0));
    let timeline = timeline::read(&timeline).unwrap();
    assert_eq!(timeline.events("fixture"), ["started", "printed", "int", "exiting"]);
}

#[test]
fn serve_ignoring_term_records_each_one_and_lives_on() {
    let dir = tempfile::tempdir().unwrap();
    let timeline = dir.path().join("timeline");
    let mut child = Running::spawn(fixture(&[
        "serve",
        "--ignore-term",
        "--print",
        "up",
        "--timeline",
        timeline.to_str().unwrap(),
    ]));
    let out = lines(child.stdout.take().unwrap());
    assert_eq!(next_line(&out), "up");
    for _ in 0..2 {
        kill(child.id(), Signal::TERM);
        assert_eq!(next_line(&out), "got SIGTERM");
    }
    assert!(child.try_wait().unwrap().is_none(), "TERM ended the fixture");
    kill(child.id(), Signal::KILL);
    assert_eq!(wait_bounded(&mut child).signal(), Some(9));
    let timeline = timeline::read(&timeline).unwrap();
    assert_eq!(timeline.events("fixture"), ["started", "printed", "term", "term"]);
}

#[test]
fn serve_prints_after_its_delay_shows_env_and_exits_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let timeline = dir.path().join("timeline");
    let mut command = fixture(&[
        "serve",
        "--print",
        "worker ready",
        "--print-after",
        "0.2",
        "--print-stream",
        "stderr",
        "--print-env",
        "TEND_FIXTURE_SET",
        "--print-env",
        "TEND_FIXTURE_UNSET",
        "--exit-after",
        "0.5",
        "--exit-code",
        "4",
        "--timeline",
        timeline.to_str().unwrap(),
    ]);
    command.env("TEND_FIXTURE_SET", "a b").env_remove("TEND_FIXTURE_UNSET");
    let started = Instant::now();
    let ran = crate::fixture::run_command(command);
    assert_eq!(ran.status.code(), Some(4));
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert_eq!(ran.stdout, b"TEND_FIXTURE_SET=a b\nTEND_FIXTURE_UNSET=<unset>\n");
    assert_eq!(ran.stderr, b"worker ready\n");

    let timeline = timeline::read(&timeline).unwrap();
    assert_eq!(timeline.events("fixture"), ["started", "printed", "exiting"]);
    let printed = timeline.time("fixture", "printed").unwrap();
    assert!(printed - timeline.time("fixture", "started").unwrap() >= 200 * MS);
    assert!(timeline.time("fixture", "exiting").unwrap() - printed >= 250 * MS);
}

#[test]
fn serve_fixtures_share_one_timeline_without_torn_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("timeline");
    let names = ["a", "b"];
    let mut children: Vec<(Running, String)> = names
        .iter()
        .map(|name| {
            let mut child = Running::spawn(fixture(&[
                "serve",
                "--name",
                name,
                "--listen",
                "127.0.0.1:0",
                "--http",
                "200",
                "--timeline",
                path.to_str().unwrap(),
            ]));
            let address = listening(&next_line(&lines(child.stdout.take().unwrap())));
            (child, address)
        })
        .collect();
    // Both fixtures append at once: 100 keep-alive requests to each, from two threads.
    thread::scope(|scope| {
        for (_, address) in &children {
            scope.spawn(move || {
                let mut stream = connect(address);
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                for _ in 0..100 {
                    assert_eq!(get(&mut stream, &mut reader, false).0, 200);
                }
            });
        }
    });
    for (child, _) in &children {
        kill(child.id(), Signal::TERM);
    }
    // Watched from the file alone, as a test watches fixtures that `tend up` runs.
    let timeline = timeline::wait_for(&path, DEADLINE, "both exiting", |t| {
        names.iter().all(|n| t.time(n, "exiting").is_some())
    });
    for (child, _) in &mut children {
        assert_eq!(wait_bounded(child).code(), Some(0));
    }
    for name in names {
        assert_eq!(timeline.all(name, "http-200").count(), 100, "{name}");
        assert_eq!(timeline.events(name).first(), Some(&"started"));
        assert_eq!(timeline.events(name).last(), Some(&"exiting"));
    }
}

#[test]
fn serve_usage_errors_and_a_taken_port() {
    for bad in [
        &["serve", "--http", "200"][..],
        &["serve", "--listen", "127.0.0.1:0", "--http", "200,99"],
        &["serve", "--listen", "no port here"],
        &["serve", "--name", "two words"],
        &["serve", "--stop-signal", "KILL"],
        &["serve", "--term-exit", "later"],
        &["serve", "--print-stream", "both"],
        &["serve", "--exit-after", "-1"],
        &["serve", "surplus"],
    ] {
        let ran = run(bad);
        assert_eq!(ran.status.code(), Some(2), "{bad:?}: {}", String::from_utf8_lossy(&ran.stderr));
    }

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let ran = run(&["serve", "--listen", &address]);
    assert_eq!(ran.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&ran.stderr);
    assert!(stderr.contains(&format!("listen on {address}")), "{stderr}");
}
