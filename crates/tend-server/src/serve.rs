//! [`serve`]: the router over TCP, with the bounds a client without a token must not get
//! around. `axum::serve` has none of them; `tend daemon` serves through this.
//!
//! * **Header timeout** ([`ServeOptions::header_timeout`], 5 s by default): a request's head
//!   must arrive within it of the connection waiting for one: after the accept, and after
//!   each response on a kept-alive connection. So it closes a connection that sends nothing,
//!   an idle keep-alive connection and a slowloris that trickles its headers alike.
//! * **Connection bound** ([`ServeOptions::max_connections`], from the open-file limit by
//!   default, see [`default_max_connections`]): at the bound, a new connection closes the
//!   *idle* connection that has waited longest (no request in flight; as nginx reuses its
//!   keep-alive connections), so idle sockets can never lock real clients out. When every
//!   connection has a request in flight, the new one gets a `503` and is closed at once.
//!   Upgraded WebSockets count against the bound and are never closed for a newcomer.
//! * Request bodies are bounded by the router (1 MiB, an oversized `Content-Length` is
//!   refused before reading) and must arrive within [`BODY_TIMEOUT`](crate::BODY_TIMEOUT).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

/// Default [`ServeOptions::header_timeout`].
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// Never more connections than this by default, whatever the open-file limit.
pub const MAX_DEFAULT_CONNECTIONS: usize = 4096;

/// The default connection bound: a quarter of the open-file limit (the rest is for the
/// supervised processes' pipes), between 16 and [`MAX_DEFAULT_CONNECTIONS`]. With the
/// common limit of 1,024 that is 256.
pub fn default_max_connections() -> usize {
    let quarter = usize::try_from(tend::open_file_limit() / 4).unwrap_or(usize::MAX);
    quarter.clamp(16, MAX_DEFAULT_CONNECTIONS)
}

/// The bounds [`serve`] keeps.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// At most this many open connections (at least 1). See the module docs for what
    /// happens at the bound.
    pub max_connections: usize,
    /// A request's head must arrive within this of the connection waiting for it (also the
    /// idle keep-alive timeout).
    pub header_timeout: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self { max_connections: default_max_connections(), header_timeout: DEFAULT_HEADER_TIMEOUT }
    }
}

/// Serves `router` on `listener` (HTTP/1.1, WebSocket upgrades included) until `shutdown`
/// completes; then accepts no more, closes idle connections, and returns once the requests
/// in flight have been answered (upgraded WebSockets are not waited for).
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let state = tend_server::ServerState::new(tend::Service::new(), "token", listener.local_addr()?);
/// let options = tend_server::ServeOptions { max_connections: 100, ..Default::default() };
/// let stop = async { let _ = tokio::signal::ctrl_c().await; };
/// tend_server::serve(listener, tend_server::router(state), options, stop).await?;
/// # Ok(()) }
/// ```
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let slots = Arc::new(Slots {
        open: Mutex::new(BTreeMap::new()),
        next: AtomicUsize::new(0),
        max: options.max_connections.max(1),
    });
    // Connection tasks hold a receiver each: `closed()` tells when the last has ended.
    let (stopping, stop_seen) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    accept_failed(&error).await;
                    continue;
                }
            },
        };
        let Some(slot) = slots.admit() else {
            refuse(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(Tracked { stream, _slot: SlotGuard(slots.clone(), slot.id) });
        tokio::spawn(connection(
            io,
            slot,
            router.clone(),
            options.header_timeout,
            stop_seen.clone(),
        ));
    }
    drop(listener);
    drop(stop_seen);
    let _ = stopping.send(true);
    stopping.closed().await;
    Ok(())
}

/// Accept failed: out of descriptors (the connection waits in the backlog; retry once some
/// are freed) or a connection that went away before we took it.
async fn accept_failed(error: &io::Error) {
    // EMFILE and ENFILE (Linux numbers).
    if matches!(error.raw_os_error(), Some(24 | 23)) {
        tracing::warn!(%error, "cannot accept a connection: out of file descriptors");
        tokio::time::sleep(Duration::from_millis(20)).await;
    } else {
        tracing::debug!(%error, "accept failed");
    }
}

/// Closes a connection beyond the bound with a 503 it can read, without waiting for it.
fn refuse(stream: TcpStream) {
    const BODY: &str = r#"{"error":{"code":"too_many_connections","message":"the server has as many connections as it allows, all busy; retry later"}}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         connection: close\r\nretry-after: 1\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = stream.try_write(response.as_bytes());
}

