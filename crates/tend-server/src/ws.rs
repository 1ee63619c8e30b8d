//! `GET /api/v1/events?since=SEQ` over WebSocket: replay from the event log, then live.
//!
//! Each client is a cursor into the [`EventLog`](crate::EventLog), not a queue: the task reads
//! a page of events at or after its cursor, sends them, and waits for more when it has caught
//! up. A client too slow for the log's bound finds its next events evicted and gets
//! `{"event": "lagged", "missed": N}` before the oldest event still held; it may reconnect
//! with `since` to resume. Without `since` the stream starts with the next event.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::SinkExt;
use serde_json::json;
use tend::wire::ErrorCode;

use crate::error::{ApiError, ApiResult};
use crate::routes::body::Params;
use crate::state::ServerState;

/// Events sent per page before flushing the socket.
const PAGE: usize = 512;

/// Bytes of frames gathered before a write to the socket. A client that stops reading leaves
/// this much (and one message) in the daemon's memory once the kernel's buffer is full, so it
/// is smaller than the library's default of 128 KiB: 50 idle clients hold about 3 MiB, not
/// 13, and a client reading at full speed pays a write per 32 KiB.
const WRITE_BUFFER: usize = 32 << 10;

/// What a client's read buffer starts at: clients only send pings and close frames (it grows
/// for a bigger message).
const READ_BUFFER: usize = 4 << 10;

/// The upgrade handler.
pub(crate) async fn events(
    State(state): State<ServerState>,
    params: Params,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    params.only(&["since", "token"])?;
    // A request that is not a WebSocket handshake gets the API's JSON error, not axum's text.
    let upgrade = upgrade.map_err(|rejection| {
        ApiError::with_status(rejection.status(), ErrorCode::InvalidRequest, rejection.body_text())
    })?;
    // Decide where "from now on" starts before answering the handshake: a client that acts
    // as soon as it is connected must see the events of what it did.
    let since = params.number("since")?.unwrap_or_else(|| state.event_log().newest_seq() + 1);
    let upgrade = upgrade.write_buffer_size(WRITE_BUFFER).read_buffer_size(READ_BUFFER);
    Ok(upgrade.on_upgrade(move |socket| async move {
        match state.inner.stream_runtime.clone() {
            // The socket stays registered with this runtime's reactor; only the work of
            // reading the log, serialising and framing moves to the other runtime's threads.
            Some(runtime) => {
                let _ = runtime.spawn(stream(state, socket, since)).await;
            }
            None => stream(state, socket, since).await,
        }
    }))
}

struct ClientGauge<'a>(&'a ServerState);

impl Drop for ClientGauge<'_> {
    fn drop(&mut self) {
        self.0.inner.metrics.ws_clients.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn stream(state: ServerState, mut socket: WebSocket, since: u64) {
    state.inner.metrics.ws_clients.fetch_add(1, Ordering::Relaxed);
    let _gauge = ClientGauge(&state);
    let log = state.event_log().clone();
    // Anything appended before this subscription is found by reading from the cursor.
    let mut newest = log.watch();
    let mut cursor = since;
    // One socket for both directions, not split: it is read only while caught up, and a
    // split pair pays a lock per message sent (a few per cent of the streams' CPU with 50
    // clients under a flood).
    loop {
        let page = log.read_json(cursor, PAGE);
        if page.missed > 0 {
            state.inner.metrics.ws_missed.fetch_add(page.missed, Ordering::Relaxed);
            let lagged = json!({ "event": "lagged", "missed": page.missed }).to_string();
            if socket.feed(Message::Text(lagged.into())).await.is_err() {
                return;
            }
        }
        if !page.messages.is_empty() {
            for text in page.messages {
                if socket.feed(Message::Text(text)).await.is_err() {
                    return;
                }
            }
            if socket.flush().await.is_err() {
                return;
            }
            cursor = page.next_seq;
            continue;
        }
        if socket.flush().await.is_err() {
            return;
        }
        // Caught up: wait for the next event, or for the client to leave.
        tokio::select! {
            changed = newest.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                // Pings are answered by the protocol layer; other messages are ignored.
                Some(Ok(_)) => {}
            },
        }
    }
}
