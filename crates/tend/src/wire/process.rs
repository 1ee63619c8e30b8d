//! Requests and answers of the process actions (`process.*`) and the `/processes` routes.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use super::duration::{DurationText, Millis, keys, twin};
use super::error::Invalid;
use crate::process::{MaxRestarts, Restart, RestartPolicy, check_env_name, check_no_nul};
use crate::script::Script;
use crate::{ProcessInfo, Signal, StartOptions, Status, StdinMode, Stream};

/// What `process.start` and `process.run` take (`POST /processes`, `POST /processes/run`): a
/// program with arguments (`command`, `args`) **or** a bash script (`run`, started in file
/// mode as by [`Script`]), and how to run it. Every field is optional on the wire; `null`
/// reads as absent.
///
/// ```
/// use tend::wire::{Launch, StartRequest};
///
/// let request = StartRequest { run: Some("echo hi".into()), ..StartRequest::default() };
/// assert!(matches!(request.launch().unwrap(), Launch::Script(_)));
/// let neither = StartRequest::default().launch().unwrap_err();
/// assert_eq!(neither.key, "command");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// The program: a name looked up on `PATH`, or a path. Not with `run`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The program's arguments, passed as they are. Only with `command`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// A bash script to run instead of `command`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// Working directory; the supervisor's own when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// Variables added to (or overriding) the inherited environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
    /// A name, usable wherever an id is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Labels, for `process.list`'s `label` filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// End it gracefully after this long (zero: no timeout). Or `timeout_ms`.
    #[serde(default, deserialize_with = "keys::timeout", skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationText>,
    /// `timeout` in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<Millis>,
    /// Time between SIGTERM and SIGKILL when it is stopped (default 5 s). Or `grace_ms`.
    #[serde(default, deserialize_with = "keys::grace", skip_serializing_if = "Option::is_none")]
    pub grace: Option<DurationText>,
    /// `grace` in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_ms: Option<Millis>,
    /// Keep its output for `process.output` (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<bool>,
    /// Let it outlive the supervisor (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detach: Option<bool>,
    /// Its standard input: `null` (default) or `piped` (fed by `process.input`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdin: Option<StdinChoice>,
    /// When to restart it: `never` (default), `on_failure` (also `on-failure`), `always`.
    #[serde(default, deserialize_with = "parsed", skip_serializing_if = "Option::is_none")]
    pub restart: Option<RestartPolicy>,
    /// At most this many restarts: a number, or `"unlimited"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_restarts: Option<MaxRestarts>,
    /// The first pause before a restart (it backs off from there). Or `restart_delay_ms`.
    #[serde(
        default,
        deserialize_with = "keys::restart_delay",
        skip_serializing_if = "Option::is_none"
    )]
    pub restart_delay: Option<DurationText>,
    /// `restart_delay` in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_delay_ms: Option<Millis>,
}

/// What `process.run` takes: the same as [`StartRequest`].
pub type RunRequest = StartRequest;

/// Where a started process's standard input comes from, as a request says it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum StdinChoice {
    /// `/dev/null`.
    #[default]
    Null,
    /// A pipe fed by `process.input` and closed by `process.close_stdin`.
    Piped,
}

impl From<StdinChoice> for StdinMode {
    fn from(choice: StdinChoice) -> Self {
        match choice {
            StdinChoice::Null => StdinMode::Null,
            StdinChoice::Piped => StdinMode::Piped,
        }
    }
}

/// What a [`StartRequest`] starts: checked, ready for [`Service::start`](crate::Service::start)
/// or [`Script::start`].
#[derive(Debug)]
pub enum Launch {
    /// A program, run directly.
    Command(StartOptions),
    /// A bash script, in file mode.
    Script(Script),
}

