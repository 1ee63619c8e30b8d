//! [`Actions`]: the registry of named handlers, and the [`ActionError`] they fail with.

use std::any::Any;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::wire::{self, ErrorCode, Invalid};

/// What every action returns: a JSON value, or a typed error.
pub type ActionResult = Result<Value, ActionError>;

type BoxedFuture = Pin<Box<dyn Future<Output = ActionResult> + Send>>;
type Handler = Arc<dyn Fn(Value) -> BoxedFuture + Send + Sync>;

/// A [`register_typed`](Actions::register_typed) handler as its own types, which
/// [`call_typed`](Actions::call_typed) runs without going through JSON.
type TypedHandler<Req, Resp> = Arc<
    dyn Fn(Req) -> Pin<Box<dyn Future<Output = Result<Resp, ActionError>> + Send>> + Send + Sync,
>;

/// What is registered under a name: the JSON handler every caller can reach, and, for a typed
/// registration, the same handler as a [`TypedHandler`] (behind `Any`: its types vary).
#[derive(Clone)]
struct Entry {
    json: Handler,
    typed: Option<Arc<dyn Any + Send + Sync>>,
}

/// Named async handlers that take and return JSON.
///
/// Cheap to clone; every clone is the same registry. A name that no service registered
/// cannot be dispatched: what a host may do is exactly what it registered ("permission by
/// registration").
///
/// ```no_run
/// # async fn demo() -> Result<(), tend::actions::ActionError> {
/// use tend::actions::json;
/// use tend::Service;
/// use tend::actions::{Actions, register_process_actions};
///
/// let actions = Actions::new();
/// actions.register("echo", |options| async move { Ok(options) });
/// register_process_actions(&actions, Service::new());
///
/// assert_eq!(actions.dispatch("echo", json!({"a": 1})).await?, json!({"a": 1}));
/// let info = actions.dispatch("process.start", json!({"command": "sleep", "args": ["5"]})).await?;
/// actions.dispatch("process.kill", json!({"id": info["id"]})).await?;
/// assert!(actions.dispatch("shell.exec", json!({})).await.is_err());
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct Actions {
    handlers: Arc<RwLock<BTreeMap<String, Entry>>>,
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

    /// Registers `handler` under `name`, replacing any handler registered under it before.
    pub fn register<F, Fut>(&self, name: &str, handler: F)
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ActionResult> + Send + 'static,
    {
        let json: Handler = Arc::new(move |options| Box::pin(handler(options)));
        self.write().insert(name.to_owned(), Entry { json, typed: None });
    }

    /// Registers a typed `handler` under `name`: the JSON options are decoded into `Req`
    /// ([`wire::decode`]: `null` is `{}`, unknown keys are refused, an error names its key as
    /// [`InvalidOption`](ActionError::InvalidOption)) and its `Resp` is encoded back.
    ///
    /// ```
    /// # async fn demo() -> Result<(), tend::actions::ActionError> {
    /// use tend::actions::{Actions, json};
    /// use tend::wire::{Empty, IdRequest};
    ///
    /// let actions = Actions::new();
    /// actions.register_typed("greet", |request: IdRequest| async move {
    ///     Ok(format!("hello, {}", request.id))
    /// });
    /// assert_eq!(actions.dispatch("greet", json!({"id": "web"})).await?, json!("hello, web"));
    /// let error = actions.dispatch("greet", json!({"name": "web"})).await.unwrap_err();
    /// assert_eq!(error.code(), "invalid_request");
    /// # Ok(()) }
    /// ```
    pub fn register_typed<Req, Resp, F, Fut>(&self, name: &str, handler: F)
    where
        Req: DeserializeOwned + Send + 'static,
        Resp: Serialize + Send + 'static,
        F: Fn(Req) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Resp, ActionError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let typed: TypedHandler<Req, Resp> = {
            let handler = handler.clone();
            Arc::new(move |request| Box::pin(handler(request)))
        };
        let json: Handler = Arc::new(move |options| {
            let decoded = wire::decode::<Req>(options);
            let handler = handler.clone();
            Box::pin(async move {
                let answer = handler(decoded?).await?;
                encode(&answer)
            })
        });
        let entry = Entry { json, typed: Some(Arc::new(typed)) };
        self.write().insert(name.to_owned(), entry);
    }

    /// Dispatches `request` to `name` and decodes the answer: how an in-process caller (the
    /// server's routes) uses an action with the wire types.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tend::actions::ActionError> {
    /// use tend::actions::{Actions, register_process_actions};
    /// use tend::wire::{IdRequest, StartRequest};
    /// use tend::{ProcessInfo, Service};
    ///
    /// let actions = Actions::new();
    /// register_process_actions(&actions, Service::new());
    /// let start = StartRequest { command: Some("sleep".into()), args: Some(vec!["5".into()]), ..Default::default() };
    /// let info: ProcessInfo = actions.call("process.start", &start).await?;
    /// let request = IdRequest { id: info.id.to_string() };
    /// let killed: ProcessInfo = actions.call("process.kill", &request).await?;
    /// # Ok(()) }
    /// ```
    pub async fn call<Req, Resp>(&self, name: &str, request: &Req) -> Result<Resp, ActionError>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let answer = self.dispatch(name, encode(request)?).await?;
        serde_json::from_value(answer).map_err(|error| ActionError::Internal {
            message: format!("the answer of `{name}` is not what its caller expects: {error}"),
        })
    }

    /// Dispatches the JSON `options` to `name` and decodes the answer as `Resp`, as
    /// [`call`](Self::call) does, but without JSON on the way back when it can: when the
    /// handler of `name` was registered by [`register_typed`](Self::register_typed) for
    /// `Req` and `Resp`, `options` are decoded into `Req` here, exactly as that handler
    /// would ([`wire::decode`], same errors), and its answer comes back as it is, not as a
    /// JSON value to be decoded again (for `process.list` of 10,000 processes, a value per
    /// record). Any other handler gets `options` as they are, through JSON.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tend::actions::ActionError> {
    /// use tend::actions::{Actions, json, register_process_actions};
    /// use tend::wire::ListQuery;
    /// use tend::{ProcessInfo, Service};
    ///
    /// let actions = Actions::new();
    /// register_process_actions(&actions, Service::new());
    /// let all: Vec<ProcessInfo> =
    ///     actions.call_typed::<ListQuery, _>("process.list", json!({})).await?;
    /// # Ok(()) }
    /// ```
    pub async fn call_typed<Req, Resp>(
        &self,
        name: &str,
        options: Value,
    ) -> Result<Resp, ActionError>
    where
        Req: DeserializeOwned + Send + 'static,
        Resp: DeserializeOwned + Send + 'static,
    {
        let typed = self.read().get(name).and_then(|entry| entry.typed.clone());
        match typed.as_deref().and_then(|typed| typed.downcast_ref::<TypedHandler<Req, Resp>>()) {
            Some(handler) => handler(wire::decode(options)?).await,
            None => self.call(name, &options).await,
        }
    }

    /// Whether a handler is registered under `name`.
    pub fn is_registered(&self, name: &str) -> bool {
        self.read().contains_key(name)
    }

    /// Every registered name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }

    /// Runs the handler registered under `name` with `options`. Fails with
    /// [`ActionError::NotRegistered`] when there is none.
    pub async fn dispatch(&self, name: &str, options: Value) -> ActionResult {
        // The lock is let go of before the handler runs: handlers may take long, and may
        // dispatch or register actions themselves.
        let handler = self.read().get(name).map(|entry| entry.json.clone());
        match handler {
            Some(handler) => handler(options).await,
            None => Err(ActionError::NotRegistered { name: name.to_owned() }),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Entry>> {
        self.handlers.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Entry>> {
        self.handlers.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// Why an action failed. [`code`](Self::code) is the stable, machine-readable part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ActionError {
    /// No handler is registered under this name.
    #[error("action `{name}` is not registered")]
    NotRegistered {
        /// The name dispatched.
        name: String,
    },
    /// An option is missing, of the wrong type, unknown, or has a bad value (code
    /// `invalid_request`, as for any bad input).
    #[error("invalid option `{option}`: {message}")]
    InvalidOption {
        /// The option's key.
        option: String,
        /// What is wrong with it.
        message: String,
    },
    /// No managed process matches the id, prefix or name.
    #[error("no process `{id}`")]
    NotFound {
        /// The id, prefix or name given.
        id: String,
    },
    /// The process ended and its record was dropped from the bounded table.
    #[error("{message}")]
    Evicted {
        /// Which process, and why it is gone.
        message: String,
    },
    /// The process is not in a state that allows this: not running, still running, stdin
    /// closed.
    #[error("{message}")]
    WrongState {
        /// What is in the way.
        message: String,
    },
    /// A name matches more than one process; the message lists their ids.
    #[error("{message}")]
    Ambiguous {
        /// The name and the ids it matches.
        message: String,
    },
    /// The name asked for belongs to a process that has not finished.
    #[error("{message}")]
    NameTaken {
        /// The name and the process that has it.
        message: String,
    },
    /// A limit (such as the number of processes) was reached.
    #[error("{message}")]
    LimitReached {
        /// Which limit.
        message: String,
    },
    /// The operation itself failed, e.g. the program could not be started.
    #[error("{message}")]
    Failed {
        /// What went wrong.
        message: String,
    },
    /// Nothing of another kind than a process (a pipeline, a daemon) matches.
    #[error("no {what} `{id}`")]
    Unknown {
        /// What was looked for, e.g. `pipeline`.
        what: String,
        /// The id or name given.
        id: String,
    },
    /// The request as a whole is malformed, e.g. a pipeline that fails its checks.
    #[error("{message}")]
    InvalidRequest {
        /// What is wrong, naming the culprit.
        message: String,
    },
    /// The operation is not allowed, e.g. signalling a daemon we may not signal.
    #[error("{message}")]
    Forbidden {
        /// Why not.
        message: String,
    },
    /// Something on the serving side broke (not the caller's fault), e.g. an unreadable
    /// registry directory.
    #[error("{message}")]
    Internal {
        /// What broke.
        message: String,
    },
}

impl ActionError {
    /// The stable code as written on the wire: `not_registered`, `invalid_request` (for
    /// [`InvalidOption`](Self::InvalidOption) and [`InvalidRequest`](Self::InvalidRequest)),
    /// `not_found` (also for [`Unknown`](Self::Unknown)), `evicted`, `wrong_state`,
    /// `ambiguous`, `name_taken`, `limit_reached`, `failed`, `forbidden` or `internal`.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The kind, typed; its [`status`](ErrorCode::status) is the API's.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            ActionError::NotRegistered { .. } => ErrorCode::NotRegistered,
            ActionError::InvalidOption { .. } | ActionError::InvalidRequest { .. } => {
                ErrorCode::InvalidRequest
            }
            ActionError::NotFound { .. } | ActionError::Unknown { .. } => ErrorCode::NotFound,
            ActionError::Evicted { .. } => ErrorCode::Evicted,
            ActionError::WrongState { .. } => ErrorCode::WrongState,
            ActionError::Ambiguous { .. } => ErrorCode::Ambiguous,
            ActionError::NameTaken { .. } => ErrorCode::NameTaken,
            ActionError::LimitReached { .. } => ErrorCode::LimitReached,
            ActionError::Failed { .. } => ErrorCode::Failed,
            ActionError::Forbidden { .. } => ErrorCode::Forbidden,
            ActionError::Internal { .. } => ErrorCode::Internal,
        }
    }

    /// The error as the API reports it.
    pub fn to_api(&self) -> wire::ApiError {
        wire::ApiError::new(self.error_code(), self.to_string())
    }

    /// `{"code": …, "message": …}`, the body of an API error.
    ///
    /// ```
    /// use tend::actions::ActionError;
    /// let error = ActionError::NotRegistered { name: "x".into() };
    /// assert_eq!(error.to_json()["code"], "not_registered");
    /// ```
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.to_api()).unwrap_or(Value::Null)
    }

    /// An [`InvalidOption`](Self::InvalidOption) error.
    pub fn invalid(option: impl Into<String>, message: impl Into<String>) -> Self {
        ActionError::InvalidOption { option: option.into(), message: message.into() }
    }
}

