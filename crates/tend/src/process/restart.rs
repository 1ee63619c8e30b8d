//! Restart policies: whether a managed process is started again when it ends, how often, and
//! after what delay. The rules are on [`Restart`]; the loop that applies them is in `spawn`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Default delay before the first restart: 100 ms.
pub const DEFAULT_RESTART_DELAY: Duration = Duration::from_millis(100);
/// Default factor the delay grows by after each restart: 2.
pub const DEFAULT_RESTART_MULTIPLIER: f64 = 2.0;
/// Default cap on the delay between restarts: 30 s.
pub const DEFAULT_MAX_RESTART_DELAY: Duration = Duration::from_secs(30);
/// Default run time after which the delay starts again from the initial one: 10 s.
pub const DEFAULT_RESTART_RESET_AFTER: Duration = Duration::from_secs(10);

/// When a process that ended by itself is started again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RestartPolicy {
    /// Never: the first end is final.
    #[default]
    Never,
    /// After a non-zero exit code, or a death by a signal nobody here sent.
    OnFailure,
    /// After every end, success included.
    Always,
}

impl RestartPolicy {
    /// Whether a run that ended by itself, successfully (exit code 0) or not, is followed by
    /// another.
    pub fn restarts_after(self, success: bool) -> bool {
        match self {
            RestartPolicy::Never => false,
            RestartPolicy::OnFailure => !success,
            RestartPolicy::Always => true,
        }
    }
}

impl fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            RestartPolicy::Never => "never",
            RestartPolicy::OnFailure => "on_failure",
            RestartPolicy::Always => "always",
        })
    }
}

/// Parses `never`, `on_failure` (or `on-failure`) and `always`, in any case.
///
/// ```
/// use tend::RestartPolicy;
///
/// assert_eq!("on-failure".parse::<RestartPolicy>().unwrap(), RestartPolicy::OnFailure);
/// assert!("sometimes".parse::<RestartPolicy>().is_err());
/// ```
impl FromStr for RestartPolicy {
    type Err = ParseRestartError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace('-', "_").as_str() {
            "never" => Ok(RestartPolicy::Never),
            "on_failure" => Ok(RestartPolicy::OnFailure),
            "always" => Ok(RestartPolicy::Always),
            _ => Err(ParseRestartError(format!(
                "`{s}` is not a restart policy (never, on-failure, always)"
            ))),
        }
    }
}

/// How many times a process may be restarted. There is no "0 means unlimited": `Limited(0)`
/// means no restart at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum MaxRestarts {
    /// At most this many restarts, in total.
    Limited(u32),
    /// No limit.
    #[default]
    Unlimited,
}

impl MaxRestarts {
    /// Whether a process restarted `done` times so far may be restarted once more.
    pub fn allows(self, done: u32) -> bool {
        match self {
            MaxRestarts::Limited(max) => done < max,
            MaxRestarts::Unlimited => true,
        }
    }
}

impl fmt::Display for MaxRestarts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaxRestarts::Limited(max) => f.pad(&max.to_string()),
            MaxRestarts::Unlimited => f.pad("unlimited"),
        }
    }
}

/// Parses a number or `unlimited`.
///
/// ```
/// use tend::MaxRestarts;
///
/// assert_eq!("3".parse::<MaxRestarts>().unwrap(), MaxRestarts::Limited(3));
/// assert_eq!("unlimited".parse::<MaxRestarts>().unwrap(), MaxRestarts::Unlimited);
/// assert!("-1".parse::<MaxRestarts>().is_err());
/// ```
impl FromStr for MaxRestarts {
    type Err = ParseRestartError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("unlimited") {
            return Ok(MaxRestarts::Unlimited);
        }
        s.parse().map(MaxRestarts::Limited).map_err(|_| {
            ParseRestartError(format!("`{s}` is not a number of restarts or `unlimited`"))
        })
    }
}