impl StartRequest {
    /// Checks the request and turns it into what to start: every refusal names its key, in
    /// the library's own words (`check_env_name`, `check_no_nul`, [`StartOptions::check`]).
    pub fn launch(self) -> Result<Launch, Invalid> {
        let env = self.env.unwrap_or_default();
        for (name, value) in &env {
            check_env_name(name)
                .and_then(|()| check_no_nul(value))
                .map_err(|message| Invalid::new("env", message))?;
        }
        let timeout = twin("timeout", self.timeout, self.timeout_ms)?;
        let grace = twin("grace", self.grace, self.grace_ms)?;
        let mut restart = Restart::new(self.restart.unwrap_or_default());
        if let Some(max) = self.max_restarts {
            restart = restart.max(max);
        }
        if let Some(delay) = twin("restart_delay", self.restart_delay, self.restart_delay_ms)? {
            restart = restart.delay(delay);
        }
        let stdin = StdinMode::from(self.stdin.unwrap_or_default());
        let labels = self.labels.unwrap_or_default();
        let detach = self.detach.unwrap_or(false);
        match (self.command, self.run) {
            (Some(_), Some(_)) => {
                Err(Invalid::new("run", "give either `command` or `run`, not both"))
            }
            (None, None) => Err(Invalid::new(
                "command",
                "missing: give `command` (with `args`) or `run` (a bash script)",
            )),
            (Some(command), None) => {
                if command.is_empty() {
                    return Err(Invalid::new("command", "must not be empty"));
                }
                let mut start = StartOptions::new(command).args(self.args.unwrap_or_default());
                start.dir = self.dir.map(Into::into);
                start.env = env.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
                start.stdin = stdin;
                start.name = self.name;
                start.labels = labels;
                start.timeout = timeout;
                start.grace = grace.unwrap_or(start.grace);
                start.capture = self.capture.unwrap_or(start.capture);
                start.detach = detach;
                start.restart = restart;
                start.check().map_err(|error| match error {
                    crate::Error::InvalidOption { option, message } => {
                        Invalid::new(option, message)
                    }
                    other => Invalid::new("options", other.to_string()),
                })?;
                Ok(Launch::Command(start))
            }
            (None, Some(text)) => {
                if self.args.is_some() {
                    return Err(Invalid::new(
                        "args",
                        "`args` go with `command`; a `run` script takes none",
                    ));
                }
                check_no_nul(&text).map_err(|message| Invalid::new("run", message))?;
                if let Some(dir) = &self.dir {
                    check_no_nul(dir).map_err(|message| Invalid::new("dir", message))?;
                }
                let mut script = Script::new(text).envs(env).stdin(stdin).detach(detach);
                script.dir = self.dir.map(Into::into);
                script.name = self.name;
                script.labels = labels;
                script.timeout = timeout;
                script.grace = grace.unwrap_or(script.grace);
                script.capture = self.capture.unwrap_or(script.capture);
                script.restart = restart;
                Ok(Launch::Script(script))
            }
        }
    }
}

/// Reads an optional value through its [`FromStr`] (so `"on-failure"` is a restart policy).
fn parsed<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: std::fmt::Display,
{
    Option::<String>::deserialize(deserializer)?
        .map(|text| text.parse().map_err(serde::de::Error::custom))
        .transpose()
}

/// A request naming one managed process: `process.get`, `kill`, `output`, `close_stdin`,
/// `remove`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct IdRequest {
    /// A full process id, a unique id prefix of 4 or more characters, or a name.
    pub id: String,
}

/// `process.stop` (`POST /processes/{id}/stop`): SIGTERM to the group, the grace, SIGKILL.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StopRequest {
    /// Which process (from the path in the API).
    pub id: String,
    /// Time between SIGTERM and SIGKILL (default 5 s). Or `grace_ms`.
    #[serde(default, deserialize_with = "keys::grace", skip_serializing_if = "Option::is_none")]
    pub grace: Option<DurationText>,
    /// `grace` in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_ms: Option<Millis>,
}

impl StopRequest {
    /// The grace asked for, if any.
    pub fn grace(&self) -> Result<Option<Duration>, Invalid> {
        twin("grace", self.grace, self.grace_ms)
    }
}

/// `process.signal` (`POST /processes/{id}/signal`): a signal to the process's leader.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SignalRequest {
    /// Which process (from the path in the API).
    pub id: String,
    /// A name (`"TERM"`, `"SIGHUP"`, any case) or a number. Required; checked after the
    /// process is found, so an unknown id is `not_found` first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<Signal>,
}

impl SignalRequest {
    /// The signal, which must be there.
    pub fn signal(&self) -> Result<Signal, Invalid> {
        self.signal.ok_or_else(|| Invalid::new("signal", "missing"))
    }
}

