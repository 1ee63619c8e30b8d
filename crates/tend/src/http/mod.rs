//! One small HTTP/1.1 client, for the library's health probes, the `tend` CLI and the tests:
//! one request per connection (`Connection: close`) to a `host:port`, the whole answer back.
//!
//! It is hyper's client connection ([`hyper::client::conn::http1`]) over a tokio
//! [`TcpStream`]: no pool, no TLS, no redirects, no proxy — what a client of a loopback
//! daemon or a health endpoint needs, and nothing it would have to trust.
//!
//! # Bounds
//!
//! * **Time**: one bound covers connecting, sending and reading the whole answer
//!   ([`Request::timeout`], default [`DEFAULT_TIMEOUT`], 30 s); a server that never answers
//!   is [`HttpError::TimedOut`].
//! * **Memory**: the body read is at most [`Request::max_answer`] bytes (default
//!   [`DEFAULT_MAX_ANSWER`], 16 MiB); a larger one is [`HttpError::TooLarge`] (refused from
//!   its `Content-Length` before reading, or as soon as the bound is passed). Headers are
//!   bounded by hyper (about 400 KiB).
//!
//! ```no_run
//! # async fn demo() -> Result<(), tend::http::HttpError> {
//! use std::time::Duration;
//! use tend::http::Request;
//!
//! let answer = Request::get("/api/v1/processes")
//!     .bearer("TOKEN")
//!     .timeout(Duration::from_secs(5))
//!     .send("127.0.0.1:7420")
//!     .await?;
//! println!("{} {}", answer.status(), answer.text());
//!
//! let started = Request::post("/api/v1/processes")
//!     .bearer("TOKEN")
//!     .json(&serde_json::json!({ "command": "sleep", "args": ["5"] }))
//!     .send("127.0.0.1:7420")
//!     .await?;
//! assert!(started.is_success());
//! # Ok(()) }
//! ```

mod answer;
mod error;
#[cfg(test)]
mod tests;

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Body;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

pub use answer::Answer;
pub use error::HttpError;

/// Default bound on connecting plus the whole answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default bound on the body of an answer, in bytes: 16 MiB.
pub const DEFAULT_MAX_ANSWER: usize = 16 << 20;

/// One request, built step by step and sent with [`send`](Request::send).
///
/// Sent with `Host: ADDR`, `User-Agent: tend`, `Accept: */*` and `Connection: close`, each
/// unless a header of that name is given; a body gets its `Content-Length`.
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until it is sent"]
pub struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Bytes,
    timeout: Duration,
    max_answer: usize,
    /// Why the request cannot be sent (a body that did not serialise), reported by `send`.
    invalid: Option<String>,
}

impl Request {
    /// A request with `method` (such as `"GET"`) for `path` (with its query, such as
    /// `/health?verbose=1`).
    pub fn new(method: &str, path: impl Into<String>) -> Self {
        Self {
            method: method.to_owned(),
            path: path.into(),
            headers: Vec::new(),
            body: Bytes::new(),
            timeout: DEFAULT_TIMEOUT,
            max_answer: DEFAULT_MAX_ANSWER,
            invalid: None,
        }
    }

