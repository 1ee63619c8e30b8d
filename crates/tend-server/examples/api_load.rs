//! Load generator for the daemon benchmarks in BENCHMARKS.md (`scripts/bench-daemon.sh`
//! drives it against a running `tend daemon`).
//!
//! * `api_load start URL TOKEN N PROGRAM ARGS...`: starts N processes through
//!   `POST /api/v1/processes`, 32 requests in flight, and prints the rate.
//! * `api_load ws URL TOKEN SUBSCRIBERS PROGRAM ARGS...`: connects SUBSCRIBERS WebSocket
//!   clients to `/api/v1/events`, starts the program, and when it has exited prints its run
//!   time and, per subscriber, the output lines received and the events reported missed.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

async fn post(addr: &str, token: &str, path: &str, body: &Value) -> Value {
    let request = tend::http::Request::post(format!("/api/v1{path}")).bearer(token).json(body);
    let answer = request.send(addr).await.expect("an answer");
    answer.json().unwrap_or(Value::Null)
}

async fn start_many(addr: String, token: String, n: usize, command: Value) {
    let began = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let in_flight = std::sync::Arc::new(tokio::sync::Semaphore::new(32));
    for _ in 0..n {
        let (addr, token, command) = (addr.clone(), token.clone(), command.clone());
        let permit = in_flight.clone().acquire_owned().await.expect("semaphore");
        tasks.spawn(async move {
            let info = post(&addr, &token, "/processes", &command).await;
            drop(permit);
            info["status"] == "running"
        });
    }
    let mut running = 0;
    while let Some(ok) = tasks.join_next().await {
        running += usize::from(ok.unwrap_or(false));
    }
    let elapsed = began.elapsed();
    println!(
        "started {running}/{n} in {:.3} s: {:.0} starts/s",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64()
    );
}

async fn subscribers(addr: String, token: String, count: usize, command: Value) {
    let mut clients = Vec::new();
    for _ in 0..count {
        let url = format!("ws://{addr}/api/v1/events?token={token}");
        let request = url.into_client_request().expect("request");
        let tcp = tokio::net::TcpStream::connect(&addr).await.expect("connect");
        let (socket, _) = tokio_tungstenite::client_async(request, tcp).await.expect("upgrade");
        clients.push(socket);
    }
    let (id_tx, id_rx) = tokio::sync::watch::channel(String::new());
    let mut readers = tokio::task::JoinSet::new();
    for mut socket in clients {
        let id_rx = id_rx.clone();
        readers.spawn(async move {
            let (mut lines, mut missed) = (0u64, 0u64);
            while let Some(Ok(message)) = socket.next().await {
                let Message::Text(text) = message else { continue };
                // Cheap checks first: this client must not be what slows the machine down.
                if text.contains("\"event\":\"output\"") {
                    lines += 1;
                    continue;
                }
                let event: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                match event["event"].as_str() {
                    Some("lagged") => missed += event["missed"].as_u64().unwrap_or(0),
                    Some("exited") if event["id"].as_str() == Some(id_rx.borrow().as_str()) => {
                        break;
                    }
                    _ => {}
                }
            }
            (lines, missed)
        });
    }
    let info = post(&addr, &token, "/processes", &command).await;
    let id = info["id"].as_str().expect("started").to_owned();
    id_tx.send_replace(id.clone());
    let done = post(&addr, &token, &format!("/processes/{id}/wait"), &json!({})).await;
    println!(
        "child ran {:.0} ms ({})",
        done["duration_ms"].as_f64().unwrap_or(0.0),
        done["status"]
    );
    let mut results = Vec::new();
    while let Some(Ok(result)) =
        tokio::time::timeout(Duration::from_secs(600), readers.join_next()).await.ok().flatten()
    {
        results.push(result);
    }
    let complete = results.iter().filter(|(_, missed)| *missed == 0).count();
    let (min, max) =
        results.iter().fold((u64::MAX, 0), |(lo, hi), (l, _)| (lo.min(*l), hi.max(*l)));
    let min = if results.is_empty() { 0 } else { min };
    let missed: u64 = results.iter().map(|(_, m)| m).sum();
    println!(
        "{} subscribers: {complete} received every event; lines received min {min} max {max}; \
         events reported missed (lagged) in total {missed}",
        results.len()
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: api_load start|ws URL TOKEN N PROGRAM [ARGS...]";
    assert!(args.len() >= 5, "{usage}");
    let addr = args[1].trim_start_matches("http://").trim_end_matches('/').to_owned();
    let token = args[2].clone();
    let n: usize = args[3].parse().expect("N");
    let command = json!({ "command": args[4], "args": &args[5..] });
    match args[0].as_str() {
        "start" => start_many(addr, token, n, command).await,
        "ws" => subscribers(addr, token, n, command).await,
        _ => panic!("{usage}"),
    }
}
