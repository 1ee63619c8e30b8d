//! One subscriber to a daemon's `/api/v1/events`, for `scripts/bench-scale.sh`: does the event
//! stream keep up while thousands of processes start?
//!
//! `event_count URL TOKEN N`: connects, prints `subscribed` (the script starts its load only
//! then), and counts the `started` events and the events reported missed (`lagged`) until it
//! has seen N `started`, or no event came for 10 s after the first. Then prints
//! `started_seen S missed M seconds T` (T: from the first event to the last) and exits.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// How long the stream may stay silent, once it has begun, before the count is given.
const QUIET: Duration = Duration::from_secs(10);
/// How long to wait for the first event at all.
const FIRST: Duration = Duration::from_secs(120);

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    assert!(args.len() == 3, "usage: event_count URL TOKEN N");
    let addr = args[0].trim_start_matches("http://").trim_end_matches('/').to_owned();
    let want: u64 = args[2].parse().expect("N: a number");
    let url = format!("ws://{addr}/api/v1/events?token={}", args[1]);
    let request = url.into_client_request().expect("request");
    let tcp = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    let (mut socket, _) = tokio_tungstenite::client_async(request, tcp).await.expect("upgrade");
    println!("subscribed");
    let (mut started, mut missed) = (0u64, 0u64);
    let mut first: Option<Instant> = None;
    let mut last = Instant::now();
    while started < want {
        let wait = if first.is_some() { QUIET } else { FIRST };
        let Ok(Some(Ok(message))) = tokio::time::timeout(wait, socket.next()).await else {
            break;
        };
        let Message::Text(text) = message else { continue };
        last = Instant::now();
        first.get_or_insert(last);
        // Cheap check first: this client must not be what slows the machine down.
        if text.contains("\"event\":\"started\"") {
            started += 1;
        } else if text.contains("\"event\":\"lagged\"") {
            let event: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            missed += event["missed"].as_u64().unwrap_or(0);
        }
    }
    let seconds = first.map_or(0.0, |first| (last - first).as_secs_f64());
    println!("started_seen {started} missed {missed} seconds {seconds:.3}");
}