/// In JSON: a number, or the string `"unlimited"`.
impl Serialize for MaxRestarts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            MaxRestarts::Limited(max) => serializer.serialize_u32(*max),
            MaxRestarts::Unlimited => serializer.serialize_str("unlimited"),
        }
    }
}

impl<'de> Deserialize<'de> for MaxRestarts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u32),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(max) => Ok(MaxRestarts::Limited(max)),
            Raw::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// By hand, as the serde is: a number, or `"unlimited"` (read in any case; a number as text
/// is read too).
#[cfg(feature = "schema")]
impl schemars::JsonSchema for MaxRestarts {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "MaxRestarts".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "At most this many restarts, or `unlimited`.",
            "anyOf": [
                { "type": "integer", "minimum": 0, "maximum": u32::MAX },
                { "type": "string", "pattern": "^([uU][nN][lL][iI][mM][iI][tT][eE][dD]|[0-9]+)$" },
            ],
        })
    }
}

/// A restart policy or restart budget that could not be parsed; the message names the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseRestartError(String);

/// When and how a managed process is restarted.
///
/// The default never restarts. The builders start from the defaults: no limit, a 100 ms first
/// delay doubling up to 30 s, and back to 100 ms after a run of 10 s or more.
///
/// A restarted process keeps its identity: one [`ProcessId`](crate::ProcessId), one output
/// ring, one event stream, one output file. Each run publishes its own `started` event (with
/// its new PID); each restart publishes `restarted` with its attempt number (1, 2, …, equal
/// to [`ProcessInfo::restarts`](crate::ProcessInfo::restarts)) just before that run's
/// `started`; `exited` is published once, after the last run, and
/// [`Process::wait`](crate::Process::wait) returns only then. Between two runs the process
/// shows status `pending`, no PID, and the exit code or signal of the run that ended.
///
/// # Rules
///
/// * A process we end — [`kill`](crate::Process::kill), shutdown, its timeout — is never
///   restarted, also when it is ended during the delay between two runs; its final status
///   is then `killed` with the reason, and the exit code or signal of its last run.
/// * [`RestartPolicy::OnFailure`] restarts after a non-zero exit code or a death by a signal
///   nobody here sent; [`RestartPolicy::Always`] after any end, success included.
/// * The delay before restart *n* is `delay × multiplierⁿ⁻¹`, capped at `max_delay` (or at
///   `delay` when that is longer). A run that lasted at least `reset_after` brings the delay
///   back to `delay`. A delay of [`FOREVER`](crate::FOREVER) (100 years) or more never ends:
///   the process waits, `pending`, until it is killed or shut down.
/// * [`MaxRestarts`] bounds the total number of restarts over the process's life; a long run
///   resets the delay, not the count. Once the budget is spent, the last run's outcome is
///   final: `on_failure` with `Limited(3)` runs a failing program exactly 4 times.
/// * The timeout, if any, counts from the first start and covers every run and delay.
/// * A run that cannot be started ends the process as `failed`, with the reason in `error`.
/// * Each run gets a fresh stdin pipe (with [`StdinMode::Piped`](crate::StdinMode::Piped));
///   input sent between runs fails, and [`close_stdin`](crate::Process::close_stdin) holds
///   for every later run.
/// * Nothing is restarted once the [`Service`](crate::Service) that started the process is
///   gone.
///
/// ```no_run
/// # async fn demo() -> Result<(), tend::Error> {
/// use std::time::Duration;
/// use tend::{MaxRestarts, Restart, Service, StartOptions};
///
/// let service = Service::new();
/// let worker = service.start(
///     StartOptions::new("worker").restart(
///         Restart::on_failure()
///             .max(MaxRestarts::Limited(5))
///             .delay(Duration::from_millis(500))
///             .max_delay(Duration::from_secs(10)),
///     ),
/// )?;
/// let info = worker.wait().await; // after the last run
/// println!("restarted {} times, finally {}", info.restarts, info.status);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Restart {
    // Set by the builders below, which say what each means (a builder only, like
    // `StartOptions`).
    pub(crate) policy: RestartPolicy,
    pub(crate) max: MaxRestarts,
    pub(crate) delay: Duration,
    pub(crate) multiplier: f64,
    pub(crate) max_delay: Duration,
    pub(crate) reset_after: Option<Duration>,
}

