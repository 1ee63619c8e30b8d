//! `/api/v1/daemons`: the registry of running daemons, read-only, their health, and a stop
//! that only ever reaches the process that registered. Each route dispatches the matching
//! `daemon.*` action (see `daemon_actions`).

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::error::ApiResult;
use crate::state::ServerState;

async fn dispatch(state: &ServerState, action: &str, options: Value) -> ApiResult<Json<Value>> {
    Ok(Json(state.actions().dispatch(action, options).await?))
}

/// `GET /daemons`
pub(crate) async fn list(State(state): State<ServerState>) -> ApiResult<Json<Value>> {
    dispatch(&state, "daemon.list", json!({})).await
}

/// `GET /daemons/{code}/{daemon}`
pub(crate) async fn get(
    State(state): State<ServerState>,
    Path((code, daemon)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    dispatch(&state, "daemon.get", json!({ "code": code, "daemon": daemon })).await
}

/// `GET /daemons/{code}/{daemon}/health` → `{healthy, message}`.
pub(crate) async fn health(
    State(state): State<ServerState>,
    Path((code, daemon)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    dispatch(&state, "daemon.health", json!({ "code": code, "daemon": daemon })).await
}

/// `POST /daemons/{code}/{daemon}/stop` → `{signalled: true, entry}`.
pub(crate) async fn stop(
    State(state): State<ServerState>,
    Path((code, daemon)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    dispatch(&state, "daemon.stop", json!({ "code": code, "daemon": daemon })).await
}
