//! `/api/v1/daemons`: the registry of running daemons, read-only, their health, and a stop
//! that only ever reaches the process that registered. Each route [`call`]s the matching
//! `daemon.*` action (see `daemon_actions`).

use axum::Json;
use axum::extract::{Path, State};
use tend::daemon::DaemonEntry;
use tend::wire::{DaemonHealth, DaemonRef, DaemonStopped, Empty};

use super::call;
use crate::error::ApiResult;
use crate::state::ServerState;

/// `GET /daemons`
pub(crate) async fn list(State(state): State<ServerState>) -> ApiResult<Json<Vec<DaemonEntry>>> {
    Ok(Json(call(&state, "daemon.list", &Empty {}).await?))
}

/// `GET /daemons/{code}/{daemon}`
pub(crate) async fn get(
    State(state): State<ServerState>,
    Path((code, daemon)): Path<(String, String)>,
) -> ApiResult<Json<DaemonEntry>> {
    Ok(Json(call(&state, "daemon.get", &DaemonRef { code, daemon }).await?))
}

/// `GET /daemons/{code}/{daemon}/health` → `{healthy, message}`.
pub(crate) async fn health(
    State(state): State<ServerState>,
    Path((code, daemon)): Path<(String, String)>,
) -> ApiResult<Json<DaemonHealth>> {
    Ok(Json(call(&state, "daemon.health", &DaemonRef { code, daemon }).await?))
}

/// `POST /daemons/{code}/{daemon}/stop` → `{signalled: true, entry}`.
pub(crate) async fn stop(
    State(state): State<ServerState>,
    Path((code, daemon)): Path<(String, String)>,
) -> ApiResult<Json<DaemonStopped>> {
    Ok(Json(call(&state, "daemon.stop", &DaemonRef { code, daemon }).await?))
}
