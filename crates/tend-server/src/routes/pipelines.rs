//! `/api/v1/pipelines`: run a pipeline on the server's service, follow it, cancel it. Each
//! route dispatches the matching `pipeline.*` action.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::body::{JsonObject, Params};
use crate::error::ApiResult;
use crate::state::ServerState;

async fn dispatch(state: &ServerState, action: &str, options: Value) -> ApiResult<Value> {
    Ok(state.actions().dispatch(action, options).await?)
}

/// `POST /pipelines` → 202 `{id}`: checked, then started in the background.
pub(crate) async fn start(
    State(state): State<ServerState>,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let started = dispatch(&state, "pipeline.start", Value::Object(body)).await?;
    Ok((StatusCode::ACCEPTED, Json(started)).into_response())
}

/// `GET /pipelines` → summaries, oldest first.
pub(crate) async fn list(
    State(state): State<ServerState>,
    params: Params,
) -> ApiResult<Json<Value>> {
    params.only(&[])?;
    Ok(Json(dispatch(&state, "pipeline.list", json!({})).await?))
}

/// `GET /pipelines/{id}` → `{id, status, ..., report}`, live while it runs.
pub(crate) async fn get(
    State(state): State<ServerState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(dispatch(&state, "pipeline.get", json!({ "id": id })).await?))
}

/// `POST /pipelines/{id}/cancel` → 202 with its view; 409 once it has ended.
pub(crate) async fn cancel(
    State(state): State<ServerState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let view = dispatch(&state, "pipeline.cancel", json!({ "id": id })).await?;
    Ok((StatusCode::ACCEPTED, Json(view)).into_response())
}
