//! The API's one error shape, [`ErrorBody`](tend::wire::ErrorBody):
//! `{"error": {"code": "...", "message": "..."}}`, with the HTTP status of its
//! [`ErrorCode`]. Bad input is always a 4xx naming the input, never a 500.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tend::wire::{self, ErrorBody, ErrorCode};

use crate::actions::ActionError;

/// An API error: a wire [`ApiError`](wire::ApiError) (code and message) and the HTTP status
/// it is answered with, which is its code's unless said otherwise.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The code and message, as the body carries them.
    pub error: wire::ApiError,
}

impl ApiError {
    /// An error of kind `code`, with its status.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let status =
            StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self { status, error: wire::ApiError::new(code, message) }
    }

    /// An error of kind `code` answered with another status (a refused WebSocket handshake
    /// keeps axum's 405 or 426).
    pub fn with_status(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self { status, error: wire::ApiError::new(code, message) }
    }

    /// 400 `invalid_request`: a malformed body or parameter, named in the message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    /// 403 `forbidden`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// The code.
    pub fn code(&self) -> ErrorCode {
        self.error.code
    }
}

impl From<ActionError> for ApiError {
    fn from(error: ActionError) -> Self {
        Self::new(error.error_code(), error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(ErrorBody::from(self.error))).into_response()
    }
}

/// A route's result.
pub type ApiResult<T> = Result<T, ApiError>;
