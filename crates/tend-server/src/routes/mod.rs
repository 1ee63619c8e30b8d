//! The route table: every route of the API, listed once, each a thin layer over a named
//! action reached through [`call`].

pub(crate) mod body;
mod daemons;
mod hello;
mod output_text;
mod pipelines;
mod processes;
mod project_body;
mod projects;
mod system;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::routing::{MethodRouter, delete, get, post};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tend::wire::ErrorCode;

use crate::error::{ApiError, ApiResult};
use crate::state::{MAX_BODY_BYTES, ServerState};
use crate::{guard, openapi, ws};

/// One route of the table: its method, its path under `/api/v1`, and its handler.
type Route = (Method, &'static str, MethodRouter<ServerState>);

/// Every route under `/api/v1`, one line each.
fn table() -> Vec<Route> {
    vec![
        (Method::GET, "/processes", get(processes::list)),
        (Method::POST, "/processes", post(processes::start)),
        (Method::POST, "/processes/run", post(processes::run)),
        (Method::GET, "/processes/{id}", get(processes::get)),
        (Method::DELETE, "/processes/{id}", delete(processes::remove)),
        (Method::GET, "/processes/{id}/output", get(processes::output)),
        (Method::POST, "/processes/{id}/wait", post(processes::wait)),
        (Method::POST, "/processes/{id}/kill", post(processes::kill)),
        (Method::POST, "/processes/{id}/stop", post(processes::stop)),
        (Method::POST, "/processes/{id}/restart", post(processes::restart)),
        (Method::POST, "/processes/{id}/signal", post(processes::signal)),
        (Method::POST, "/processes/{id}/input", post(processes::input)),
        (Method::POST, "/processes/{id}/close-stdin", post(processes::close_stdin)),
        (Method::GET, "/pipelines", get(pipelines::list)),
        (Method::POST, "/pipelines", post(pipelines::start)),
        (Method::GET, "/pipelines/{id}", get(pipelines::get)),
        (Method::POST, "/pipelines/{id}/cancel", post(pipelines::cancel)),
        (Method::GET, "/projects", get(projects::list)),
        (Method::POST, "/projects", post(projects::apply)),
        (Method::GET, "/projects/{name}", get(projects::get)),
        (Method::DELETE, "/projects/{name}", delete(projects::delete)),
        (Method::POST, "/projects/{name}/reload", post(projects::reload)),
        (Method::POST, "/projects/{name}/services/{service}/start", post(projects::start)),
        (Method::POST, "/projects/{name}/services/{service}/stop", post(projects::stop)),
        (Method::POST, "/projects/{name}/services/{service}/restart", post(projects::restart)),
        (Method::GET, "/daemons", get(daemons::list)),
        (Method::GET, "/daemons/{code}/{daemon}", get(daemons::get)),
        (Method::GET, "/daemons/{code}/{daemon}/health", get(daemons::health)),
        (Method::POST, "/daemons/{code}/{daemon}/stop", post(daemons::stop)),
        (Method::GET, "/events", get(ws::events)),
        (Method::GET, "/openapi.json", get(openapi::document)),
        (Method::GET, "/hello", get(hello::hello)),
        (Method::POST, "/ui/login-codes", post(crate::ui::login_codes)),
    ]
}

/// Every route of the API as (method, path under `/api/v1`), in the order of the route
/// table; `/health`, `/ready` and `/metrics` are outside `/api` and not in it.
///
/// ```
/// let routes = tend_server::api_routes();
/// assert!(routes.iter().any(|(method, path)| method == "POST" && *path == "/processes/{id}/stop"));
/// ```
pub fn api_routes() -> Vec<(Method, &'static str)> {
    table().into_iter().map(|(method, path, _)| (method, path)).collect()
}

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
    // Routes of one path merge: each line of the table adds its method.
    let api =
        table().into_iter().fold(Router::new(), |api, (_, path, route)| api.route(path, route));
    Router::new()
        .nest("/api/v1", api)
        .route("/health", get(system::health))
        .route("/ready", get(system::ready))
        .route("/metrics", get(system::metrics))
        .merge(crate::ui::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::guard))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Outermost: a huge body is refused before the token is even looked at.
        .layer(axum::middleware::from_fn(body::refuse_oversized))
        .with_state(state)
}

/// The one way a route reaches an action: `request` to the action `name`, its answer decoded
/// as `Resp`, an [`ActionError`](crate::actions::ActionError) as the API's error.
pub(crate) async fn call<Req, Resp>(
    state: &ServerState,
    name: &str,
    request: &Req,
) -> ApiResult<Resp>
where
    Req: Serialize + ?Sized,
    Resp: DeserializeOwned,
{
    Ok(state.actions().call(name, request).await?)
}

/// As [`call`] with the JSON `options` of a request of type `Req`: a handler registered
/// typed for `Req` and `Resp` answers without JSON in between
/// ([`Actions::call_typed`](tend::actions::Actions::call_typed)); the hot routes (`GET` and
/// `POST /processes`) use it.
pub(crate) async fn call_typed<Req, Resp>(
    state: &ServerState,
    name: &str,
    options: Map<String, Value>,
) -> ApiResult<Resp>
where
    Req: DeserializeOwned + Send + 'static,
    Resp: DeserializeOwned + Send + 'static,
{
    Ok(state.actions().call_typed::<Req, Resp>(name, Value::Object(options)).await?)
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route `{}`", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("`{method}` is not allowed on `{}`", uri.path()),
    )
}
