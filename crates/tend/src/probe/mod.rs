//! Readiness and liveness probes: is a service up yet, and is it still alive?
//!
//! A [`Probe`] is one way to ask a service whether it works. There are four kinds:
//!
//! | kind | written | succeeds when |
//! | --- | --- | --- |
//! | [`tcp`](Probe::tcp) | `tcp 127.0.0.1:5432` | a TCP connection to `HOST:PORT` is accepted |
//! | [`http`](Probe::http) | `http http://127.0.0.1:8080/health` | a `GET` of the URL answers with a 2xx status (feature `http`) |
//! | [`exec`](Probe::exec) | `exec pg_isready -h 127.0.0.1` | `bash -c COMMAND`, in the probe's directory and environment, exits with 0 |
//! | [`log`](Probe::log) | `log listening on port \d+` | a line of the process's stdout or stderr matches the [regex](https://docs.rs/regex) |
//!
//! Each is built by its constructor or parsed from that written form ([`FromStr`]), and both
//! check their input: a bad address, URL, command or regex is an [`InvalidProbe`] naming it.
//! A probe prints ([`Display`](std::fmt::Display)) in the written form, as the messages
//! below do.
//!
//! Three ways to use one:
//!
//! * [`Probe::check`]: ask once. `Ok(())`, or why not in a few words (`connection refused`,
//!   `503`, `exited with code 1`).
//! * [`Readiness`]: ask every `interval` (default 250 ms) after an `initial_delay` (default
//!   0 s) until the probe succeeds ([`Ready`], with the time it took) or `timeout` (default
//!   60 s) has passed ([`NotReady`]: `not ready after 60s: tcp 127.0.0.1:5432: connection
//!   refused`, with the last error).
//! * [`Liveness`]: ask every `interval` (default 10 s) for as long as the service runs, and
//!   return [`NotAlive`] after `failures` (default 3) failed checks in a row
//!   (`http://127.0.0.1:8080/health: 500 (3 failures)`). A success resets the count.
//!
//! Both waits stop when their [`CancellationToken`](crate::CancellationToken) is cancelled.
//!
//! ```no_run
//! # async fn demo(db: tend::Process) -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use tend::CancellationToken;
//! use tend::probe::{Liveness, Probe, Readiness};
//!
//! let cancel = CancellationToken::new();
//! // The database says so on stderr; the API answers on /health.
//! let ready = Readiness::new(Probe::log("ready to accept connections")?)
//!     .process(&db)
//!     .timeout(Duration::from_secs(30))
//!     .cancel(cancel.clone())
//!     .wait()
//!     .await?;
//! println!("db ready after {:.1?}", ready.after);
//!
//! let health: Probe = "http http://127.0.0.1:8080/health".parse()?;
//! Readiness::new(health.clone()).wait().await?;
//! let not_alive = Liveness::new(health)?.failures(3).cancel(cancel).watch().await;
//! if let Some(not_alive) = not_alive {
//!     eprintln!("api not alive: {not_alive}");
//! }
//! # Ok(()) }
//! ```
//!
//! # How each kind checks
//!
//! * **tcp** connects and closes the connection at once, sending nothing.
//! * **http** sends one `GET` through the crate's HTTP client ([`crate::http`]) with
//!   `Connection: close`, and reads at most 64 KiB of the answer. Plain HTTP only: no TLS, no
//!   redirects followed (a `3xx` is a failure).
//! * **exec** runs `bash -c COMMAND` through [`exec::Cmd`](crate::exec::Cmd): in its own
//!   process group, stdin, stdout and stderr on `/dev/null`, and the whole group is killed
//!   when the check's time is up, the wait is cancelled or its future is dropped, so a probe
//!   command never outlives its check.
//! * **log** reads the process's lines with [`Process::lines`](crate::Process::lines): every
//!   line its capture ring still holds, then the new ones. A line printed before the wait
//!   began counts, and [`Readiness`] is woken by the line itself rather than by the interval.
//!
//! Every check is bounded in time: by the readiness time left, and by
//! [`check_timeout`](Readiness::check_timeout) (default [`DEFAULT_CHECK_TIMEOUT`], 10 s).
//! Durations of [`FOREVER`](crate::FOREVER) or more mean "never" and do not overflow.
//!
//! # Caveats
//!
//! * **Accepted is not serving.** A TCP connection is accepted by the kernel once the port
//!   listens, before the program calls `accept`; a `tcp` probe says the port is open, not
//!   that requests are answered. Use `http` or `exec` when that matters.
//! * **Restarts and `log`.** The ring of a process started with a
//!   [`Restart`](crate::Restart) policy holds the lines of all its runs, so a line of an
//!   earlier run matches too. The services of a stack ([`runner::ServiceSpec`](crate::runner::ServiceSpec))
//!   are not restarted that way: each run is a new managed process, so a run's `log` probe
//!   sees only that run's lines. The ring holds the newest
//!   [`ring_size`](crate::StartOptions::ring_size) bytes (1 MiB by default): a line pushed
//!   out of it before the wait began is not seen. A last line without a newline is seen only
//!   when the process ends.
//! * **exec output.** The command's output is discarded; a failure says how it ended
//!   (`exited with code 2`). Print what you need to see from the service itself.
//! * **`log` is for readiness only**: [`Liveness`] refuses it (a line that matched once
//!   matches for ever).

