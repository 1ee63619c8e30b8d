//! `tend probe` (issue 16): exit 0 once the probe succeeds, 1 with the last error on stderr
//! when its timeout passes first, 2 for an invalid probe — against a real TCP listener, a
//! real HTTP server that answers 503 and then 200, and real commands.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::support::tend_bin;

/// `tend probe ARGS`, to its end.
fn probe(args: &[&str]) -> Output {
    Command::new(tend_bin())
        .arg("probe")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run tend probe")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A port nothing listens on (bound, then closed).
fn closed_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// An HTTP server answering `503` to the first `failures` requests and `200` after; returns
/// its address and the count of requests it answered.
pub(crate) fn flaky_server(failures: usize) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let answered = Arc::new(AtomicUsize::new(0));
    let count = answered.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = stream.read(&mut request);
            let n = count.fetch_add(1, Ordering::SeqCst);
            let status = if n < failures { "503 Service Unavailable" } else { "200 OK" };
            let body = if n < failures { "starting" } else { "ok" };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (address, answered)
}

#[test]
fn a_listening_port_is_ready_at_once_and_a_closed_one_times_out_with_the_reason() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let ready = probe(&["tcp", &address, "--timeout", "20s"]);
    assert_eq!(ready.status.code(), Some(0), "{}", stderr(&ready));
    assert!(stderr(&ready).contains("ready after"), "{}", stderr(&ready));
    assert!(stderr(&ready).contains(&format!("tcp {address}")), "{}", stderr(&ready));

    let closed = closed_port().to_string();
    let started = Instant::now();
    let not_ready = probe(&["tcp", &closed, "--timeout", "700ms", "--interval", "50ms"]);
    assert_eq!(not_ready.status.code(), Some(1), "{}", stderr(&not_ready));
    let message = stderr(&not_ready);
    assert!(message.contains("not ready after"), "{message}");
    assert!(message.contains(&closed) && message.contains("connection refused"), "{message}");
    assert!(started.elapsed() >= Duration::from_millis(700), "gave up early: {message}");
    assert!(not_ready.stdout.is_empty());
}

#[test]
fn an_http_server_answering_503_then_200_is_ready_after_the_200() {
    let (address, answered) = flaky_server(3);
    let url = format!("http://{address}/health");
    let ready = probe(&["http", &url, "--interval", "50ms", "--timeout", "30s"]);
    assert_eq!(ready.status.code(), Some(0), "{}", stderr(&ready));
    // Three 503s were asked through before the 200 that ended the wait.
    assert_eq!(answered.load(Ordering::SeqCst), 4);

    let (address, _) = flaky_server(usize::MAX);
    let url = format!("http://{address}/health");
    let not_ready = probe(&["http", &url, "--interval", "50ms", "--timeout", "600ms"]);
    assert_eq!(not_ready.status.code(), Some(1), "{}", stderr(&not_ready));
    let message = stderr(&not_ready);
    assert!(message.contains("503") && message.contains(&url), "{message}");
}

#[test]
fn a_command_is_ready_once_it_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("ready");
    let command = format!("test -e '{}'", flag.display());
    let creator = {
        let flag = flag.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            std::fs::write(flag, "").unwrap();
        })
    };
    let ready = probe(&["exec", &command, "--interval", "50ms", "--timeout", "30s"]);
    creator.join().unwrap();
    assert_eq!(ready.status.code(), Some(0), "{}", stderr(&ready));

    let failing = probe(&["exec", "exit 3", "--interval", "50ms", "--timeout", "500ms"]);
    assert_eq!(failing.status.code(), Some(1), "{}", stderr(&failing));
    assert!(stderr(&failing).contains("exited with code 3"), "{}", stderr(&failing));
}

#[test]
fn an_invalid_probe_or_duration_exits_2_naming_it() {
    for (args, named) in [
        (&["tcp", "no-port-here"][..], "no-port-here"),
        (&["http", "https://example.com/"][..], "https://example.com/"),
        (&["exec", ""][..], "command"),
        (&["log", "x"][..], "log"),
        (&["tcp", "127.0.0.1:1", "--timeout", "soon"][..], "soon"),
    ] {
        let output = probe(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains(named), "{args:?}: {}", stderr(&output));
    }
}