impl From<Invalid> for ActionError {
    fn from(error: Invalid) -> Self {
        ActionError::invalid(error.key, error.message)
    }
}

/// A value as an action's JSON answer (or request).
fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Value, ActionError> {
    serde_json::to_value(value)
        .map_err(|error| ActionError::Internal { message: format!("serialising: {error}") })
}

impl From<crate::Error> for ActionError {
    fn from(error: crate::Error) -> Self {
        use crate::Error as E;
        let message = error.to_string();
        match error {
            E::InvalidOption { option, message } => ActionError::invalid(option, message),
            E::NotFound(id) => ActionError::NotFound { id },
            E::Evicted(_) => ActionError::Evicted { message },
            E::Ambiguous(_) => ActionError::invalid("id", message),
            E::AmbiguousName { .. } => ActionError::Ambiguous { message },
            E::NameTaken { .. } => ActionError::NameTaken { message },
            E::StillRunning(_) | E::NotRunning(_) | E::StdinClosed(_) => {
                ActionError::WrongState { message }
            }
            _ => ActionError::Failed { message },
        }
    }
}

impl From<crate::script::ScriptError> for ActionError {
    fn from(error: crate::script::ScriptError) -> Self {
        use crate::script::ScriptError as E;
        let message = error.to_string();
        match error {
            E::Start(error) => error.into(),
            _ => ActionError::Failed { message },
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn assert_send<T: Send>(_: T) {}
    fn assert_shareable<T: Send + Sync + Clone + 'static>() {}

    #[tokio::test]
    async fn the_registry_and_its_dispatch_future_cross_threads() {
        assert_shareable::<Actions>();
        let actions = Actions::new();
        actions.register("twice", |v| async move { Ok(json!([v.clone(), v])) });
        // What an HTTP handler needs: a `Send` future it can hand to any worker.
        assert_send(actions.dispatch("twice", json!(1)));
        let answer = tokio::spawn(async move { actions.dispatch("twice", json!(1)).await });
        assert_eq!(answer.await.unwrap(), Ok(json!([1, 1])));
    }
}