mod alive;
mod exec;
#[cfg(feature = "http")]
mod http;
mod log;
mod ready;
mod tcp;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

pub use alive::{DEFAULT_FAILURES, DEFAULT_LIVENESS_INTERVAL, Liveness, NotAlive};
pub use exec::ExecProbe;
#[cfg(feature = "http")]
pub use http::HttpProbe;
pub use log::LogProbe;
pub use ready::{
    DEFAULT_INITIAL_DELAY, DEFAULT_READY_INTERVAL, DEFAULT_READY_TIMEOUT, NotReady, Readiness,
    Ready,
};
pub use tcp::TcpProbe;

use crate::Process;

/// The most one check may take unless told otherwise ([`Readiness::check_timeout`],
/// [`Liveness::check_timeout`]): 10 s.
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// One way to ask whether a service works. See the [module docs](self).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Probe {
    /// A TCP connection to `HOST:PORT` is accepted.
    Tcp(TcpProbe),
    /// A `GET` of an `http://` URL answers 2xx.
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    Http(HttpProbe),
    /// A bash command exits with 0.
    Exec(ExecProbe),
    /// A line of the process's output matches a regex.
    Log(LogProbe),
}

/// Why a probe cannot be built: each variant names the input at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidProbe {
    /// The written form starts with something else than `tcp`, `http`, `exec` or `log`.
    #[error("unknown probe kind `{kind}` (expected tcp, http, exec or log)")]
    UnknownKind {
        /// What was written.
        kind: String,
    },
    /// The kind has nothing after it.
    #[error("the {kind} probe has no {what}")]
    Missing {
        /// The kind.
        kind: &'static str,
        /// What it needs (`address`, `URL`, `command`, `regex`).
        what: &'static str,
    },
    /// Not a `HOST:PORT` a TCP connection can go to.
    #[error("invalid address `{address}`: {reason}")]
    InvalidAddress {
        /// The address given.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Not an `http://` URL the probe can ask.
    #[error("invalid URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A command bash cannot be given (a NUL byte).
    #[error("invalid command `{command}`: {reason}")]
    InvalidCommand {
        /// The command given.
        command: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Not a regex in the [`regex`](https://docs.rs/regex) crate's syntax.
    #[error("invalid regex `{regex}`: {reason}")]
    InvalidRegex {
        /// The pattern given.
        regex: String,
        /// The regex parser's message.
        reason: String,
    },
    /// The probe kind cannot be used for this (a `log` probe for liveness).
    #[error("a {kind} probe cannot be used for {purpose}")]
    NotFor {
        /// The kind.
        kind: &'static str,
        /// What it was meant for.
        purpose: &'static str,
    },
    /// The `http` kind without the `http` feature.
    #[error("http probes need tend's `http` feature")]
    HttpDisabled,
}

impl Probe {
    /// A probe that connects to `address` (`HOST:PORT`: `127.0.0.1:5432`, `localhost:80`,
    /// `[::1]:8080`).
    ///
    /// # Errors
    ///
    /// [`InvalidProbe::InvalidAddress`] when it is not `HOST:PORT` with a port from 1 to 65535.
    pub fn tcp(address: &str) -> Result<Probe, InvalidProbe> {
        TcpProbe::new(address).map(Probe::Tcp)
    }

    /// A probe that asks `GET url` (`http://HOST[:PORT][/PATH][?QUERY]`) for a 2xx answer.
    ///
    /// # Errors
    ///
    /// [`InvalidProbe::InvalidUrl`] for `https://` (not supported), another scheme, a missing
    /// host, a bad port, or user info.
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn http(url: &str) -> Result<Probe, InvalidProbe> {
        HttpProbe::new(url).map(Probe::Http)
    }

    /// A probe that runs `bash -c command` and wants exit code 0. Give it a directory and
    /// environment with [`ExecProbe::dir`] and [`ExecProbe::env`].
    ///
    /// # Errors
    ///
    /// [`InvalidProbe::Missing`] for an empty command, [`InvalidProbe::InvalidCommand`] for
    /// one with a NUL byte.
    pub fn exec(command: &str) -> Result<Probe, InvalidProbe> {
        ExecProbe::new(command).map(Probe::Exec)
    }

    /// A probe that waits for a line of a process's output matching `regex` (the
    /// [`regex`](https://docs.rs/regex) crate's syntax, unanchored: it may match anywhere in
    /// the line).
    ///
    /// # Errors
    ///
    /// [`InvalidProbe::InvalidRegex`] with the parser's message.
    pub fn log(regex: &str) -> Result<Probe, InvalidProbe> {
        LogProbe::new(regex).map(Probe::Log)
    }

    /// The kind: `tcp`, `http`, `exec` or `log`.
    pub fn kind(&self) -> &'static str {
        match self {
            Probe::Tcp(_) => "tcp",
            #[cfg(feature = "http")]
            Probe::Http(_) => "http",
            Probe::Exec(_) => "exec",
            Probe::Log(_) => "log",
        }
    }

    /// What it asks, without the kind: the address, URL, command or regex.
    pub fn target(&self) -> &str {
        match self {
            Probe::Tcp(probe) => probe.address(),
            #[cfg(feature = "http")]
            Probe::Http(probe) => probe.url(),
            Probe::Exec(probe) => probe.command(),
            Probe::Log(probe) => probe.regex(),
        }
    }

    /// Asks once, within `timeout` ([`FOREVER`](crate::FOREVER) or more: no bound; zero: no
    /// bound either, as everywhere in tend). `process` is the one whose lines a `log` probe
    /// reads (the other kinds ignore it); a `log` check reads the lines the process has
    /// written so far and does not wait for more.
    ///
    /// # Errors
    ///
    /// Why the check failed, in a few words: `connection refused`, `503`,
    /// `exited with code 1`, `timed out after 10s`, `no line matched`.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tend::probe::InvalidProbe> {
    /// use std::time::Duration;
    /// use tend::probe::Probe;
    ///
    /// let probe = Probe::tcp("127.0.0.1:5432")?;
    /// match probe.check(None, Duration::from_secs(1)).await {
    ///     Ok(()) => println!("{probe}: up"),
    ///     Err(reason) => println!("{probe}: {reason}"),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn check(&self, process: Option<&Process>, timeout: Duration) -> Result<(), String> {
        let token = crate::CancellationToken::new();
        match self {
            Probe::Log(probe) => match process {
                Some(process) => probe.check_now(&mut process.lines()),
                None => Err(log::NO_PROCESS.to_owned()),
            },
            _ => self.check_remote(timeout, &token).await,
        }
    }

    /// One check of a kind that asks from outside (all but `log`), bounded by `timeout` and
    /// cancelled (an exec command killed) with `cancel`.
    pub(crate) async fn check_remote(
        &self,
        timeout: Duration,
        cancel: &crate::CancellationToken,
    ) -> Result<(), String> {
        // Zero means no bound, as for every timeout of the crate.
        let bound = if timeout.is_zero() { crate::FOREVER } else { timeout };
        let check = async {
            match self {
                Probe::Tcp(probe) => probe.check().await,
                #[cfg(feature = "http")]
                Probe::Http(probe) => probe.check(bound).await,
                Probe::Exec(probe) => probe.check(bound, cancel).await,
                Probe::Log(_) => Err(log::NO_PROCESS.to_owned()),
            }
        };
        // Boxed: an HTTP exchange or a command run is a large future (18 KiB in a debug
        // build), and would make every wait and everything that holds one that large.
        let check = Box::pin(check);
        crate::deadline::within(bound, check).await.unwrap_or_else(|| Err(timed_out(bound)))
    }
}