/// `process.input` (`POST /processes/{id}/input`): bytes for a piped standard input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct InputRequest {
    /// Which process (from the path in the API).
    pub id: String,
    /// The text to write, as it is (add `\n` to end a line). Required; checked after the
    /// process is found, so an unknown id is `not_found` first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

impl InputRequest {
    /// The text, which must be there.
    pub fn data(&self) -> Result<&str, Invalid> {
        self.data.as_deref().ok_or_else(|| Invalid::new("data", "missing"))
    }
}

/// `process.wait` (`POST /processes/{id}/wait?timeout=`): the info once it ended, or when the
/// timeout came first (then still `running`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct WaitRequest {
    /// Which process (from the path in the API).
    pub id: String,
    /// Wait at most this long (absent: until it ends). Or `timeout_ms`.
    #[serde(default, deserialize_with = "keys::timeout", skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationText>,
    /// `timeout` in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<Millis>,
}

impl WaitRequest {
    /// The timeout asked for, if any.
    pub fn timeout(&self) -> Result<Option<Duration>, Invalid> {
        twin("timeout", self.timeout, self.timeout_ms)
    }
}

/// `process.list` (`GET /processes?status=&label=`): both filters optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only processes in this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Only processes with this label, as `key=value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl ListQuery {
    /// Whether `info` passes the filters; a `label` without `=` is refused.
    ///
    /// ```
    /// use tend::wire::ListQuery;
    /// let query = ListQuery { label: Some("no-equals".into()), ..ListQuery::default() };
    /// assert_eq!(query.filter().err().unwrap().key, "label");
    /// ```
    pub fn filter(&self) -> Result<impl Fn(&ProcessInfo) -> bool + '_, Invalid> {
        let label = match &self.label {
            None => None,
            Some(text) => match text.split_once('=') {
                Some(pair) => Some(pair),
                None => return Err(Invalid::new("label", format!("`{text}` is not key=value"))),
            },
        };
        Ok(move |info: &ProcessInfo| {
            self.status.is_none_or(|status| info.status == status)
                && label.is_none_or(|(k, v)| info.labels.get(k).map(String::as_str) == Some(v))
        })
    }
}

/// `process.lines` (`GET /processes/{id}/output?since=&limit=`): a page of output lines from
/// the server's event log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LinesQuery {
    /// Which process.
    pub id: String,
    /// The first sequence number wanted (default 0: the oldest held).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<u64>,
    /// At most this many lines (clamped to 1..=10 000; default 10 000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// The answer of `process.run`: the final info and the captured output (lossy UTF-8). A
/// non-zero exit is not an error: `info` says how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RunAnswer {
    /// How it ended.
    pub info: ProcessInfo,
    /// Both streams, in the order written.
    pub output: String,
}

/// The answer of `process.output`: the captured output (lossy UTF-8).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OutputAnswer {
    /// Both streams, in the order written.
    pub output: String,
    /// Standard output only.
    pub stdout: String,
    /// Standard error only.
    pub stderr: String,
    /// Bytes the capture ring dropped (it keeps the newest).
    pub dropped_bytes: u64,
}

/// One output line of [`LinesAnswer`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OutputLine {
    /// The event log's sequence number.
    pub seq: u64,
    /// Which stream.
    pub stream: Stream,
    /// The line, without its newline (lossy UTF-8).
    pub line: String,
    /// `true` when the line was cut (too long, or the stream ended without a newline).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

/// The answer of `process.lines` (`GET /processes/{id}/output`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LinesAnswer {
    /// The lines, oldest first.
    pub lines: Vec<OutputLine>,
    /// Ask from here for the next page.
    pub next_seq: u64,
    /// Lines of this process the log evicted before they were read.
    pub dropped: u64,
}

