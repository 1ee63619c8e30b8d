//! What can go wrong with one exchange, each naming the address.

use std::io;
use std::time::Duration;

/// Why [`Request::send`](super::Request::send) got no answer. Every variant names the address
/// (`host:port`) it talked to.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The request itself cannot be sent: a bad method, header name or value, or a body that
    /// does not serialise.
    #[error("invalid request for {addr}: {reason}")]
    InvalidRequest {
        /// The address it was meant for.
        addr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No TCP connection: nothing listens there (connection refused), the host is unknown, ….
    #[error("cannot connect to {addr}: {error}")]
    Connect {
        /// The address dialed.
        addr: String,
        /// The operating system's error; its [`kind`](io::Error::kind) says which.
        error: io::Error,
    },
    /// The connection and the whole answer took longer than the request's time bound.
    #[error("no answer from {addr} within {}", humantime::format_duration(*timeout))]
    TimedOut {
        /// The address asked.
        addr: String,
        /// The bound that ran out.
        timeout: Duration,
    },
    /// The answer's body is larger than the request's bound; reading stopped there.
    #[error("the answer from {addr} is larger than {limit} bytes")]
    TooLarge {
        /// The address asked.
        addr: String,
        /// The bound, in bytes.
        limit: usize,
    },
    /// What came back is not an HTTP/1 answer (or not a well-formed one).
    #[error("malformed HTTP answer from {addr}: {reason}")]
    Malformed {
        /// The address asked.
        addr: String,
        /// What the parser refused.
        reason: String,
    },
    /// The connection broke before the answer was complete (reset, closed early).
    #[error("the connection to {addr} broke: {reason}")]
    Broken {
        /// The address asked.
        addr: String,
        /// What happened.
        reason: String,
    },
}

impl HttpError {
    /// The address (`host:port`) the request was for.
    pub fn addr(&self) -> &str {
        match self {
            HttpError::InvalidRequest { addr, .. }
            | HttpError::Connect { addr, .. }
            | HttpError::TimedOut { addr, .. }
            | HttpError::TooLarge { addr, .. }
            | HttpError::Malformed { addr, .. }
            | HttpError::Broken { addr, .. } => addr,
        }
    }

    /// Whether nothing answers at the address at all (refused, no such address or host), as
    /// opposed to something that answered wrongly or slowly.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            HttpError::Connect { error, .. } if matches!(
                error.kind(),
                io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::AddrNotAvailable
                    | io::ErrorKind::NotFound
            )
        )
    }

    /// From hyper's error: a parse error is [`Malformed`](HttpError::Malformed), anything else
    /// [`Broken`](HttpError::Broken); the reason carries hyper's causes.
    pub(super) fn from_hyper(addr: &str, error: &hyper::Error) -> Self {
        let mut reason = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            reason.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        if error.is_body_write_aborted() || reason.contains("error writing a body") {
            // Servers refuse an oversized body (413) and close before reading it; the answer
            // may have been lost with the connection.
            reason.push_str(
                " (the server closed the connection before the whole request body \
                             was sent: it may refuse bodies this large)",
            );
        }
        let addr = addr.to_owned();
        if error.is_parse() || error.is_parse_status() {
            HttpError::Malformed { addr, reason }
        } else {
            HttpError::Broken { addr, reason }
        }
    }
}
