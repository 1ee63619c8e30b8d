//! Errors on the wire: [`ErrorCode`] (one per kind of error, each with its HTTP status),
//! [`ApiError`] and [`ErrorBody`] (the JSON body of every 4xx and 5xx answer), and
//! [`Invalid`], bad input naming its key.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The kind of an error, stable and machine-readable (snake_case on the wire). The same kind
/// of bad input has the same code whichever action or route refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// 400: a malformed body, parameter or option; the message names it.
    InvalidRequest,
    /// 401: no bearer token, or the wrong one.
    Unauthorized,
    /// 403: not allowed (a foreign `Host` or `Origin`, a daemon we may not signal).
    Forbidden,
    /// 404: no such route, process, pipeline or daemon.
    NotFound,
    /// 405: the route exists but not with this method.
    MethodNotAllowed,
    /// 408: the body did not arrive in time.
    RequestTimeout,
    /// 409: not in a state that allows this (not running, still running, stdin closed,
    /// already ended).
    WrongState,
    /// 409: a name matches more than one process; the message lists their ids.
    Ambiguous,
    /// 409: the name asked for belongs to a process that has not finished.
    NameTaken,
    /// 410: the process ended and its record was dropped from the bounded table.
    Evicted,
    /// 413: the body is too large.
    PayloadTooLarge,
    /// 422: the operation failed, e.g. the program could not be started.
    Failed,
    /// 429: a limit (such as the number of running processes) was reached.
    LimitReached,
    /// 500: something broke on the serving side.
    Internal,
    /// 501: no action is registered under the name.
    NotRegistered,
    /// 503: every connection the server allows is busy.
    TooManyConnections,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::InvalidRequest,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::RequestTimeout,
        ErrorCode::WrongState,
        ErrorCode::Ambiguous,
        ErrorCode::NameTaken,
        ErrorCode::Evicted,
        ErrorCode::PayloadTooLarge,
        ErrorCode::Failed,
        ErrorCode::LimitReached,
        ErrorCode::Internal,
        ErrorCode::NotRegistered,
        ErrorCode::TooManyConnections,
    ];

    /// The HTTP status the API answers with.
    ///
    /// ```
    /// use tend::wire::ErrorCode;
    /// assert_eq!(ErrorCode::InvalidRequest.status(), 400);
    /// assert_eq!(ErrorCode::LimitReached.status(), 429);
    /// ```
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidRequest => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::RequestTimeout => 408,
            ErrorCode::WrongState | ErrorCode::Ambiguous | ErrorCode::NameTaken => 409,
            ErrorCode::Evicted => 410,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::Failed => 422,
            ErrorCode::LimitReached => 429,
            ErrorCode::Internal => 500,
            ErrorCode::NotRegistered => 501,
            ErrorCode::TooManyConnections => 503,
        }
    }

    /// The code as written on the wire: `invalid_request`, `not_found`, …
    ///
    /// ```
    /// assert_eq!(tend::wire::ErrorCode::WrongState.as_str(), "wrong_state");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::RequestTimeout => "request_timeout",
            ErrorCode::WrongState => "wrong_state",
            ErrorCode::Ambiguous => "ambiguous",
            ErrorCode::NameTaken => "name_taken",
            ErrorCode::Evicted => "evicted",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::Failed => "failed",
            ErrorCode::LimitReached => "limit_reached",
            ErrorCode::Internal => "internal",
            ErrorCode::NotRegistered => "not_registered",
            ErrorCode::TooManyConnections => "too_many_connections",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// An error as the API reports it: its kind and a message naming the bad input, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[error("{message} ({code})")]
pub struct ApiError {
    /// The kind.
    pub code: ErrorCode,
    /// What went wrong, for people.
    pub message: String,
}

impl ApiError {
    /// An error of kind `code`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

/// The JSON body of every error answer: `{"error": {"code": "...", "message": "..."}}`.
///
/// ```
/// use tend::wire::{ApiError, ErrorBody, ErrorCode};
/// let body: ErrorBody =
///     serde_json::from_str(r#"{"error":{"code":"not_found","message":"no process `x`"}}"#).unwrap();
/// assert_eq!(body.error, ApiError::new(ErrorCode::NotFound, "no process `x`"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// The error.
    pub error: ApiError,
}

impl From<ApiError> for ErrorBody {
    fn from(error: ApiError) -> Self {
        Self { error }
    }
}

/// Bad input, naming the key it is about (`options` for the request as a whole). Its code on
/// the wire is [`ErrorCode::InvalidRequest`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid option `{key}`: {message}")]
pub struct Invalid {
    /// The key: `timeout`, `args`, `steps[0]`, or `options` for the whole request.
    pub key: String,
    /// What is wrong with it.
    pub message: String,
}

impl Invalid {
    /// Bad input under `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self { key: key.into(), message: message.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_its_own_name_on_the_wire_with_a_4xx_or_5xx() {
        for &code in ErrorCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, code.as_str());
            assert_eq!(serde_json::from_value::<ErrorCode>(json).unwrap(), code);
            assert!((400..600).contains(&code.status()), "{code}");
        }
    }

    #[test]
    fn an_error_body_round_trips_and_refuses_unknown_keys() {
        let body = ErrorBody::from(ApiError::new(ErrorCode::LimitReached, "3 running"));
        let text = serde_json::to_string(&body).unwrap();
        assert_eq!(text, r#"{"error":{"code":"limit_reached","message":"3 running"}}"#);
        assert_eq!(serde_json::from_str::<ErrorBody>(&text).unwrap(), body);
        let extra = r#"{"error":{"code":"failed","message":"m","hint":1}}"#;
        assert!(serde_json::from_str::<ErrorBody>(extra).unwrap_err().to_string().contains("hint"));
    }
}
