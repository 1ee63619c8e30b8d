//! The WebSocket event stream: replay from the log, then live; `lagged` when the log evicted
//! what a client had not read; resuming with `since`; `tend logs -f` unaffected by the log;
//! how far the log is behind the service.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::server_support::{TestServer, fixture};
use crate::support::tend_bin;

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

async fn connect(server: &TestServer, query: &str) -> Socket {
    let url = format!("ws://{}/api/v1/events?token={}{query}", server.addr, server.token);
    let request = url.into_client_request().expect("request");
    let tcp = tokio::net::TcpStream::connect(server.addr).await.expect("connect");
    let (socket, response) = tokio_tungstenite::client_async(request, tcp).await.expect("upgrade");
    assert_eq!(response.status().as_u16(), 101);
    socket
}

/// The next JSON message, failing after ten seconds.
async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("an event within 10 s")
            .expect("stream open")
            .expect("message");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).expect("JSON event");
        }
    }
}

/// Reads until an `exited` event of `id`, returning everything read.
async fn until_exited(socket: &mut Socket, id: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let event = next(socket).await;
        let done = event["event"] == "exited" && event["id"] == id;
        seen.push(event);
        if done {
            return seen;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_then_live() {
    let server = TestServer::start().await;
    let first =
        server.call("POST", "/api/v1/processes/run", Some(fixture(&["lines", "2"]))).await.json();
    let first_id = first["info"]["id"].as_str().unwrap().to_owned();
    // The run returned after `exited` was published; the log follows it asynchronously.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while server.state.event_log().totals().exits < 1 {
        assert!(std::time::Instant::now() < deadline, "exit never reached the log");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let mut socket = connect(&server, "&since=0").await;
    let replayed = until_exited(&mut socket, &first_id).await;
    let kinds: Vec<&str> = replayed.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["started", "output", "output", "exited"]);
    assert_eq!(replayed[1]["line"], "line 1");
    let seqs: Vec<u64> = replayed.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "seq increases: {seqs:?}");

    // Live: a process started after the replay.
    let second = server
        .call("POST", "/api/v1/processes", Some(fixture(&["lines", "1", "--prefix", "live "])))
        .await
        .json();
    let second_id = second["id"].as_str().unwrap();
    let live = until_exited(&mut socket, second_id).await;
    assert!(live.iter().any(|e| e["event"] == "output" && e["line"] == "live 1"), "{live:?}");
    assert_eq!(live.last().unwrap()["status"], "exited");

    // Resume from a sequence number: exactly the events from there.
    let from = replayed[2]["seq"].as_u64().unwrap();
    let mut resumed = connect(&server, &format!("&since={from}")).await;
    let first_resumed = next(&mut resumed).await;
    assert_eq!(first_resumed["seq"].as_u64(), Some(from));
    assert_eq!(first_resumed["line"], "line 2");

    // Without `since`, only what happens next.
    let mut fresh = connect(&server, "").await;
    let third =
        server.call("POST", "/api/v1/processes", Some(fixture(&["exit", "0"]))).await.json();
    let event = next(&mut fresh).await;
    assert_eq!(
        (event["event"].as_str(), event["id"].as_str()),
        (Some("started"), third["id"].as_str())
    );
}