impl Default for Restart {
    fn default() -> Self {
        Self::new(RestartPolicy::Never)
    }
}

impl Restart {
    /// The given policy with the default limits and delays.
    pub fn new(policy: RestartPolicy) -> Self {
        Self {
            policy,
            max: MaxRestarts::Unlimited,
            delay: DEFAULT_RESTART_DELAY,
            multiplier: DEFAULT_RESTART_MULTIPLIER,
            max_delay: DEFAULT_MAX_RESTART_DELAY,
            reset_after: Some(DEFAULT_RESTART_RESET_AFTER),
        }
    }

    /// Never restart (the default).
    pub fn never() -> Self {
        Self::new(RestartPolicy::Never)
    }

    /// Restart after failures.
    pub fn on_failure() -> Self {
        Self::new(RestartPolicy::OnFailure)
    }

    /// Restart after every end.
    pub fn always() -> Self {
        Self::new(RestartPolicy::Always)
    }

    /// Sets how many restarts there may be at most, in total (unlimited by default).
    pub fn max(mut self, max: MaxRestarts) -> Self {
        self.max = max;
        self
    }

    /// Sets the delay before the first restart, and after a run of at least
    /// [`reset_after`](Self::reset_after) ([`DEFAULT_RESTART_DELAY`] by default).
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Sets the factor the delay grows by after each restart
    /// ([`DEFAULT_RESTART_MULTIPLIER`] by default); values below 1, or not a number, count as
    /// 1 (a constant delay).
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = multiplier;
        self
    }

    /// Sets the longest delay ([`DEFAULT_MAX_RESTART_DELAY`] by default); never shorter than
    /// [`delay`](Self::delay), which is kept when it is longer.
    pub fn max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// When it restarts.
    pub fn policy(&self) -> RestartPolicy {
        self.policy
    }

    /// How many restarts it allows in total.
    pub fn max_restarts(&self) -> MaxRestarts {
        self.max
    }

    /// Sets how long a run must last to reset the delay to [`delay`](Self::delay) (not the
    /// restart count); `None` never resets it ([`DEFAULT_RESTART_RESET_AFTER`] by default).
    pub fn reset_after(mut self, reset_after: Option<Duration>) -> Self {
        self.reset_after = reset_after;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_and_json() {
        assert_eq!("ALWAYS".parse::<RestartPolicy>().unwrap(), RestartPolicy::Always);
        assert_eq!("on_failure".parse::<RestartPolicy>().unwrap(), RestartPolicy::OnFailure);
        let err = "maybe".parse::<RestartPolicy>().unwrap_err().to_string();
        assert!(err.contains("`maybe`"), "{err}");
        assert_eq!(serde_json::to_string(&RestartPolicy::OnFailure).unwrap(), "\"on_failure\"");
        assert_eq!(RestartPolicy::OnFailure.to_string(), "on_failure");

        assert_eq!("0".parse::<MaxRestarts>().unwrap(), MaxRestarts::Limited(0));
        assert!("".parse::<MaxRestarts>().is_err());
        for (value, json) in
            [(MaxRestarts::Limited(3), "3"), (MaxRestarts::Unlimited, "\"unlimited\"")]
        {
            assert_eq!(serde_json::to_string(&value).unwrap(), json);
            assert_eq!(serde_json::from_str::<MaxRestarts>(json).unwrap(), value);
        }
        assert!(serde_json::from_str::<MaxRestarts>("\"lots\"").is_err());
        assert!(serde_json::from_str::<MaxRestarts>("-1").is_err());
    }
}
