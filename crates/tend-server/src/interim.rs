//! A stand-in for `tend::actions` until that module lands on main.
//!
//! It follows the contract the REST routes are written against (`Actions`, `ActionError`,
//! `register_process_actions`) closely enough that swapping it for the library's module is a
//! one-line change in `lib.rs` (`use tend::actions as actions;`) and deleting this file.
//! Only what the server needs is here; the library's version is the reference.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::{Map, Value, json};
use tend::{Error, ProcessInfo, Service, Signal, StartOptions, Status, StdinMode};

/// What a named action answers.
pub type ActionResult = Result<Value, ActionError>;

type Handler = Arc<
    dyn Fn(Value) -> Pin<Box<dyn Future<Output = ActionResult> + Send>> + Send + Sync + 'static,
>;

/// A registry of named actions (cheap to clone; every clone is the same registry).
#[derive(Clone, Default)]
pub struct Actions {
    handlers: Arc<RwLock<BTreeMap<String, Handler>>>,
}

impl std::fmt::Debug for Actions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Actions").field("names", &self.names()).finish()
    }
}

impl Actions {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers (or replaces) the handler for `name`.
    pub fn register<F, Fut>(&self, name: &str, handler: F)
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ActionResult> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |options| Box::pin(handler(options)));
        self.handlers.write().unwrap_or_else(|e| e.into_inner()).insert(name.to_owned(), handler);
    }

    /// Whether `name` has a handler.
    pub fn is_registered(&self, name: &str) -> bool {
        self.handlers.read().unwrap_or_else(|e| e.into_inner()).contains_key(name)
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.handlers.read().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect()
    }

    /// Runs the handler for `name` with `options`.
    pub async fn dispatch(&self, name: &str, options: Value) -> ActionResult {
        let handler = self.handlers.read().unwrap_or_else(|e| e.into_inner()).get(name).cloned();
        match handler {
            Some(handler) => handler(options).await,
            None => Err(ActionError::NotRegistered { name: name.to_owned() }),
        }
    }
}

/// Why an action failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ActionError {
    /// No handler under that name.
    #[error("action `{name}` is not registered")]
    NotRegistered {
        /// The name asked for.
        name: String,
    },
    /// An option is missing, unknown or malformed.
    #[error("invalid option `{option}`: {message}")]
    InvalidOption {
        /// The option key.
        option: String,
        /// What is wrong.
        message: String,
    },
    /// No process matches.
    #[error("no process `{id}`")]
    NotFound {
        /// The id asked for.
        id: String,
    },
    /// The process is in the wrong state for the operation.
    #[error("{message}")]
    WrongState {
        /// What is wrong.
        message: String,
    },
    /// A limit was reached.
    #[error("{message}")]
    LimitReached {
        /// Which limit.
        message: String,
    },
    /// The operation failed.
    #[error("{message}")]
    Failed {
        /// Why.
        message: String,
    },
}

impl ActionError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ActionError::NotRegistered { .. } => "not_registered",
            ActionError::InvalidOption { .. } => "invalid_option",
            ActionError::NotFound { .. } => "not_found",
            ActionError::WrongState { .. } => "wrong_state",
            ActionError::LimitReached { .. } => "limit_reached",
            ActionError::Failed { .. } => "failed",
        }
    }
}

fn invalid(option: &str, message: impl Into<String>) -> ActionError {
    ActionError::InvalidOption { option: option.to_owned(), message: message.into() }
}

impl From<Error> for ActionError {
    fn from(error: Error) -> Self {
        let message = error.to_string();
        match error {
            Error::NotFound(id) => ActionError::NotFound { id },
            Error::Ambiguous(_) => invalid("id", message),
            Error::InvalidOption { option, .. } => invalid(option, message),
            Error::StillRunning(_) | Error::NotRunning(_) | Error::StdinClosed(_) => {
                ActionError::WrongState { message }
            }
            _ => ActionError::Failed { message },
        }
    }
}

/// The option bag of one call, checked for unknown keys.
struct Options(Map<String, Value>);