/// An empty answer, `{}` (`process.input`, `process.close_stdin`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::wire::decode;

    fn key_of(value: Value) -> String {
        match decode::<StartRequest>(value.clone()) {
            Ok(request) => request.launch().map(|_| ()).unwrap_err().key,
            Err(error) => error.key,
        }
    }

    #[test]
    fn a_full_start_request_round_trips() {
        let json = json!({
            "command": "sleep", "args": ["1"], "dir": "/", "env": {"A": "1"}, "name": "nap",
            "labels": {"k": "v"}, "timeout": "5s", "grace_ms": 250.0, "capture": false,
            "detach": true, "stdin": "piped", "restart": "on_failure", "max_restarts": 3,
            "restart_delay": "100ms",
        });
        let request: StartRequest = decode(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&request).unwrap(), json);
        let Launch::Command(start) = request.launch().unwrap() else { panic!("a command") };
        assert_eq!(start.timeout, Some(Duration::from_secs(5)));
        assert_eq!(start.grace, Duration::from_millis(250));
        assert_eq!(start.stdin, StdinMode::Piped);
    }

    #[test]
    fn errors_name_the_top_level_key() {
        for (value, key) in [
            (json!({"command": "x", "bogus": 1}), "bogus"),
            (json!({"command": "x", "args": ["a", 1]}), "args"),
            (json!({"command": "x", "env": {"A": 1}}), "env"),
            (json!({"command": "x", "env": {"A=B": "c"}}), "env"),
            (json!({"command": "x", "labels": {"a": true}}), "labels"),
            (json!({"command": "x", "stdin": "inherit"}), "stdin"),
            (json!({"command": "x", "restart": "sometimes"}), "restart"),
            (json!({"command": "x", "max_restarts": -1}), "max_restarts"),
            (json!({"command": "x", "timeout": "1s", "timeout_ms": 5}), "timeout_ms"),
            (json!({"command": "x", "run": "y"}), "run"),
            (json!({"run": "y", "args": []}), "args"),
            (json!({"command": ""}), "command"),
            (json!({}), "command"),
            (json!("echo"), "options"),
        ] {
            assert_eq!(key_of(value.clone()), key, "{value}");
        }
        let unknown = decode::<StartRequest>(json!({"command": "x", "bogus": 1})).unwrap_err();
        assert!(unknown.message.contains("unknown key `bogus`"), "{unknown}");
        assert!(unknown.message.contains("timeout_ms"), "lists the keys: {unknown}");
    }

    #[test]
    fn null_is_absent_and_on_dash_failure_is_a_policy() {
        let request: StartRequest =
            decode(json!({"command": "x", "env": null, "restart": "on-failure"})).unwrap();
        assert_eq!(request.env, None);
        assert_eq!(request.restart, Some(RestartPolicy::OnFailure));
        assert_eq!(decode::<StartRequest>(Value::Null).unwrap(), StartRequest::default());
    }

    #[test]
    fn the_other_requests_name_their_keys() {
        let bare: SignalRequest = decode(json!({"id": "x"})).unwrap();
        assert_eq!(bare.signal().unwrap_err().key, "signal");
        let nope = decode::<SignalRequest>(json!({"id": "x", "signal": "SIGNOPE"})).unwrap_err();
        assert!(nope.message.contains("SIGNOPE") && nope.key == "signal", "{nope}");
        assert_eq!(
            decode::<InputRequest>(json!({"id": "x", "data": [1]})).unwrap_err().key,
            "data"
        );
        assert_eq!(
            decode::<WaitRequest>(json!({"id": "x", "timeout": 1})).unwrap_err().key,
            "timeout"
        );
        assert_eq!(decode::<ListQuery>(json!({"status": "zombie"})).unwrap_err().key, "status");
        assert_eq!(decode::<ListQuery>(json!({"owner": "me"})).unwrap_err().key, "owner");
        let stop: StopRequest = decode(json!({"id": "x", "grace_ms": 5})).unwrap();
        assert_eq!(stop.grace().unwrap(), Some(Duration::from_millis(5)));
    }

    #[test]
    fn answers_round_trip() {
        let lines = LinesAnswer {
            lines: vec![
                OutputLine { seq: 3, stream: Stream::Stdout, line: "a".into(), partial: false },
                OutputLine { seq: 4, stream: Stream::Stderr, line: "b".into(), partial: true },
            ],
            next_seq: 5,
            dropped: 1,
        };
        let json = serde_json::to_value(&lines).unwrap();
        assert_eq!(json["lines"][0], json!({"seq": 3, "stream": "stdout", "line": "a"}));
        assert_eq!(json["lines"][1]["partial"], true);
        assert_eq!(serde_json::from_value::<LinesAnswer>(json).unwrap(), lines);
        assert_eq!(serde_json::to_value(Empty {}).unwrap(), json!({}));
    }
}
