//! `/api/v1/daemons`: the registry of running daemons, read-only, and their health.
//!
//! Registry access is blocking file I/O, so it runs off the async workers. `stop` sends
//! SIGTERM only while the entry's PID still belongs to the process that registered it (the
//! start time recorded in the entry must match): a reused PID is never signalled, and an
//! entry without a start time (go-process's) is refused with 409.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use tend::daemon::{DaemonEntry, Registry};

use crate::error::{ApiError, ApiResult};
use crate::state::ServerState;

/// How long a health probe of a registered daemon may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

async fn with_registry<T: Send + 'static>(
    state: &ServerState,
    read: impl FnOnce(&Registry) -> Result<T, tend::daemon::RegistryError> + Send + 'static,
    empty: T,
) -> ApiResult<T> {
    let Some(registry) = state.inner.registry.clone() else { return Ok(empty) };
    match tokio::task::spawn_blocking(move || read(&registry)).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(tend::daemon::RegistryError::InvalidName { .. })) => {
            Err(ApiError::bad_request("path: code and daemon must be plain names"))
        }
        Ok(Err(error)) => Err(ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "registry",
            error.to_string(),
        )),
        Err(_) => Err(ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "registry",
            "reading the registry failed",
        )),
    }
}

/// `GET /daemons`
pub(crate) async fn list(State(state): State<ServerState>) -> ApiResult<Json<Vec<DaemonEntry>>> {
    Ok(Json(with_registry(&state, |r| r.list(), Vec::new()).await?))
}

async fn entry(state: &ServerState, code: String, daemon: String) -> ApiResult<DaemonEntry> {
    let (c, d) = (code.clone(), daemon.clone());
    with_registry(state, move |r| r.get(&c, &d), None)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no running daemon `{code}/{daemon}`")))
}

/// `GET /daemons/{code}/{daemon}`
pub(crate) async fn get(
    State(state): State<ServerState>,
    Path((code, daemon)): Path<(String, String)>,
) -> ApiResult<Json<DaemonEntry>> {
    Ok(Json(entry(&state, code, daemon).await?))
}

/// `GET /daemons/{code}/{daemon}/health` → `{healthy, message}`.
pub(crate) async fn health(
    State(state): State<ServerState>,
    Path((code, daemon)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let entry = entry(&state, code, daemon).await?;
    let Some(addr) = entry.health else {
        return Ok(Json(
            json!({ "healthy": false, "message": "the daemon has no health address" }),
        ));
    };
    Ok(Json(match tend::daemon::wait_for_health(&addr, PROBE_TIMEOUT).await {
        Ok(()) => json!({ "healthy": true, "message": "ok" }),
        Err(error) => json!({ "healthy": false, "message": error.to_string() }),
    }))
}

/// `POST /daemons/{code}/{daemon}/stop` → `{signalled: true, entry}`.
pub(crate) async fn stop(
    State(state): State<ServerState>,
    Path((code, daemon)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let entry = entry(&state, code.clone(), daemon.clone()).await?;
    let target = entry.clone();
    let outcome = tokio::task::spawn_blocking(move || target.terminate()).await.map_err(|_| {
        ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "failed", "signalling failed")
    })?;
    match outcome {
        Ok(true) => Ok(Json(json!({ "signalled": true, "entry": entry }))),
        Ok(false) => Err(ApiError::not_found(format!("no running daemon `{code}/{daemon}`"))),
        Err(error) if error.kind() == std::io::ErrorKind::Unsupported => Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "wrong_state",
            format!("`{code}/{daemon}`: {error}"),
        )),
        Err(error) => Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "forbidden",
            format!("cannot signal `{code}/{daemon}` (PID {}): {error}", entry.pid),
        )),
    }
}
