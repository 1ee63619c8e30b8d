//! `daemon.list`, `daemon.get`, `daemon.health`, `daemon.stop`: the registry of running
//! daemons as named actions, registered by the server beside the process actions so that the
//! `/daemons` routes and any other caller share one code path.
//!
//! Registry access is blocking file I/O, so it runs off the async workers. `daemon.stop`
//! sends SIGTERM only while the entry's PID still belongs to the process that registered it
//! (the start time recorded in the entry must match): a reused PID is never signalled, and an
//! entry without a start time (go-process's) is refused as `wrong_state`.

use std::time::Duration;

use serde_json::{Value, json};
use tend::daemon::{DaemonEntry, Registry, RegistryError};

use crate::actions::{ActionError, Actions, Options};

/// How long a health probe of a registered daemon may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Registers the four actions over `registry` (`None`: no registry, so no daemons).
pub(crate) fn register(actions: &Actions, registry: Option<Registry>) {
    let on = registry.clone();
    actions.register("daemon.list", move |options| {
        let registry = on.clone();
        async move {
            Options::parse(options, &[])?;
            let entries = with_registry(registry, |r| r.list(), Vec::new()).await?;
            Ok(serde_json::to_value(entries).unwrap_or(Value::Null))
        }
    });
    let on = registry.clone();
    actions.register("daemon.get", move |options| {
        let registry = on.clone();
        async move {
            let entry = entry(registry, options).await?;
            Ok(serde_json::to_value(entry).unwrap_or(Value::Null))
        }
    });
    let on = registry.clone();
    actions.register("daemon.health", move |options| {
        let registry = on.clone();
        async move { Ok(health(entry(registry, options).await?).await) }
    });
    actions.register("daemon.stop", move |options| {
        let registry = registry.clone();
        async move { stop(entry(registry, options).await?).await }
    });
}

async fn with_registry<T: Send + 'static>(
    registry: Option<Registry>,
    read: impl FnOnce(&Registry) -> Result<T, RegistryError> + Send + 'static,
    empty: T,
) -> Result<T, ActionError> {
    let Some(registry) = registry else { return Ok(empty) };
    match tokio::task::spawn_blocking(move || read(&registry)).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(RegistryError::InvalidName { .. })) => Err(ActionError::InvalidRequest {
            message: "path: code and daemon must be plain names".into(),
        }),
        Ok(Err(error)) => Err(ActionError::Internal { message: error.to_string() }),
        Err(_) => Err(ActionError::Internal { message: "reading the registry failed".into() }),
    }
}

/// The live entry named by the `code` and `daemon` options.
async fn entry(registry: Option<Registry>, options: Value) -> Result<DaemonEntry, ActionError> {
    let options = Options::parse(options, &["code", "daemon"])?;
    let (code, daemon) = (options.required_string("code")?, options.required_string("daemon")?);
    let (c, d) = (code.clone(), daemon.clone());
    with_registry(registry, move |r| r.get(&c, &d), None).await?.ok_or_else(|| {
        ActionError::Unknown { what: "running daemon".into(), id: format!("{code}/{daemon}") }
    })
}

/// `{healthy, message}`: the daemon's `/health`, probed for at most [`PROBE_TIMEOUT`].
async fn health(entry: DaemonEntry) -> Value {
    let Some(addr) = entry.health else {
        return json!({ "healthy": false, "message": "the daemon has no health address" });
    };
    match tend::daemon::wait_for_health(&addr, PROBE_TIMEOUT).await {
        Ok(()) => json!({ "healthy": true, "message": "ok" }),
        Err(error) => json!({ "healthy": false, "message": error.to_string() }),
    }
}

/// SIGTERM to the daemon → `{signalled: true, entry}`.
async fn stop(entry: DaemonEntry) -> Result<Value, ActionError> {
    let name = format!("{}/{}", entry.code, entry.daemon);
    let target = entry.clone();
    let outcome = tokio::task::spawn_blocking(move || target.terminate())
        .await
        .map_err(|_| ActionError::Internal { message: "signalling failed".into() })?;
    match outcome {
        Ok(true) => Ok(json!({ "signalled": true, "entry": entry })),
        Ok(false) => Err(ActionError::Unknown { what: "running daemon".into(), id: name }),
        Err(error) if error.kind() == std::io::ErrorKind::Unsupported => {
            Err(ActionError::WrongState { message: format!("`{name}`: {error}") })
        }
        Err(error) => Err(ActionError::Forbidden {
            message: format!("cannot signal `{name}` (PID {}): {error}", entry.pid),
        }),
    }
}