/// `timed out after 10s` (to the millisecond: a check's bound may be the time left).
pub(crate) fn timed_out(timeout: Duration) -> String {
    let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    format!("timed out after {:?}", Duration::from_millis(millis))
}

/// An I/O error in a few words: `connection refused`, not `Connection refused (os error 111)`.
pub(crate) fn io_reason(error: &std::io::Error) -> String {
    let text = error.to_string();
    let text = match text.find(" (os error") {
        Some(end) => &text[..end],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text.to_owned(),
    }
}

impl fmt::Display for Probe {
    /// The written form: `tcp 127.0.0.1:5432`, `http http://127.0.0.1:8080/health`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.target())
    }
}

impl FromStr for Probe {
    type Err = InvalidProbe;

    /// Parses the written form `KIND TARGET`: `tcp HOST:PORT`, `http URL`, `exec COMMAND`,
    /// `log REGEX` (everything after the first run of blanks is the target, as is).
    fn from_str(text: &str) -> Result<Probe, InvalidProbe> {
        let text = text.trim_start();
        let (kind, target) = match text.find(char::is_whitespace) {
            Some(end) => (&text[..end], text[end..].trim_start()),
            None => (text, ""),
        };
        match kind {
            "tcp" => Probe::tcp(target),
            #[cfg(feature = "http")]
            "http" => Probe::http(target),
            #[cfg(not(feature = "http"))]
            "http" => Err(InvalidProbe::HttpDisabled),
            "exec" => Probe::exec(target),
            "log" => Probe::log(target),
            _ => Err(InvalidProbe::UnknownKind { kind: kind.to_owned() }),
        }
    }
}

impl From<TcpProbe> for Probe {
    fn from(probe: TcpProbe) -> Probe {
        Probe::Tcp(probe)
    }
}

#[cfg(feature = "http")]
impl From<HttpProbe> for Probe {
    fn from(probe: HttpProbe) -> Probe {
        Probe::Http(probe)
    }
}

impl From<ExecProbe> for Probe {
    fn from(probe: ExecProbe) -> Probe {
        Probe::Exec(probe)
    }
}

impl From<LogProbe> for Probe {
    fn from(probe: LogProbe) -> Probe {
        Probe::Log(probe)
    }
}
