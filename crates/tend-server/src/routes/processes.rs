//! `/api/v1/processes`: each route turns its path, query and body into the request of a
//! `process.*` action and [`call`]s it, so the API and every other caller of the actions
//! share one code path (the process limit and name lookup included).

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use tend::wire::{Empty, IdRequest, LinesAnswer, LinesQuery, ListQuery, RunAnswer, StartRequest};
use tend::{ProcessInfo, ProcessList};

use super::body::{JsonObject, Params};
use super::{call, call_typed};
use crate::error::{ApiError, ApiResult};
use crate::state::ServerState;

/// A body's options with `id` from the path; an `id` in the body is refused.
fn with_id(id: String, mut options: Map<String, Value>) -> ApiResult<Map<String, Value>> {
    if options.contains_key("id") {
        return Err(ApiError::bad_request("body: `id` comes from the path"));
    }
    options.insert("id".into(), Value::String(id));
    Ok(options)
}

/// The length of the latest `GET /processes` answer, in bytes. The next answer's buffer is
/// taken that big (and an eighth) at once: a list of 10,000 records (4 MB) is then written
/// once, not copied at every doubling of a buffer grown from nothing. One number, shared by
/// every server of the process; the buffer itself goes with the answer.
static LIST_BYTES: AtomicUsize = AtomicUsize::new(0);

/// `GET /processes?status=&label=key=value`
pub(crate) async fn list(State(state): State<ServerState>, params: Params) -> ApiResult<Response> {
    params.only(&["status", "label"])?;
    let query: Map<String, Value> =
        params.0.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    // Typed: the records are written into the body from the table (each from the JSON it
    // keeps between answers), no info and no JSON value per record.
    let list: ProcessList = call_typed::<ListQuery, _>(&state, "process.list", query).await?;
    let hint = LIST_BYTES.load(Ordering::Relaxed);
    let mut body = Vec::with_capacity(hint + hint / 8 + 2);
    list.write_json(&mut body);
    LIST_BYTES.store(body.len(), Ordering::Relaxed);
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `POST /processes` → 201 with the info.
pub(crate) async fn start(
    State(state): State<ServerState>,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let info: ProcessInfo = call_typed::<StartRequest, _>(&state, "process.start", body).await?;
    Ok((StatusCode::CREATED, Json(info)).into_response())
}

/// `POST /processes/run` → `{info, output}` once it ended (200 whatever its exit).
pub(crate) async fn run(
    State(state): State<ServerState>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<RunAnswer>> {
    Ok(Json(call(&state, "process.run", &body).await?))
}

/// `GET /processes/{id}`
pub(crate) async fn get(
    State(state): State<ServerState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ProcessInfo>> {
    Ok(Json(call(&state, "process.get", &IdRequest { id }).await?))
}

/// `DELETE /processes/{id}` (409 while running).
pub(crate) async fn remove(
    State(state): State<ServerState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ProcessInfo>> {
    let removed: ProcessInfo = call(&state, "process.remove", &IdRequest { id }).await?;
    // Its events go from the replay log too, and their memory with them.
    state.event_log().forget(removed.id, state.service().last_seq());
    // So do its own log files (`ID.log*`), never a file other processes share.
    if let Some(path) = removed.log_path.clone()
        && path.file_name() == Some(format!("{}.log", removed.id).as_ref())
    {
        let _ = tokio::task::spawn_blocking(move || crate::log_files::remove(&path)).await;
    }
    Ok(Json(removed))
}

/// `POST /processes/{id}/wait?timeout=DURATION`
pub(crate) async fn wait(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<ProcessInfo>> {
    params.only(&["timeout"])?;
    let mut options = Map::new();
    if let Some(timeout) = params.get("timeout") {
        options.insert("timeout".into(), Value::String(timeout.to_owned()));
    }
    Ok(Json(call(&state, "process.wait", &with_id(id, options)?).await?))
}

/// `POST /processes/{id}/kill` → the info once killed.
pub(crate) async fn kill(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<ProcessInfo>> {
    Ok(Json(call(&state, "process.kill", &with_id(id, body)?).await?))
}

/// `POST /processes/{id}/stop` `{grace}` → the info once stopped.
pub(crate) async fn stop(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<ProcessInfo>> {
    Ok(Json(call(&state, "process.stop", &with_id(id, body)?).await?))
}

/// `POST /processes/{id}/restart` `{grace}` → the info of the new run (same id when it was
/// running, a new process when it had finished).
pub(crate) async fn restart(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<ProcessInfo>> {
    Ok(Json(call(&state, "process.restart", &with_id(id, body)?).await?))
}

/// `POST /processes/{id}/signal` `{signal}` → the info.
pub(crate) async fn signal(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<ProcessInfo>> {
    Ok(Json(call(&state, "process.signal", &with_id(id, body)?).await?))
}

/// `POST /processes/{id}/input` `{data}` → `{}`.
pub(crate) async fn input(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Empty>> {
    Ok(Json(call(&state, "process.input", &with_id(id, body)?).await?))
}

/// `POST /processes/{id}/close-stdin` → `{}`.
pub(crate) async fn close_stdin(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Empty>> {
    Ok(Json(call(&state, "process.close_stdin", &with_id(id, body)?).await?))
}

/// `GET /processes/{id}/output?since=SEQ` → `{lines: [{seq, stream, line}], next_seq,
/// dropped}` from the event log (the server's `process.lines` action); `?format=text` → the
/// captured bytes, exactly (see [`output_text`]).
pub(crate) async fn output(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    params.only(&["since", "format", "limit", "offset", "follow", "tail"])?;
    // Unknown ids are a 404 before any parameter is looked at.
    let info: ProcessInfo = call(&state, "process.get", &IdRequest { id: id.clone() }).await?;
    // Every parameter is checked whichever form is asked for, so a bad one is a 400 in both.
    let (since, limit) = (params.number("since")?, params.number("limit")?);
    let offset = params.number("offset")?.unwrap_or(0);
    let tail = params.number("tail")?;
    let follow = match params.get("follow") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "query parameter `follow`: `{other}` is not true or false"
            )));
        }
    };
    match params.get("format") {
        None | Some("json") => {}
        Some("text") => {
            // Raw bytes cannot travel in JSON; the ring is read directly for this form.
            let process = state
                .service()
                .get(&info.id.to_string())
                .map_err(crate::actions::ActionError::from)?;
            let query = super::output_text::TextQuery { offset, follow, tail };
            return super::output_text::answer(&process, query).await;
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "query parameter `format`: `{other}` is not json or text"
            )));
        }
    }
    if tail.is_some() {
        return Err(ApiError::bad_request("query parameter `tail`: needs format=text"));
    }
    let query = LinesQuery { id: info.id.to_string(), since, limit };
    let lines: LinesAnswer = call(&state, "process.lines", &query).await?;
    Ok(Json(lines).into_response())
}