/// Serves one connection until it ends, is evicted for a newcomer, or the server stops.
async fn connection(
    io: TokioIo<Tracked>,
    slot: Arc<Slot>,
    router: Router,
    header_timeout: Duration,
    mut stopping: watch::Receiver<bool>,
) {
    let service = {
        let slot = slot.clone();
        hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let busy = Busy::new(slot.clone());
            let mut router = router.clone();
            async move {
                let response =
                    tower_service::Service::call(&mut router, request.map(Body::new)).await?;
                Ok::<_, Infallible>(response.map(|body| BusyBody { body, _busy: busy }))
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(header_timeout).keep_alive(true);
    let conn = builder.serve_connection(io, service).with_upgrades();
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        () = slot.evict.notified() => return,
        _ = async { stopping.wait_for(|stop| *stop).await.is_ok() } => {
            conn.as_mut().graceful_shutdown();
            tokio::select! {
                _ = conn.as_mut() => {}
                () = slot.evict.notified() => return,
            }
        }
    }
    // Still open here means upgraded: a WebSocket that lives on without this task.
    slot.upgraded.store(true, Ordering::Relaxed);
}

/// The open connections, in the order they were accepted.
struct Slots {
    open: Mutex<BTreeMap<usize, Arc<Slot>>>,
    next: AtomicUsize,
    max: usize,
}

struct Slot {
    id: usize,
    /// Requests in flight (until their response body has been sent).
    busy: AtomicUsize,
    /// Handed over to a WebSocket: never evicted.
    upgraded: AtomicBool,
    evict: Notify,
}

impl Slots {
    /// A slot for a new connection, evicting the longest-idle one at the bound; `None` when
    /// every connection is busy.
    fn admit(&self) -> Option<Arc<Slot>> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.len() >= self.max {
            let idle = open
                .values()
                .find(|s| {
                    s.busy.load(Ordering::Acquire) == 0 && !s.upgraded.load(Ordering::Relaxed)
                })
                .map(|s| s.id)?;
            if let Some(evicted) = open.remove(&idle) {
                evicted.evict.notify_one();
            }
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            id,
            busy: AtomicUsize::new(0),
            upgraded: AtomicBool::new(false),
            evict: Notify::new(),
        });
        open.insert(id, slot.clone());
        Some(slot)
    }
}

/// Frees the slot when the socket closes (dropped with the stream, upgraded or not).
struct SlotGuard(Arc<Slots>, usize);

impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.0.open.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.1);
    }
}

/// Marks a connection busy from a request's arrival to its response body's end.
struct Busy(Arc<Slot>);

impl Busy {
    fn new(slot: Arc<Slot>) -> Self {
        slot.busy.fetch_add(1, Ordering::AcqRel);
        Self(slot)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its connection marked busy until it is dropped.
struct BusyBody {
    body: Body,
    _busy: Busy,
}

impl hyper::body::Body for BusyBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The socket, carrying its slot: the slot is freed exactly when the socket is closed, even
/// after an upgrade moved it into a WebSocket.
struct Tracked {
    stream: TcpStream,
    _slot: SlotGuard,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(max: usize) -> Slots {
        Slots { open: Mutex::new(BTreeMap::new()), next: AtomicUsize::new(0), max }
    }

    #[test]
    fn at_the_bound_the_longest_idle_connection_goes_and_busy_ones_stay() {
        let slots = slots(3);
        let first = slots.admit().unwrap();
        let second = slots.admit().unwrap();
        let third = slots.admit().unwrap();
        let _busy = Busy::new(first.clone());
        let fourth = slots.admit().expect("an idle connection makes room");
        let open: Vec<usize> = slots.open.lock().unwrap().keys().copied().collect();
        assert_eq!(open, vec![first.id, third.id, fourth.id], "the oldest idle (second) went");
        assert!(!Arc::ptr_eq(&second, &fourth));
        let _b3 = Busy::new(third.clone());
        let _b4 = Busy::new(fourth.clone());
        assert!(slots.admit().is_none(), "all busy: refused");
        fourth.upgraded.store(true, Ordering::Relaxed);
        drop(_b4);
        assert!(slots.admit().is_none(), "an upgraded WebSocket is never evicted");
    }
}
