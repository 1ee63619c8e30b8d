//! `/api/v1/projects`: stacks of services and steps applied to the daemon under a name, kept
//! running, reloaded by difference and taken down. Each route [`call`]s the matching
//! `project.*` action.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tend::wire::{
    Empty, ProjectApplied, ProjectInfo, ProjectRef, ProjectServiceInfo, ProjectServiceRef,
};

use super::body::{JsonObject, Params};
use super::call;
use super::project_body::ProjectBody;
use crate::error::{ApiError, ApiResult};
use crate::state::ServerState;

/// `POST /projects` → 201 `ProjectApplied` for a new project, 200 when it replaced one of
/// the same name (by difference). The body is JSON, or a `tend.toml` ([`ProjectBody`]).
pub(crate) async fn apply(
    State(state): State<ServerState>,
    ProjectBody(body): ProjectBody,
) -> ApiResult<Response> {
    let applied: ProjectApplied = call(&state, "project.apply", &body).await?;
    let status = if applied.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(applied)).into_response())
}

/// `GET /projects` → every project, by name, with live status.
pub(crate) async fn list(
    State(state): State<ServerState>,
    params: Params,
) -> ApiResult<Json<Vec<ProjectInfo>>> {
    params.only(&[])?;
    Ok(Json(call(&state, "project.list", &Empty {}).await?))
}

/// `GET /projects/{name}` → the project, its services with live status; 404 if unknown.
pub(crate) async fn get(
    State(state): State<ServerState>,
    Path(name): Path<String>,
) -> ApiResult<Json<ProjectInfo>> {
    Ok(Json(call(&state, "project.get", &ProjectRef { name }).await?))
}

/// `POST /projects/{name}/reload` → 200 `ProjectApplied`. The body's `name`, when given,
/// must be the path's.
pub(crate) async fn reload(
    State(state): State<ServerState>,
    Path(name): Path<String>,
    JsonObject(mut body): JsonObject,
) -> ApiResult<Json<ProjectApplied>> {
    match body.get("name") {
        None => {
            body.insert("name".into(), Value::String(name));
        }
        Some(Value::String(given)) if *given == name => {}
        Some(given) => {
            return Err(ApiError::bad_request(format!(
                "invalid option `name`: {given} is not the project of the path, `{name}`"
            )));
        }
    }
    Ok(Json(call(&state, "project.reload", &body).await?))
}

/// `DELETE /projects/{name}` → the project's final state, once its services have stopped
/// (in reverse dependency order).
pub(crate) async fn delete(
    State(state): State<ServerState>,
    Path(name): Path<String>,
) -> ApiResult<Json<ProjectInfo>> {
    Ok(Json(call(&state, "project.delete", &ProjectRef { name }).await?))
}

/// `POST /projects/{name}/services/{service}/start` → the service.
pub(crate) async fn start(
    State(state): State<ServerState>,
    Path((project, service)): Path<(String, String)>,
) -> ApiResult<Json<ProjectServiceInfo>> {
    let service = ProjectServiceRef { project, service };
    Ok(Json(call(&state, "project.service_start", &service).await?))
}

/// `POST /projects/{name}/services/{service}/stop` → the service, once it has stopped.
pub(crate) async fn stop(
    State(state): State<ServerState>,
    Path((project, service)): Path<(String, String)>,
) -> ApiResult<Json<ProjectServiceInfo>> {
    let service = ProjectServiceRef { project, service };
    Ok(Json(call(&state, "project.service_stop", &service).await?))
}

/// `POST /projects/{name}/services/{service}/restart` → the service, started again.
pub(crate) async fn restart(
    State(state): State<ServerState>,
    Path((project, service)): Path<(String, String)>,
) -> ApiResult<Json<ProjectServiceInfo>> {
    let service = ProjectServiceRef { project, service };
    Ok(Json(call(&state, "project.service_restart", &service).await?))
}
