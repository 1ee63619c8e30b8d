//! The `log` probe: a line of the process's stdout or stderr matches a regex.

use regex::bytes::Regex;

use super::InvalidProbe;
use crate::Lines;

/// Why a `log` check has nothing to read.
pub(crate) const NO_PROCESS: &str = "a log probe needs the process whose lines it reads";
/// Why a `log` check failed while the process runs.
pub(crate) const NO_MATCH: &str = "no line matched";
/// Why a `log` wait ended early.
pub(crate) const ENDED: &str = "the process ended before a line matched";

/// Waits for a line of a process's output, stdout or stderr, matching a regex (the
/// [`regex`](https://docs.rs/regex) crate's syntax, searched anywhere in the line; invalid
/// UTF-8 in a line is no obstacle). Built by [`Probe::log`](super::Probe::log) or
/// [`LogProbe::new`]; the process is given to [`Readiness::process`](super::Readiness::process)
/// or [`Probe::check`](super::Probe::check).
#[derive(Debug, Clone)]
pub struct LogProbe {
    regex: Regex,
}

impl LogProbe {
    /// A probe for lines matching `regex`.
    ///
    /// # Errors
    ///
    /// [`InvalidProbe::Missing`] for an empty regex (it would match any line),
    /// [`InvalidProbe::InvalidRegex`] with the parser's message.
    pub fn new(regex: &str) -> Result<LogProbe, InvalidProbe> {
        if regex.is_empty() {
            return Err(InvalidProbe::Missing { kind: "log", what: "regex" });
        }
        match Regex::new(regex) {
            Ok(regex) => Ok(LogProbe { regex }),
            Err(error) => {
                Err(InvalidProbe::InvalidRegex { regex: regex.to_owned(), reason: reason(&error) })
            }
        }
    }

    /// The regex, as given.
    pub fn regex(&self) -> &str {
        self.regex.as_str()
    }

    /// Whether `line` matches.
    pub fn matches(&self, line: &[u8]) -> bool {
        self.regex.is_match(line)
    }

    /// Reads the lines `lines` has now, without waiting for more: `Ok` at the first that
    /// matches.
    pub(crate) fn check_now(&self, lines: &mut Lines) -> Result<(), String> {
        loop {
            let next = poll_once(lines.recv());
            match next {
                Some(Some(Ok(line))) if self.matches(&line.bytes) => return Ok(()),
                Some(Some(_)) => {}
                Some(None) => return Err(ENDED.to_owned()),
                None => return Err(NO_MATCH.to_owned()),
            }
        }
    }

    /// Waits for a matching line: `Err` when the process ended without one.
    pub(crate) async fn wait(&self, lines: &mut Lines) -> Result<(), String> {
        while let Some(line) = lines.recv().await {
            // A lag (bytes dropped before they were read) is not a line: read on.
            if line.is_ok_and(|line| self.matches(&line.bytes)) {
                return Ok(());
            }
        }
        Err(ENDED.to_owned())
    }
}

/// The output of `future` if it is ready at its first poll. `Lines::recv` is cancel-safe, so
/// dropping it unready loses nothing.
fn poll_once<F: std::future::Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(output) => Some(output),
        std::task::Poll::Pending => None,
    }
}

/// The regex parser's message on one line: its `error: …` line, without the drawing of the
/// pattern above it.
fn reason(error: &regex::Error) -> String {
    let text = error.to_string();
    text.lines()
        .find_map(|line| line.trim().strip_prefix("error: "))
        .map_or_else(|| text.replace('\n', " "), str::to_owned)
}
