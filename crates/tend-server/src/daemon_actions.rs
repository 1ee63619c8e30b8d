//! `daemon.list`, `daemon.get`, `daemon.health`, `daemon.stop`: the registry of running
//! daemons as typed named actions, registered by the server beside the process actions so
//! that the `/daemons` routes and any other caller share one code path.
//!
//! Registry access is blocking file I/O, so it runs off the async workers. `daemon.stop`
//! sends SIGTERM only while the entry's PID still belongs to the process that registered it
//! (the start time recorded in the entry must match): a reused PID is never signalled, and an
//! entry without a start time (go-process's) is refused as `wrong_state`.

use std::time::Duration;

use tend::daemon::{DaemonEntry, Registry, RegistryError};
use tend::wire::{DaemonHealth, DaemonRef, DaemonStopped, Empty};

use crate::actions::{ActionError, Actions};

/// How long a health probe of a registered daemon may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Registers the four actions over `registry` (`None`: no registry, so no daemons).
pub(crate) fn register(actions: &Actions, registry: Option<Registry>) {
    let on = registry.clone();
    actions.register_typed("daemon.list", move |_: Empty| {
        with_registry(on.clone(), |r| r.list(), Vec::new())
    });
    let on = registry.clone();
    actions.register_typed("daemon.get", move |request: DaemonRef| entry(on.clone(), request));
    let on = registry.clone();
    actions.register_typed("daemon.health", move |request: DaemonRef| {
        let registry = on.clone();
        async move { Ok(health(entry(registry, request).await?).await) }
    });
    actions.register_typed("daemon.stop", move |request: DaemonRef| {
        let registry = registry.clone();
        async move { stop(entry(registry, request).await?).await }
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

/// The live entry named by the request.
async fn entry(registry: Option<Registry>, request: DaemonRef) -> Result<DaemonEntry, ActionError> {
    let DaemonRef { code, daemon } = request;
    let (c, d) = (code.clone(), daemon.clone());
    with_registry(registry, move |r| r.get(&c, &d), None).await?.ok_or_else(|| {
        ActionError::Unknown { what: "running daemon".into(), id: format!("{code}/{daemon}") }
    })
}

/// The daemon's `/health`, probed for at most [`PROBE_TIMEOUT`].
async fn health(entry: DaemonEntry) -> DaemonHealth {
    let Some(addr) = entry.health else {
        return DaemonHealth { healthy: false, message: "the daemon has no health address".into() };
    };
    match tend::daemon::wait_for_health(&addr, PROBE_TIMEOUT).await {
        Ok(()) => DaemonHealth { healthy: true, message: "ok".into() },
        Err(error) => DaemonHealth { healthy: false, message: error.to_string() },
    }
}

/// SIGTERM to the daemon.
async fn stop(entry: DaemonEntry) -> Result<DaemonStopped, ActionError> {
    let name = format!("{}/{}", entry.code, entry.daemon);
    let target = entry.clone();
    let outcome = tokio::task::spawn_blocking(move || target.terminate())
        .await
        .map_err(|_| ActionError::Internal { message: "signalling failed".into() })?;
    match outcome {
        Ok(true) => Ok(DaemonStopped { signalled: true, entry }),
        Ok(false) => Err(ActionError::Unknown { what: "running daemon".into(), id: name }),
        Err(error) if error.kind() == std::io::ErrorKind::Unsupported => {
            Err(ActionError::WrongState { message: format!("`{name}`: {error}") })
        }
        Err(error) => Err(ActionError::Forbidden {
            message: format!("cannot signal `{name}` (PID {}): {error}", entry.pid),
        }),
    }
}
