//! The API's one error shape: `{"error": {"code": "...", "message": "..."}}` with a status
//! that says whose fault it is. Bad input is always a 4xx naming the input, never a 500.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::actions::ActionError;

/// An API error: HTTP status, stable code, human message.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable machine-readable code, such as `not_found`.
    pub code: &'static str,
    /// What went wrong, naming the bad input where there is one.
    pub message: String,
}

impl ApiError {
    /// An error with the given parts.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    /// 400 `invalid_request`: a malformed body or parameter, named in the message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403 `forbidden`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
}

impl From<ActionError> for ApiError {
    fn from(error: ActionError) -> Self {
        let status = match &error {
            ActionError::InvalidOption { .. } => StatusCode::BAD_REQUEST,
            ActionError::NotFound { .. } => StatusCode::NOT_FOUND,
            ActionError::Evicted { .. } => StatusCode::GONE,
            ActionError::WrongState { .. } => StatusCode::CONFLICT,
            ActionError::LimitReached { .. } => StatusCode::TOO_MANY_REQUESTS,
            // A spawn failure is the request's fault (no such program, bad directory).
            ActionError::Failed { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ActionError::NotRegistered { .. } => StatusCode::NOT_IMPLEMENTED,
            ActionError::Unknown { .. } => StatusCode::NOT_FOUND,
            ActionError::InvalidRequest { .. } => StatusCode::BAD_REQUEST,
            ActionError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ActionError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            #[allow(unreachable_patterns)]
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, error.code(), error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        (self.status, axum::Json(body)).into_response()
    }
}

/// A route's result.
pub type ApiResult<T> = Result<T, ApiError>;
