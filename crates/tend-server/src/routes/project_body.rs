//! The body of `POST /projects`: a JSON [`ProjectRequest`], or the text of a `tend.toml`
//! (`Content-Type: application/toml`, the web UI's pasted file) with `?name=NAME&dir=DIR`,
//! read by the loader `tend up -d` uses and turned into the same request.

use std::path::PathBuf;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, header};
use serde_json::{Map, Value};
use tend::wire::ProjectRequest;

use super::body::{JsonObject, Params, read_bytes};
use crate::error::ApiError;

/// The media type of a TOML body.
pub(crate) const TOML: &str = "application/toml";

/// The request as a JSON object, whichever way it came.
#[derive(Debug)]
pub(crate) struct ProjectBody(pub(crate) Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for ProjectBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_toml(request.headers()) {
            let JsonObject(body) = JsonObject::from_request(request, state).await?;
            return Ok(Self(body));
        }
        let (mut parts, body) = request.into_parts();
        let params = Params::from_request_parts(&mut parts, state).await?;
        params.only(&["name", "dir"])?;
        let name = params.get("name").ok_or_else(|| {
            ApiError::bad_request("query parameter `name`: required with a TOML body")
        })?;
        let dir = match params.get("dir") {
            Some(dir) if PathBuf::from(dir).is_absolute() => PathBuf::from(dir),
            Some(dir) => {
                return Err(ApiError::bad_request(format!(
                    "query parameter `dir`: `{dir}` is not an absolute directory"
                )));
            }
            None => std::env::current_dir().map_err(|e| {
                ApiError::bad_request(format!(
                    "query parameter `dir`: not given, and the daemon's directory is unreadable ({e})"
                ))
            })?,
        };
        let bytes = read_bytes(Request::from_parts(parts, body), state).await?;
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| ApiError::bad_request("body: the TOML text is not UTF-8"))?;
        let request = to_request(text, name.to_owned(), dir).await?;
        match serde_json::to_value(request) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            _ => Err(ApiError::bad_request("body: the TOML does not make a project request")),
        }
    }
}

fn is_toml(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case(TOML))
}

/// Reads the text as `tend up -d` reads `dir/tend.toml` (off the async threads: it parses up
/// to a MiB and reads `env_file`s); a bad file is a 400 naming the line.
async fn to_request(text: String, name: String, dir: PathBuf) -> Result<ProjectRequest, ApiError> {
    let dir_text = dir.to_str().map(str::to_owned).ok_or_else(|| {
        ApiError::bad_request(format!("query parameter `dir`: `{}` is not UTF-8", dir.display()))
    })?;
    let loaded =
        tokio::task::spawn_blocking(move || tend::runner::toml_json(&text, "tend.toml", &dir))
            .await
            .map_err(|e| {
                ApiError::bad_request(format!("body: the TOML could not be read ({e})"))
            })?;
    let (_, keys) = loaded.map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    let object = |key: &str| keys.get(key).and_then(Value::as_object).cloned();
    Ok(ProjectRequest {
        name,
        dir: dir_text,
        env: object("env"),
        env_file: keys.get("env_file").cloned(),
        steps: object("steps"),
        services: object("services"),
        jobs: None,
    })
}
