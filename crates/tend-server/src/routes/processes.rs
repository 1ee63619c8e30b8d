//! `/api/v1/processes`: each route turns its path, query and body into an option bag and
//! dispatches the matching `process.*` action, so the API and every other caller of the
//! actions share one code path.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::body::{JsonObject, Params};
use crate::error::{ApiError, ApiResult};
use crate::state::ServerState;

async fn dispatch(
    state: &ServerState,
    action: &str,
    options: Map<String, Value>,
) -> ApiResult<Value> {
    Ok(state.actions().dispatch(action, Value::Object(options)).await?)
}

fn with_id(id: String, mut options: Map<String, Value>) -> ApiResult<Map<String, Value>> {
    if options.contains_key("id") {
        return Err(ApiError::bad_request("body: `id` comes from the path"));
    }
    options.insert("id".into(), Value::String(id));
    Ok(options)
}

/// `GET /processes?status=&label=key=value`
pub(crate) async fn list(
    State(state): State<ServerState>,
    params: Params,
) -> ApiResult<Json<Value>> {
    params.only(&["status", "label"])?;
    let options = params.0.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    Ok(Json(dispatch(&state, "process.list", options).await?))
}

fn check_limit(state: &ServerState) -> ApiResult<()> {
    Ok(crate::limit::check(state.service(), state.inner.max_processes)?)
}

/// `POST /processes` → 201 with the info.
pub(crate) async fn start(
    State(state): State<ServerState>,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    check_limit(&state)?;
    let info = dispatch(&state, "process.start", body).await?;
    Ok((StatusCode::CREATED, Json(info)).into_response())
}

/// `POST /processes/run` → `{info, output}` once it ended (200 whatever its exit).
pub(crate) async fn run(
    State(state): State<ServerState>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    check_limit(&state)?;
    Ok(Json(dispatch(&state, "process.run", body).await?))
}

/// `GET /processes/{id}`
pub(crate) async fn get(
    State(state): State<ServerState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(dispatch(&state, "process.get", with_id(id, Map::new())?).await?))
}

/// `DELETE /processes/{id}` (409 while running).
pub(crate) async fn remove(
    State(state): State<ServerState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(dispatch(&state, "process.remove", with_id(id, Map::new())?).await?))
}

/// `POST /processes/{id}/wait?timeout=DURATION`
pub(crate) async fn wait(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    params.only(&["timeout"])?;
    let mut options = Map::new();
    if let Some(timeout) = params.get("timeout") {
        options.insert("timeout".into(), Value::String(timeout.to_owned()));
    }
    Ok(Json(dispatch(&state, "process.wait", with_id(id, options)?).await?))
}

/// `POST /processes/{id}/{action}` for the actions whose body is their option bag: `input`
/// (`{data}`), `close-stdin`, `signal` (`{signal}`), `kill`, `stop` (`{grace}`).
pub(crate) async fn control(
    State(state): State<ServerState>,
    Path((id, action)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    let name = match action.as_str() {
        "input" => "process.input",
        "close-stdin" => "process.close_stdin",
        "signal" => "process.signal",
        "kill" => "process.kill",
        "stop" => "process.stop",
        other => return Err(ApiError::not_found(format!("no route `/processes/{{id}}/{other}`"))),
    };
    Ok(Json(dispatch(&state, name, with_id(id, body)?).await?))
}

/// `GET /processes/{id}/output?since=SEQ` → `{lines: [{seq, stream, line}], next_seq,
/// dropped}` from the event log (the server's `process.lines` action); `?format=text` → the
/// captured bytes, exactly.
pub(crate) async fn output(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    params.only(&["since", "format", "limit"])?;
    // Unknown ids are a 404 before any parameter is looked at.
    let info = dispatch(&state, "process.get", with_id(id.clone(), Map::new())?).await?;
    match params.get("format") {
        None | Some("json") => {}
        Some("text") => {
            // Raw bytes cannot travel in JSON; the ring is read directly for this form.
            let process = state.service().get(&id).map_err(crate::actions::ActionError::from)?;
            let bytes = process.output().combined();
            return Ok(
                ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
            );
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "query parameter `format`: `{other}` is not json or text"
            )));
        }
    }
    let full_id = info.get("id").and_then(Value::as_str).unwrap_or(&id).to_owned();
    let mut options = with_id(full_id, Map::new())?;
    for key in ["since", "limit"] {
        if let Some(n) = params.number(key)? {
            options.insert(key.into(), n.into());
        }
    }
    Ok(Json(dispatch(&state, "process.lines", options).await?).into_response())
}