impl Options {
    fn parse(value: Value, allowed: &[&str]) -> Result<Self, ActionError> {
        let map = match value {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            _ => return Err(invalid("options", "must be a JSON object")),
        };
        if let Some(key) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(invalid(key, "unknown option"));
        }
        Ok(Self(map))
    }

    fn string(&self, key: &str) -> Result<Option<String>, ActionError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(invalid(key, "must be a string")),
        }
    }

    fn required(&self, key: &str) -> Result<String, ActionError> {
        self.string(key)?.ok_or_else(|| invalid(key, "is required"))
    }

    fn bool(&self, key: &str) -> Result<Option<bool>, ActionError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(invalid(key, "must be true or false")),
        }
    }

    fn strings(&self, key: &str) -> Result<Vec<String>, ActionError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_owned).ok_or_else(|| invalid(key, "must be strings"))
                })
                .collect(),
            Some(_) => Err(invalid(key, "must be an array of strings")),
        }
    }

    fn map(&self, key: &str) -> Result<BTreeMap<String, String>, ActionError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(BTreeMap::new()),
            Some(Value::Object(items)) => items
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err(invalid(key, format!("value of `{k}` must be a string"))),
                })
                .collect(),
            Some(_) => Err(invalid(key, "must be an object of strings")),
        }
    }

    /// `key` as a humantime string, or `key_ms` as a number of milliseconds.
    fn duration(&self, key: &str) -> Result<Option<Duration>, ActionError> {
        let ms_key = format!("{key}_ms");
        match (self.0.get(key), self.0.get(&ms_key)) {
            (Some(Value::String(text)), None) => humantime::parse_duration(text)
                .map(Some)
                .map_err(|e| invalid(key, format!("`{text}` is not a duration like 2s ({e})"))),
            (Some(Value::Null) | None, Some(Value::Number(n))) => match n.as_f64() {
                Some(ms) if ms >= 0.0 && ms.is_finite() && ms < 1e15 => {
                    Ok(Some(Duration::from_secs_f64(ms / 1000.0)))
                }
                _ => Err(invalid(&ms_key, "must be a non-negative number of milliseconds")),
            },
            (Some(Value::Null) | None, None | Some(Value::Null)) => Ok(None),
            (Some(Value::Number(_)), _) => Err(invalid(
                key,
                format!("use a duration string such as \"2s\", or `{ms_key}` in milliseconds"),
            )),
            (Some(_), None) => Err(invalid(key, "must be a duration string such as \"2s\"")),
            (_, Some(Value::Null | Value::Number(_))) => {
                Err(invalid(key, format!("give `{key}` or `{ms_key}`, not both")))
            }
            (_, Some(_)) => Err(invalid(&ms_key, "must be a number of milliseconds")),
        }
    }
}

const START_KEYS: &[&str] = &[
    "command",
    "args",
    "run",
    "dir",
    "env",
    "name",
    "labels",
    "timeout",
    "timeout_ms",
    "grace",
    "grace_ms",
    "capture",
    "detach",
    "stdin",
    "restart",
];

fn start_options(options: &Options) -> Result<StartOptions, ActionError> {
    let mut start = match (options.string("command")?, options.string("run")?) {
        (Some(command), None) => {
            if command.is_empty() {
                return Err(invalid("command", "must not be empty"));
            }
            StartOptions::new(command).args(options.strings("args")?)
        }
        (None, Some(script)) => {
            if options.0.contains_key("args") {
                return Err(invalid("args", "goes with `command`, not with `run`"));
            }
            StartOptions::new("bash").args(["-c".to_owned(), script])
        }
        (Some(_), Some(_)) => return Err(invalid("run", "give `command` or `run`, not both")),
        (None, None) => return Err(invalid("command", "is required (or `run`)")),
    };
    if let Some(dir) = options.string("dir")? {
        start = start.dir(dir);
    }
    for (key, value) in options.map("env")? {
        start = start.env(key, value);
    }
    if let Some(name) = options.string("name")? {
        start = start.name(name);
    }
    start.labels = options.map("labels")?;
    if let Some(timeout) = options.duration("timeout")? {
        start = start.timeout(timeout);
    }
    if let Some(grace) = options.duration("grace")? {
        start = start.grace(grace);
    }
    if let Some(capture) = options.bool("capture")? {
        start = start.capture(capture);
    }
    if let Some(detach) = options.bool("detach")? {
        start = start.detach(detach);
    }
    match options.string("stdin")?.as_deref() {
        None | Some("null") => {}
        Some("piped") => start = start.stdin(StdinMode::Piped),
        Some(other) => return Err(invalid("stdin", format!("`{other}` is not null or piped"))),
    }
    match options.string("restart")?.as_deref() {
        None | Some("never") => {}
        Some(other) => {
            return Err(invalid("restart", format!("`{other}`: only `never` is supported yet")));
        }
    }
    Ok(start)
}

fn info_json(info: &ProcessInfo) -> Value {
    serde_json::to_value(info).unwrap_or(Value::Null)
}

fn find(service: &Service, options: &Options) -> Result<tend::Process, ActionError> {
    Ok(service.get(&options.required("id")?)?)
}

