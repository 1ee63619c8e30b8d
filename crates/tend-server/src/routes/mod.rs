//! The route table.

pub(crate) mod body;
mod daemons;
mod hello;
mod pipelines;
mod processes;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::error::ApiError;
use crate::state::{MAX_BODY_BYTES, ServerState};
use crate::{guard, metrics, openapi, ws};

/// Builds the API: `/api/v1/...` (token required), `/health`, `/ready` and `/metrics`, all
/// behind the `Host` check, with bodies limited to 1 MiB (a larger `Content-Length` is refused
/// before reading) that must arrive within [`BODY_TIMEOUT`](crate::BODY_TIMEOUT).
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let state = tend_server::ServerState::new(tend::Service::new(), "token", listener.local_addr()?);
/// // Mount it beside your own routes, or serve it alone:
/// let app = axum::Router::new().merge(tend_server::router(state));
/// axum::serve(listener, app).await?;
/// # Ok(()) }
/// ```
pub fn router(state: ServerState) -> Router {
    let api = Router::new()
        .route("/processes", get(processes::list).post(processes::start))
        .route("/processes/run", post(processes::run))
        .route("/processes/{id}", get(processes::get).delete(processes::remove))
        .route("/processes/{id}/output", get(processes::output))
        .route("/processes/{id}/wait", post(processes::wait))
        .route("/processes/{id}/{action}", post(processes::control))
        .route("/daemons", get(daemons::list))
        .route("/daemons/{code}/{daemon}", get(daemons::get))
        .route("/daemons/{code}/{daemon}/health", get(daemons::health))
        .route("/daemons/{code}/{daemon}/stop", post(daemons::stop))
        .route("/pipelines", get(pipelines::list).post(pipelines::start))
        .route("/pipelines/{id}", get(pipelines::get))
        .route("/pipelines/{id}/cancel", post(pipelines::cancel))
        .route("/events", get(ws::events))
        .route("/openapi.json", get(openapi::document))
        .route("/hello", get(hello::hello));
    Router::new()
        .nest("/api/v1", api)
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics_text))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::guard))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Outermost: a huge body is refused before the token is even looked at.
        .layer(axum::middleware::from_fn(body::refuse_oversized))
        .with_state(state)
}

async fn health() -> &'static str {
    "ok"
}

async fn ready(State(state): State<ServerState>) -> Response {
    if state.is_ready() {
        "ready".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
    }
}

async fn metrics_text(State(state): State<ServerState>) -> Response {
    let body = metrics::render(&state);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route `{}`", uri.path()))
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("`{method}` is not allowed on `{}`", uri.path()),
    )
}
