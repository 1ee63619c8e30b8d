//! `/api/v1/pipelines`: run a pipeline on the server's service, follow it, cancel it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::body::{JsonObject, Params};
use super::processes::check_limit;
use crate::error::{ApiError, ApiResult};
use crate::pipelines::{CancelOutcome, request};
use crate::state::ServerState;

fn unknown(id: &str) -> ApiError {
    ApiError::not_found(format!("no pipeline `{id}`"))
}

/// `POST /pipelines` → 202 `{id}`: checked, then started in the background.
pub(crate) async fn start(
    State(state): State<ServerState>,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let request = request::parse(body)?;
    check_limit(&state)?;
    let id = state.inner.pipelines.launch(state.service(), state.event_log(), request);
    Ok((StatusCode::ACCEPTED, Json(json!({ "id": id }))).into_response())
}

/// `GET /pipelines` → summaries, oldest first.
pub(crate) async fn list(
    State(state): State<ServerState>,
    params: Params,
) -> ApiResult<Json<Vec<Value>>> {
    params.only(&[])?;
    Ok(Json(state.inner.pipelines.list()))
}

/// `GET /pipelines/{id}` → `{id, status, ..., report}`, live while it runs.
pub(crate) async fn get(
    State(state): State<ServerState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    state.inner.pipelines.get(&id).map(Json).ok_or_else(|| unknown(&id))
}

/// `POST /pipelines/{id}/cancel` → 202 with its view; 409 once it has ended.
pub(crate) async fn cancel(
    State(state): State<ServerState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    match state.inner.pipelines.cancel(&id) {
        CancelOutcome::Cancelling(view) => Ok((StatusCode::ACCEPTED, Json(view)).into_response()),
        CancelOutcome::Ended => Err(ApiError::new(
            StatusCode::CONFLICT,
            "wrong_state",
            format!("pipeline `{id}` has already ended"),
        )),
        CancelOutcome::Unknown => Err(unknown(&id)),
    }
}
