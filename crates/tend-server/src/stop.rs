//! `process.stop`: graceful stop (TERM the group, drain, wait the grace, KILL). The named
//! actions of the library have no such action, so the server registers it beside them.

use std::time::Duration;

use serde_json::Value;
use tend::Service;

use crate::actions::{ActionError, Actions};

fn invalid(option: &str, message: impl Into<String>) -> ActionError {
    ActionError::InvalidOption { option: option.to_owned(), message: message.into() }
}

fn grace(options: &serde_json::Map<String, Value>) -> Result<Option<Duration>, ActionError> {
    match (options.get("grace"), options.get("grace_ms")) {
        (None | Some(Value::Null), None | Some(Value::Null)) => Ok(None),
        (Some(Value::String(text)), None) => humantime::parse_duration(text)
            .map(Some)
            .map_err(|e| invalid("grace", format!("`{text}` is not a duration like 2s ({e})"))),
        (None, Some(Value::Number(n))) => match n.as_f64() {
            Some(ms) if (0.0..1e15).contains(&ms) => Ok(Some(Duration::from_secs_f64(ms / 1e3))),
            _ => Err(invalid("grace_ms", "must be a non-negative number of milliseconds")),
        },
        (Some(Value::Number(_)), _) => {
            Err(invalid("grace", "use a duration string such as \"2s\", or `grace_ms`"))
        }
        (Some(_), None) => Err(invalid("grace", "must be a duration string such as \"2s\"")),
        (_, Some(_)) => Err(invalid("grace_ms", "give `grace` or `grace_ms` (a number), not both")),
    }
}

/// The action error for a library error, the way the process actions map them.
pub(crate) fn action_error(error: tend::Error) -> ActionError {
    let message = error.to_string();
    match error {
        tend::Error::NotFound(id) => ActionError::NotFound { id },
        tend::Error::Ambiguous(_) => invalid("id", message),
        tend::Error::StillRunning(_) | tend::Error::NotRunning(_) | tend::Error::StdinClosed(_) => {
            ActionError::WrongState { message }
        }
        _ => ActionError::Failed { message },
    }
}

/// Registers `process.stop` (`id`, optional `grace`/`grace_ms`) → the final info.
pub(crate) fn register_stop(actions: &Actions, service: Service) {
    actions.register("process.stop", move |options: Value| {
        let service = service.clone();
        async move {
            let Value::Object(options) = options else {
                return Err(invalid("options", "must be a JSON object"));
            };
            if let Some(key) =
                options.keys().find(|k| !["id", "grace", "grace_ms"].contains(&k.as_str()))
            {
                return Err(invalid(key, "unknown option"));
            }
            let id = match options.get("id") {
                Some(Value::String(id)) => id.clone(),
                _ => return Err(invalid("id", "is required")),
            };
            let grace = grace(&options)?;
            let process = service.get(&id).map_err(action_error)?;
            let grace = grace.unwrap_or(tend::process::DEFAULT_GRACE);
            let info = process.shutdown(grace).await.map_err(action_error)?;
            Ok(serde_json::to_value(info).unwrap_or(Value::Null))
        }
    });
}