/// A server whose event log holds 50 events, after a process printed 500 lines through it;
/// returns the server, the `run` reply and the process id.
async fn five_hundred_lines_through_a_log_of_fifty() -> (TestServer, Value, String) {
    let server = TestServer::start_with(|mut config| {
        config.log_events = 50;
        config
    })
    .await;
    let run =
        server.call("POST", "/api/v1/processes/run", Some(fixture(&["lines", "500"]))).await.json();
    let id = run["info"]["id"].as_str().unwrap().to_owned();
    (server, run, id)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_behind_the_log_is_told_how_much_it_missed() {
    let (server, _, id) = five_hundred_lines_through_a_log_of_fifty().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while server.state.event_log().totals().exits < 1 {
        assert!(std::time::Instant::now() < deadline, "exit never reached the log");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut socket = connect(&server, "&since=1").await;
    let lagged = next(&mut socket).await;
    assert_eq!(lagged["event"], "lagged");
    let missed = lagged["missed"].as_u64().unwrap();
    let rest = until_exited(&mut socket, &id).await;
    // started + 500 lines + exited = 502 events from seq 1: missed + received covers them all.
    assert_eq!(missed + rest.len() as u64, 502, "missed {missed}, received {}", rest.len());
    assert_eq!(rest.len(), 50, "the log holds its bound");
    assert_eq!(rest[0]["seq"].as_u64(), Some(1 + missed));

    // The output route reports the lines it no longer holds.
    let page =
        server.call("GET", &format!("/api/v1/processes/{id}/output?since=0"), None).await.json();
    assert_eq!(page["lines"].as_array().unwrap().len(), 49);
    assert_eq!(page["dropped"], 451);
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_follow_reads_the_captured_bytes_whatever_the_log_evicted() {
    let (server, run, id) = five_hundred_lines_through_a_log_of_fifty().await;
    let url = format!("http://{}", server.addr);
    let output = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::process::Command::new(tend_bin())
            .args(["logs", "-f", &id, "--server", &url, "--token", &server.token])
            .output(),
    )
    .await
    .expect("tend logs -f to end")
    .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    // The log kept 50 events, but -f follows the capture ring: every line, nothing dropped.
    assert_eq!(String::from_utf8(output.stdout).unwrap(), run["output"].as_str().unwrap());
    assert!(output.stderr.is_empty(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_log_knows_how_far_behind_the_service_it_is() {
    let service = tend::Service::new();
    let mut events = service.subscribe();
    let process = service.start(crate::support::fixture(&["lines", "3"])).unwrap();
    process.wait().await;
    // A log that has taken nothing in yet is every event behind.
    let log = tend_server::EventLog::new(100, 1 << 20);
    assert_eq!(log.totals().followed_seq, 0);
    assert_eq!(service.last_seq(), 5, "started, three lines, exited");
    for _ in 0..5 {
        let received = tokio::time::timeout(Duration::from_secs(10), events.recv()).await;
        let Some(tend::Received::Event(event)) = received.expect("an event in time") else {
            panic!("the subscription lagged or closed");
        };
        log.append(event);
    }
    assert_eq!(log.totals().followed_seq, service.last_seq(), "caught up");
}

/// A flood removed while the log was still taking in its events: what arrives after the
/// removal must not refill the log (under load, 100,000 events of removed floods stayed held
/// and the daemon's RSS after `rm` stayed at its peak).
#[tokio::test(flavor = "multi_thread")]
async fn events_of_a_removed_process_still_in_transit_are_dropped_as_they_arrive() {
    let service = tend::Service::new();
    let mut events = service.subscribe();
    let removed = service.start(crate::support::fixture(&["lines", "3"])).unwrap();
    removed.wait().await;
    let kept = service.start(crate::support::fixture(&["lines", "2"])).unwrap();
    kept.wait().await;
    assert_eq!(service.last_seq(), 9, "5 events of the first, then 4 of the second");
    let mut next = async || {
        let received = tokio::time::timeout(Duration::from_secs(10), events.recv()).await;
        let Some(tend::Received::Event(event)) = received.expect("an event in time") else {
            panic!("the subscription lagged or closed");
        };
        event
    };
    let log = tend_server::EventLog::new(100, 1 << 20);
    // The log has taken in `started` and one line of the first when it is removed.
    for _ in 0..2 {
        log.append(next().await);
    }
    assert_eq!(log.totals().held, 2);
    log.forget(removed.id(), service.last_seq());
    assert_eq!(log.totals().held, 0, "what it held went at once");
    for _ in 2..9 {
        log.append(next().await);
    }
    let held = log.read(0, 100).events;
    assert!(held.iter().all(|event| event.id == kept.id()), "only the second's: {held:?}");
    assert_eq!(held.len(), 4, "every event of the process still there");
    assert_eq!(log.totals().followed_seq, service.last_seq(), "caught up all the same");
}
