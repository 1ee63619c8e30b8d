//! What an imported file becomes before it is written: steps and services with the tend.toml
//! keys they map to, and the source keys that have no equivalent.

use std::collections::BTreeMap;
use std::time::Duration;

/// A whole imported file.
#[derive(Debug, Default)]
pub(super) struct Imported {
    /// Top-level `env`.
    pub(super) env: BTreeMap<String, String>,
    /// Steps and services, in the source's order.
    pub(super) items: Vec<Item>,
    /// Source keys (top level, or of something left out) with no equivalent.
    pub(super) unmapped: Vec<Unmapped>,
}

/// A `[steps.NAME]` or `[services.NAME]` table.
#[derive(Debug, Default)]
pub(super) struct Item {
    pub(super) name: String,
    pub(super) step: bool,
    /// Where it came from (`process `web` (line 12)`): its table's first comment.
    pub(super) origin: String,
    /// Comments on the mapping written above the keys (how a key was read).
    pub(super) notes: Vec<String>,
    pub(super) command: Command,
    pub(super) dir: Option<String>,
    pub(super) env: BTreeMap<String, String>,
    pub(super) after: Vec<String>,
    pub(super) allow_failure: bool,
    pub(super) ready: Option<Probe>,
    pub(super) alive: Option<Probe>,
    /// `always`, `on_failure` or `never`.
    pub(super) restart: Option<&'static str>,
    pub(super) max_restarts: Option<u64>,
    pub(super) restart_delay: Option<Duration>,
    pub(super) restart_max_delay: Option<Duration>,
    /// A signal name without `SIG`.
    pub(super) stop_signal: Option<String>,
    pub(super) grace: Option<Duration>,
    pub(super) log: Option<String>,
    pub(super) log_max_size: Option<u64>,
    pub(super) log_keep: Option<u64>,
    /// This item's source keys with no equivalent.
    pub(super) unmapped: Vec<Unmapped>,
}

/// What runs: a program and its arguments, or a bash script.
#[derive(Debug)]
pub(super) enum Command {
    Program { command: String, args: Vec<String> },
    Script(String),
}

impl Default for Command {
    fn default() -> Self {
        Command::Script(String::new())
    }
}

/// A `ready` or `alive` table.
#[derive(Debug, Default)]
pub(super) struct Probe {
    /// `tcp`, `http`, `exec` or `log`.
    pub(super) kind: &'static str,
    pub(super) target: String,
    pub(super) interval: Option<Duration>,
    pub(super) timeout: Option<Duration>,
    pub(super) initial_delay: Option<Duration>,
    pub(super) failures: Option<u64>,
}

/// A source key with no tend.toml equivalent: listed on stderr and as a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Unmapped {
    /// The source line (1-based).
    pub(super) line: usize,
    /// The key as the source names it (`processes.web.namespace`, `[program:web] user`).
    pub(super) key: String,
    /// Why it has no equivalent, or what to do instead.
    pub(super) why: String,
}

impl Unmapped {
    pub(super) fn new(line: usize, key: impl Into<String>, why: impl Into<String>) -> Self {
        Unmapped { line, key: key.into(), why: why.into() }
    }
}

/// A signal given by name (`TERM`, `SIGINT`) or number (15) as tend.toml writes it (`TERM`);
/// `None` when this platform knows no such signal.
pub(super) fn signal_name(given: &str) -> Option<String> {
    let signal: tend::Signal = given.parse().ok()?;
    Some(signal.short_name().to_owned())
}

/// Whole seconds (or fractions) from a source file as a duration; `None` when negative or
/// not finite.
pub(super) fn seconds(value: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(value).ok()
}
