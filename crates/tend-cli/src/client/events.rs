//! The daemon's events WebSocket (`/api/v1/events`), as a client follows it: one connection,
//! authenticated like every request (the server proves it holds the token first; the token
//! goes in the `Authorization` header, as a non-browser client sends it), read message by
//! message.

use std::time::Duration;

use anyhow::{Context, anyhow};
use futures_util::{FutureExt, StreamExt};
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use super::Client;

/// Bound on connecting and the WebSocket handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a client needs of one event: which it is, about what, and where it is in the log.
/// (`lagged` has no `seq` and no `id`; pipeline events have no process `id`.)
#[derive(Debug, Deserialize)]
pub(crate) struct EventHead {
    /// The log's sequence number.
    #[serde(default)]
    pub(crate) seq: Option<u64>,
    /// The process it is about.
    #[serde(default)]
    pub(crate) id: Option<String>,
    /// `output`, `exited`, `lagged`, …
    pub(crate) event: String,
    /// `restarted`: the restart number.
    #[serde(default)]
    pub(crate) attempt: Option<u32>,
    /// `restarted`: the exit code of the run before it, if it exited.
    #[serde(default)]
    pub(crate) exit_code: Option<i32>,
    /// `restarted`: the signal that ended the run before it, if one did.
    #[serde(default)]
    pub(crate) signal: Option<tend::Signal>,
}

/// An open events stream.
pub(crate) struct Events {
    socket: WebSocketStream<TcpStream>,
}

impl Client {
    /// Opens the events stream from sequence number `since` on (from the next event without
    /// it).
    pub(crate) async fn events(&self, since: Option<u64>) -> anyhow::Result<Events> {
        self.proven.get_or_try_init(|| self.prove()).await?;
        let query = since.map(|seq| format!("?since={seq}")).unwrap_or_default();
        let url = format!("ws://{}/api/v1/events{query}", self.addr);
        let mut request = url.as_str().into_client_request().context("the events URL")?;
        let bearer = HeaderValue::from_str(&format!("Bearer {}", self.token))
            .context("the token is not a valid header value")?;
        request.headers_mut().insert("Authorization", bearer);
        let handshake = async {
            let stream = tend::http::connect(&self.addr).await.map_err(|e| self.unreachable(&e))?;
            let (socket, _) =
                tokio_tungstenite::client_async(request, stream).await.with_context(|| {
                    format!("cannot open the events stream of http://{}", self.addr)
                })?;
            anyhow::Ok(Events { socket })
        };
        tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await.map_err(|_| {
            anyhow!("the daemon at http://{} did not open the events stream in time", self.addr)
        })?
    }
}

impl Events {
    /// The next event; `None` when the stream ended or broke (the caller reconnects).
    pub(crate) async fn next(&mut self) -> Option<EventHead> {
        loop {
            match self.socket.next().await? {
                Ok(Message::Text(text)) => match serde_json::from_str(&text) {
                    Ok(head) => return Some(head),
                    // Not an event of ours: skip it rather than stop following.
                    Err(_) => continue,
                },
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// The next event if one has already arrived, without waiting.
    pub(crate) fn ready(&mut self) -> Option<Option<EventHead>> {
        self.next().now_or_never()
    }
}
