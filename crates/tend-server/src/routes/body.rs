//! Request bodies and query strings, with errors in the API's shape that name the input.

use std::collections::HashMap;

use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Map, Value};
use tend::wire::ErrorCode;

use crate::error::ApiError;
use crate::state::{BODY_TIMEOUT, MAX_BODY_BYTES};

/// Refuses a request whose `Content-Length` is over [`MAX_BODY_BYTES`] before a byte of the
/// body is read (413), and closes its connection rather than draining gigabytes.
pub(crate) async fn refuse_oversized(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    match declared {
        Some(length) if length > MAX_BODY_BYTES as u64 => {
            let mut response = too_large(format!(
                "body: Content-Length {length} is larger than {MAX_BODY_BYTES} bytes"
            ))
            .into_response();
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
        _ => next.run(request).await,
    }
}

fn too_large(message: String) -> ApiError {
    ApiError::new(ErrorCode::PayloadTooLarge, message)
}

/// A JSON object body; an empty body reads as `{}`.
#[derive(Debug, Default)]
pub(crate) struct JsonObject(pub(crate) Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_bytes(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(ApiError::bad_request("body: must be a JSON object")),
            Err(e) => Err(ApiError::bad_request(format!("body: not valid JSON ({e})"))),
        }
    }
}

/// The whole body, within [`BODY_TIMEOUT`] and [`MAX_BODY_BYTES`].
pub(crate) async fn read_bytes<S: Send + Sync>(
    request: Request,
    state: &S,
) -> Result<Bytes, ApiError> {
    let read = Bytes::from_request(request, state);
    tokio::time::timeout(BODY_TIMEOUT, read)
        .await
        .map_err(|_| {
            ApiError::new(
                ErrorCode::RequestTimeout,
                format!("body: not received within {}s", BODY_TIMEOUT.as_secs()),
            )
        })?
        .map_err(body_error)
}

fn body_error(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(format!("body: larger than {MAX_BODY_BYTES} bytes"))
    } else {
        ApiError::bad_request(format!("body: {rejection}"))
    }
}

/// The query string as a map; a malformed one is a 400.
#[derive(Debug, Default)]
pub(crate) struct Params(pub(crate) HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|Query(map)| Self(map))
            .map_err(|e| ApiError::bad_request(format!("query string: {e}")))
    }
}

impl Params {
    /// Refuses parameters other than `allowed`, naming the first one.
    pub(crate) fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(key) => Err(ApiError::bad_request(format!("query parameter `{key}`: unknown"))),
            None => Ok(()),
        }
    }

    /// A string parameter.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// A non-negative integer parameter.
    pub(crate) fn number(&self, key: &str) -> Result<Option<u64>, ApiError> {
        self.get(key)
            .map(|v| {
                v.parse().map_err(|_| {
                    ApiError::bad_request(format!(
                        "query parameter `{key}`: `{v}` is not a non-negative integer"
                    ))
                })
            })
            .transpose()
    }
}