/// Registers the `process.*` actions on `actions`, all acting on `service`.
pub fn register_process_actions(actions: &Actions, service: Service) {
    let s = service.clone();
    actions.register("process.start", move |o| {
        let s = s.clone();
        async move {
            let options = Options::parse(o, START_KEYS)?;
            let process = s.start(start_options(&options)?)?;
            Ok(info_json(&process.info()))
        }
    });
    let s = service.clone();
    actions.register("process.run", move |o| {
        let s = s.clone();
        async move {
            let options = Options::parse(o, START_KEYS)?;
            let process = s.start(start_options(&options)?)?;
            let info = process.wait().await;
            let output = process.output().to_string_lossy();
            Ok(json!({ "info": info_json(&info), "output": output }))
        }
    });
    let s = service.clone();
    actions.register("process.list", move |o| {
        let s = s.clone();
        async move {
            let options = Options::parse(o, &["status", "label"])?;
            let status = options.string("status")?;
            if let Some(status) = &status
                && serde_json::from_value::<Status>(Value::String(status.clone())).is_err()
            {
                return Err(invalid("status", format!("`{status}` is not a status")));
            }
            let label = match options.string("label")? {
                Some(label) => Some(
                    label
                        .split_once('=')
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .ok_or_else(|| invalid("label", "must be key=value"))?,
                ),
                None => None,
            };
            let list: Vec<Value> = s
                .list()
                .iter()
                .filter(|i| status.as_deref().is_none_or(|st| i.status.to_string() == st))
                .filter(|i| label.as_ref().is_none_or(|(k, v)| i.labels.get(k) == Some(v)))
                .map(info_json)
                .collect();
            Ok(Value::Array(list))
        }
    });
    let s = service.clone();
    actions.register("process.get", move |o| {
        let s = s.clone();
        async move { Ok(info_json(&find(&s, &Options::parse(o, &["id"])?)?.info())) }
    });
    let s = service.clone();
    actions.register("process.kill", move |o| {
        let s = s.clone();
        async move {
            let process = find(&s, &Options::parse(o, &["id"])?)?;
            process.kill()?;
            Ok(info_json(&process.info()))
        }
    });
    let s = service.clone();
    actions.register("process.signal", move |o| {
        let s = s.clone();
        async move {
            let options = Options::parse(o, &["id", "signal"])?;
            let signal = match options.0.get("signal") {
                Some(Value::String(name)) => name.parse::<Signal>().ok(),
                Some(Value::Number(n)) => {
                    n.as_i64().and_then(|n| i32::try_from(n).ok()).and_then(Signal::from_number)
                }
                _ => return Err(invalid("signal", "is required: a name or a number")),
            }
            .ok_or_else(|| invalid("signal", "is not a known signal"))?;
            let process = find(&s, &options)?;
            process.signal(signal)?;
            Ok(info_json(&process.info()))
        }
    });
    let s = service.clone();
    actions.register("process.wait", move |o| {
        let s = s.clone();
        async move {
            let options = Options::parse(o, &["id", "timeout", "timeout_ms"])?;
            let process = find(&s, &options)?;
            let info = match options.duration("timeout")? {
                Some(limit) => match tokio::time::timeout(limit, process.wait()).await {
                    Ok(info) => info,
                    Err(_) => process.info(),
                },
                None => process.wait().await,
            };
            Ok(info_json(&info))
        }
    });
    let s = service.clone();
    actions.register("process.output", move |o| {
        let s = s.clone();
        async move {
            let output = find(&s, &Options::parse(o, &["id"])?)?.output();
            Ok(json!({
                "output": output.to_string_lossy(),
                "stdout": String::from_utf8_lossy(&output.stdout()),
                "stderr": String::from_utf8_lossy(&output.stderr()),
                "dropped_bytes": output.dropped_bytes(),
            }))
        }
    });
    let s = service.clone();
    actions.register("process.input", move |o| {
        let s = s.clone();
        async move {
            let options = Options::parse(o, &["id", "data"])?;
            let data = options.required("data")?;
            find(&s, &options)?.send_input(data.as_bytes()).await?;
            Ok(json!({}))
        }
    });
    let s = service.clone();
    actions.register("process.close_stdin", move |o| {
        let s = s.clone();
        async move {
            find(&s, &Options::parse(o, &["id"])?)?.close_stdin().await?;
            Ok(json!({}))
        }
    });
    let s = service;
    actions.register("process.remove", move |o| {
        let s = s.clone();
        async move {
            let options = Options::parse(o, &["id"])?;
            Ok(info_json(&s.remove(&options.required("id")?)?))
        }
    });
}
