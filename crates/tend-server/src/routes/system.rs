//! `/health`, `/ready` and `/metrics`, outside `/api` and without a token.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::metrics;
use crate::state::ServerState;

/// `GET /health` → `ok` while the server answers.
pub(crate) async fn health() -> &'static str {
    "ok"
}

/// `GET /ready` → `ready`, or 503 `not ready` while a daemon is stopping.
pub(crate) async fn ready(State(state): State<ServerState>) -> Response {
    if state.is_ready() {
        "ready".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
    }
}

/// `GET /metrics` → Prometheus text.
pub(crate) async fn metrics(State(state): State<ServerState>) -> Response {
    let body = metrics::render(&state);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}