    /// A `GET` request for `path`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new("GET", path)
    }

    /// A `POST` request for `path`.
    pub fn post(path: impl Into<String>) -> Self {
        Self::new("POST", path)
    }

    /// Adds a header (a repeated name is sent once per call). A `Host`, `User-Agent`, `Accept`
    /// or `Connection` header replaces the default one.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds `Authorization: Bearer TOKEN`.
    pub fn bearer(self, token: &str) -> Self {
        let value = format!("Bearer {token}");
        self.header("Authorization", &value)
    }

    /// Sets the body, sent as is (add its `Content-Type` with [`header`](Self::header)).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets the body to `value` as JSON, with `Content-Type: application/json`.
    pub fn json(mut self, value: &impl serde::Serialize) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => self.body = body.into(),
            Err(error) => self.invalid = Some(format!("the JSON body does not serialise: {error}")),
        }
        self.header("Content-Type", "application/json")
    }

    /// Bounds connecting plus the whole answer (default [`DEFAULT_TIMEOUT`]);
    /// [`FOREVER`](crate::FOREVER) or more waits for ever.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Bounds the answer's body, in bytes (default [`DEFAULT_MAX_ANSWER`]).
    pub fn max_answer(mut self, bytes: usize) -> Self {
        self.max_answer = bytes;
        self
    }

    /// Connects to `addr` (`host:port`, such as `127.0.0.1:7420` or `localhost:9000`), sends
    /// the request and reads the whole answer, within the request's time bound.
    ///
    /// An answer with any status is `Ok`: a `404` or a `503` is an answer.
    ///
    /// # Errors
    ///
    /// [`HttpError`], naming `addr`: the connection was refused ([`HttpError::Connect`]), no
    /// whole answer came in time ([`HttpError::TimedOut`]), the body is over the bound
    /// ([`HttpError::TooLarge`]), what came is not HTTP ([`HttpError::Malformed`]), the
    /// connection broke ([`HttpError::Broken`]), or the request is invalid.
    ///
    /// ```no_run
    /// # async fn demo() {
    /// use tend::http::{HttpError, Request};
    ///
    /// match Request::get("/ready").send("127.0.0.1:9000").await {
    ///     Ok(answer) if answer.status() == 200 => println!("ready"),
    ///     Ok(answer) => println!("not ready: HTTP {} {}", answer.status(), answer.text()),
    ///     Err(error) if error.is_unreachable() => println!("nothing listens on {}", error.addr()),
    ///     Err(HttpError::TimedOut { timeout, .. }) => println!("no answer within {timeout:?}"),
    ///     Err(error) => println!("{error}"),
    /// }
    /// # }
    /// ```
    pub async fn send(self, addr: &str) -> Result<Answer, HttpError> {
        let timeout = self.timeout;
        // `within`: a bound of `FOREVER` or more waits for ever rather than overflowing.
        match crate::deadline::within(timeout, self.exchange(addr)).await {
            Some(result) => result,
            None => Err(HttpError::TimedOut { addr: addr.to_owned(), timeout }),
        }
    }

    async fn exchange(self, addr: &str) -> Result<Answer, HttpError> {
        let limit = self.max_answer;
        let request = self.build(addr)?;
        let stream = connect(addr).await?;
        let hyper_error = |error: hyper::Error| HttpError::from_hyper(addr, &error);
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(hyper_error)?;
        let exchange = async {
            let response = sender.send_request(request).await.map_err(hyper_error)?;
            let (parts, body) = response.into_parts();
            let body = read_bounded(body, limit, addr).await?;
            Ok(Answer { status: parts.status.as_u16(), headers: parts.headers, body })
        };
        // The connection does the reading and writing: drive it alongside the exchange. When
        // it ends first, the exchange ends too (with the answer, or with its error).
        tokio::pin!(connection, exchange);
        let mut connection_ended = false;
        let mut connection_error = None;
        loop {
            tokio::select! {
                result = &mut exchange => {
                    // A parse error reaches the exchange as "connection closed": say what it was.
                    return match (result, connection_error) {
                        (Err(_), Some(error)) => Err(hyper_error(error)),
                        (result, _) => result,
                    };
                }
                ended = &mut connection, if !connection_ended => {
                    connection_ended = true;
                    connection_error = ended.err();
                }
            }
        }
    }

    /// The hyper request, or why it cannot be one.
    fn build(self, addr: &str) -> Result<hyper::Request<Full<Bytes>>, HttpError> {
        let invalid = |reason: String| HttpError::InvalidRequest { addr: addr.to_owned(), reason };
        if let Some(reason) = self.invalid {
            return Err(invalid(reason));
        }
        let mut builder = hyper::Request::builder().method(self.method.as_str()).uri(&self.path);
        let given =
            |default: &str| self.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(default));
        for (name, value) in
            [("Host", addr), ("User-Agent", "tend"), ("Accept", "*/*"), ("Connection", "close")]
        {
            if !given(name) {
                builder = builder.header(name, value);
            }
        }
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        builder.body(Full::new(self.body)).map_err(|error| invalid(error.to_string()))
    }
}

/// Opens the TCP connection for a request to `addr` (`host:port`); the WebSocket client of
/// `tend logs -f` starts the same way.
///
/// # Errors
///
/// [`HttpError::Connect`] with the operating system's error.
pub async fn connect(addr: &str) -> Result<TcpStream, HttpError> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|error| HttpError::Connect { addr: addr.to_owned(), error })?;
    // One request, one answer: nothing to gain from Nagle's delay.
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Percent-encodes `text` for one segment of a path: every byte but ASCII letters, digits and
/// `-._~` becomes `%XX`, so an id or a name with `/`, `?`, spaces or any UTF-8 stays one
/// segment.
///
/// ```
/// assert_eq!(tend::http::segment("my job/1"), "my%20job%2F1");
/// let path = format!("/api/v1/processes/{}", tend::http::segment("web?x"));
/// assert_eq!(path, "/api/v1/processes/web%3Fx");
/// ```
pub fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Reads the whole body, at most `limit` bytes.
async fn read_bounded(
    mut body: hyper::body::Incoming,
    limit: usize,
    addr: &str,
) -> Result<Bytes, HttpError> {
    let too_large = || HttpError::TooLarge { addr: addr.to_owned(), limit };
    // A declared length over the bound is refused before anything is read.
    if body.size_hint().lower() > limit as u64 {
        return Err(too_large());
    }
    let mut collected = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| HttpError::from_hyper(addr, &error))?;
        if let Ok(data) = frame.into_data() {
            if collected.len() + data.len() > limit {
                return Err(too_large());
            }
            collected.extend_from_slice(&data);
        }
    }
    Ok(collected.into())
}
