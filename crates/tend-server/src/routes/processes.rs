//! `/api/v1/processes`: each route turns its path, query and body into the request of a
//! `process.*` action and [`call`]s it, so the API and every other caller of the actions
//! share one code path (the process limit and name lookup included).

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use tend::ProcessInfo;
use tend::wire::{Empty, IdRequest, LinesAnswer, LinesQuery, RunAnswer};

use super::body::{JsonObject, Params};
use super::call;
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

/// `GET /processes?status=&label=key=value`
pub(crate) async fn list(
    State(state): State<ServerState>,
    params: Params,
) -> ApiResult<Json<Vec<ProcessInfo>>> {
    params.only(&["status", "label"])?;
    let query: Map<String, Value> =
        params.0.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    Ok(Json(call(&state, "process.list", &query).await?))
}

/// `POST /processes` → 201 with the info.
pub(crate) async fn start(
    State(state): State<ServerState>,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let info: ProcessInfo = call(&state, "process.start", &body).await?;
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
    state.event_log().forget(removed.id);
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
    params.only(&["since", "format", "limit", "offset", "follow"])?;
    // Unknown ids are a 404 before any parameter is looked at.
    let info: ProcessInfo = call(&state, "process.get", &IdRequest { id: id.clone() }).await?;
    // Every parameter is checked whichever form is asked for, so a bad one is a 400 in both.
    let (since, limit) = (params.number("since")?, params.number("limit")?);
    let offset = params.number("offset")?.unwrap_or(0);
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
            return output_text(&process, offset, follow).await;
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "query parameter `format`: `{other}` is not json or text"
            )));
        }
    }
    let query = LinesQuery { id: info.id.to_string(), since, limit };
    let lines: LinesAnswer = call(&state, "process.lines", &query).await?;
    Ok(Json(lines).into_response())
}

/// How long `format=text&follow=true` waits for output beyond `offset` before answering with
/// nothing new; the client asks again.
const FOLLOW_WAIT: Duration = Duration::from_secs(10);

/// `?format=text[&offset=N][&follow=true]`: the captured bytes from byte `offset` on (0, the
/// first byte the process ever wrote, by default), both streams in order, exactly as written.
/// With `follow=true` it first waits (up to 10 s) until there is something past `offset` or
/// the process has ended. Headers say where the body starts and what is missing before it:
///
/// * `X-Tend-Offset`: the offset of the first byte of the body; ask for
///   `X-Tend-Offset + body length` next to follow;
/// * `X-Tend-Dropped-Bytes`: bytes between `offset` and the body that the capture ring
///   dropped before they were read;
/// * `X-Tend-Cut-Line`: `true` when bytes were dropped and the body starts inside a line;
/// * `X-Tend-Ended`: `true` when the process has ended and the body reaches the end of its
///   output: nothing more will come.
async fn output_text(process: &tend::Process, offset: u64, follow: bool) -> ApiResult<Response> {
    if follow {
        // Nothing new within the wait is an empty answer, not an error.
        let _ = tokio::time::timeout(FOLLOW_WAIT, process.wait_output(offset)).await;
    }
    let since = process.output_since(offset);
    // A zero timeout polls once: `Ok(false)` is "ended, and nothing past what we send".
    let ended = matches!(
        tokio::time::timeout(Duration::ZERO, process.wait_output(since.next_offset())).await,
        Ok(false)
    );
    let headers = [
        (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
        (HeaderName::from_static("x-tend-offset"), since.offset.to_string()),
        (HeaderName::from_static("x-tend-dropped-bytes"), since.dropped.to_string()),
        (HeaderName::from_static("x-tend-cut-line"), since.cut.to_string()),
        (HeaderName::from_static("x-tend-ended"), ended.to_string()),
    ];
    Ok((headers, since.bytes).into_response())
}
