//! [`StartRequest`]: what `process.start` and `process.run` take, and how it becomes what to
//! start ([`Launch`]).

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use super::duration::{DurationText, Millis, keys, twin};
use super::error::Invalid;
use crate::process::{check_env_name, check_no_nul};
use crate::script::Script;
use crate::{MaxRestarts, Restart, RestartPolicy};
use crate::{StartOptions, StdinMode};

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
    /// Read stdout and stderr through one pipe, so its output keeps the exact order the
    /// program wrote in; every line then counts as stdout (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_stderr: Option<bool>,
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
                start.merge_stderr = self.merge_stderr.unwrap_or(false);
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
                script.options.dir = self.dir.map(Into::into);
                script.options.name = self.name;
                script.options.labels = labels;
                script.options.timeout = timeout;
                script.options.grace = grace.unwrap_or(script.options.grace);
                script.options.capture = self.capture.unwrap_or(script.options.capture);
                script.options.merge_stderr = self.merge_stderr.unwrap_or(false);
                script.options.restart = restart;
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

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
}
