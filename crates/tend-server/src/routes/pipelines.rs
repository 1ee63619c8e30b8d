//! `/api/v1/pipelines`: run a pipeline on the server's service, follow it, cancel it. Each
//! route [`call`]s the matching `pipeline.*` action.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tend::wire::{Empty, PipelineRef, PipelineStarted, PipelineState, PipelineSummary};

use super::body::{JsonObject, Params};
use super::call;
use crate::error::ApiResult;
use crate::state::ServerState;

/// `POST /pipelines` → 202 `{id}`: checked, then started in the background.
pub(crate) async fn start(
    State(state): State<ServerState>,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let started: PipelineStarted = call(&state, "pipeline.start", &body).await?;
    Ok((StatusCode::ACCEPTED, Json(started)).into_response())
}

/// `GET /pipelines` → summaries, oldest first.
pub(crate) async fn list(
    State(state): State<ServerState>,
    params: Params,
) -> ApiResult<Json<Vec<PipelineSummary>>> {
    params.only(&[])?;
    Ok(Json(call(&state, "pipeline.list", &Empty {}).await?))
}

/// `GET /pipelines/{id}` → `{id, status, ..., report}`, live while it runs.
pub(crate) async fn get(
    State(state): State<ServerState>,
    Path(id): Path<String>,
) -> ApiResult<Json<PipelineState>> {
    Ok(Json(call(&state, "pipeline.get", &PipelineRef { id }).await?))
}

/// `POST /pipelines/{id}/cancel` → 202 with its state; 409 once it has ended.
pub(crate) async fn cancel(
    State(state): State<ServerState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let view: PipelineState = call(&state, "pipeline.cancel", &PipelineRef { id }).await?;
    Ok((StatusCode::ACCEPTED, Json(view)).into_response())
}
