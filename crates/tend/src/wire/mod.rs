//! The wire model: every request the API and the named actions take, and every answer they
//! give, as Rust types with one definition each, shared by the library's
//! [`actions`](crate::actions), the server, the CLI and the OpenAPI document.
//!
//! * Requests refuse unknown keys (`deny_unknown_fields`); `null` reads as an absent key.
//!   Their keys, defaults and checks live here and nowhere else: [`StartRequest`] turns into
//!   what to start with [`StartRequest::launch`], [`PipelineRequest`] into a checked pipeline
//!   with [`PipelineRequest::into_parts`].
//! * Durations are a twin: a humantime string under `KEY` ([`DurationText`]) or milliseconds
//!   under `KEY_ms` ([`Millis`]), resolved by [`twin`]; a bare number under `KEY` is refused
//!   naming `KEY_ms`.
//! * [`decode`] reads a request from JSON with an error naming the key ([`Invalid`]);
//!   [`ErrorCode`], [`ApiError`] and [`ErrorBody`] are the errors as the API reports them.
//!
//! ```
//! use std::time::Duration;
//! use tend::wire::{StartRequest, decode};
//! use serde_json::json;
//!
//! let request = StartRequest {
//!     command: Some("sleep".into()),
//!     args: Some(vec!["5".into()]),
//!     timeout: Some(Duration::from_secs(2).into()),
//!     ..StartRequest::default()
//! };
//! let json = serde_json::to_value(&request).unwrap();
//! assert_eq!(json, json!({"command": "sleep", "args": ["5"], "timeout": "2s"}));
//! assert_eq!(decode::<StartRequest>(json).unwrap(), request);
//!
//! let error = decode::<StartRequest>(json!({"command": "sleep", "timeout": 5})).unwrap_err();
//! assert_eq!(error.key, "timeout");
//! assert!(error.message.contains("`timeout_ms`"));
//! ```

mod daemon;
mod duration;
mod error;
mod pipeline;
mod pipeline_events;
mod pipeline_state;
mod process;
mod project;
mod start;
mod ui;

use serde::de::DeserializeOwned;
use serde_json::Value;

/// A snapshot of a managed process: the answer of most process actions.
pub use crate::ProcessInfo;
pub use daemon::{DaemonHealth, DaemonRef, DaemonStopped};
pub use duration::{DurationText, Millis, bare_number, both_given, parse_millis, parse_text, twin};
pub use error::{ApiError, ErrorBody, ErrorCode, Invalid};
pub use pipeline::{PipelineParts, PipelineRef, PipelineRequest, PipelineStarted};
pub use pipeline_events::{
    PipelineEvent, PipelineFinishedEvent, PipelineStartedEvent, StepFinishedEvent, StepStartedEvent,
};
pub use pipeline_state::{
    LiveReport, PipelineHead, PipelineState, PipelineStatus, PipelineSummary, StepState,
};
pub use process::{
    Empty, IdRequest, InputRequest, LinesAnswer, LinesQuery, ListFilter, ListQuery, OutputAnswer,
    OutputLine, RestartRequest, RunAnswer, SignalRequest, StopRequest, WaitRequest,
};
pub use project::{
    ProjectApplied, ProjectInfo, ProjectRef, ProjectRequest, ProjectServiceInfo, ProjectServiceRef,
    ServiceChange, ServiceChanged, ServiceState,
};
pub use start::{Launch, RunRequest, StartRequest, StdinChoice};
pub use ui::LoginCode;

/// Reads a request of type `T` from JSON; `null` reads as `{}`. An error names the key it is
/// about (`options` when the request as a whole is not an object).
///
/// ```
/// use tend::wire::{IdRequest, decode};
/// use serde_json::json;
///
/// assert_eq!(decode::<IdRequest>(json!({"id": "web"})).unwrap().id, "web");
/// assert_eq!(decode::<IdRequest>(json!({})).unwrap_err().key, "id");
/// assert_eq!(decode::<IdRequest>(json!({"id": "web", "colour": 1})).unwrap_err().key, "colour");
/// assert_eq!(decode::<IdRequest>(json!({"id": 7})).unwrap_err().key, "id");
/// assert_eq!(decode::<IdRequest>(json!([1])).unwrap_err().key, "options");
/// ```
pub fn decode<T: DeserializeOwned>(value: Value) -> Result<T, Invalid> {
    let value = match value {
        Value::Null => Value::Object(serde_json::Map::new()),
        Value::Object(map) => Value::Object(map),
        other => {
            return Err(Invalid::new(
                "options",
                format!("must be a JSON object, not {}", kind(&other)),
            ));
        }
    };
    serde_path_to_error::deserialize(value).map_err(|error| {
        let top = match error.path().iter().next() {
            Some(serde_path_to_error::Segment::Map { key }) => Some(key.clone()),
            _ => None,
        };
        let path = error.path().to_string();
        named(top, path, error.into_inner().to_string())
    })
}

/// Turns serde's wording into one naming the top-level key `top` (`env` for `env.A`), with
/// the full `path` in the message when it is deeper. A missing field's error stands at the
/// enclosing object, so its name is taken from the message.
fn named(top: Option<String>, path: String, message: String) -> Invalid {
    if let Some(field) = quoted_after(&message, "missing field ") {
        return match top {
            None => Invalid::new(field, "missing"),
            Some(top) => Invalid::new(top, format!("`{path}.{field}`: missing")),
        };
    }
    let message = match quoted_after(&message, "unknown field ") {
        Some(field) => {
            let expected = message
                .split_once("expected ")
                .map(|(_, list)| list.replace('`', "").replace("one of ", ""))
                .unwrap_or_default();
            format!("unknown key `{field}` (expected one of: {expected})")
        }
        None => message,
    };
    match top {
        None => Invalid::new("options", message),
        Some(top) if path == top => Invalid::new(top, message),
        Some(top) => Invalid::new(top, format!("`{path}`: {message}")),
    }
}

/// `X` in `{prefix}` followed by `` `X` ``.
fn quoted_after<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split_once('`').map(|(field, _)| field)
}

/// "a string", "an array", … for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
