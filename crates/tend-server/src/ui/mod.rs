//! The web UI: its pages at `/ui/` (embedded files, no auth: they hold no data), the
//! one-time login that turns a code from `tend ui` into a session cookie, and logout.
//!
//! * `GET /` and `GET /ui` → 308 to `/ui/`; `GET /favicon.ico` → 204; `GET /ui/` → `index.html`; `GET /ui/{file}` → the
//!   file ([`assets`]), with a strict Content-Security-Policy.
//! * `POST /api/v1/ui/login-codes` (token only) → 201 [`LoginCode`]; `GET /ui/login?code=C`
//!   → 303 to `/ui/` with `Set-Cookie: tend_session=…; HttpOnly; SameSite=Strict; Path=/`,
//!   or 401 and a page saying to run `tend ui` again.
//! * With the cookie, `/api` requests are authenticated as with the token; those that change
//!   state must pass [`cookie::check_write`] (the guard applies it), as must `POST /ui/logout`
//!   (204, the session ended and the cookie cleared).

pub(crate) mod assets;
pub(crate) mod cookie;
mod login_page;
mod sessions;

use std::time::Instant;

use axum::extract::{RawQuery, State};
use axum::http::header::{HOST, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use tend::wire::LoginCode;

use crate::error::{ApiError, ApiResult};
use crate::state::ServerState;
use cookie::SessionAuth;

pub(crate) use sessions::Sessions;
pub use sessions::{LOGIN_CODE_LIFETIME, MAX_LOGIN_CODES, MAX_SESSIONS, SESSION_IDLE};

/// The logout route, which the guard holds to the CSRF rule.
pub(crate) const LOGOUT_PATH: &str = "/ui/logout";

/// The UI's routes, outside `/api`.
pub(crate) fn routes() -> Router<ServerState> {
    Router::new()
        .route("/", get(to_ui))
        .route("/ui", get(to_ui))
        // Browsers ask for it on their own; no icon, and no 404 in the console.
        .route("/favicon.ico", get(StatusCode::NO_CONTENT))
        .route("/ui/", get(assets::index))
        .route("/ui/login", get(login))
        .route(LOGOUT_PATH, post(logout))
        .route("/ui/{*path}", get(assets::asset))
}

async fn to_ui() -> Redirect {
    Redirect::permanent("/ui/")
}

/// `POST /api/v1/ui/login-codes` → 201 a one-time login code and its link. Only with the
/// token: a browser session cannot make more sessions.
pub(crate) async fn login_codes(
    State(state): State<ServerState>,
    session: Option<Extension<SessionAuth>>,
    headers: HeaderMap,
) -> ApiResult<(StatusCode, Json<LoginCode>)> {
    if session.is_some() {
        return Err(ApiError::forbidden(
            "login codes are made with the API token (`tend ui`), not with a browser session",
        ));
    }
    let sessions = &state.inner.sessions;
    let code = sessions.issue_code(Instant::now());
    // The address the caller reached us by (checked against ours unless the daemon serves
    // the network, where the caller's own name for it is the one its browser can use).
    let host = headers
        .get(HOST)
        .and_then(|host| host.to_str().ok())
        .filter(|host| !host.is_empty())
        .unwrap_or(&state.inner.hosts[0]);
    let url = format!("http://{host}/ui/login?code={code}");
    let expires_in_ms = u64::try_from(sessions.code_lifetime().as_millis()).unwrap_or(u64::MAX);
    Ok((StatusCode::CREATED, Json(LoginCode { code, url, expires_in_ms })))
}

/// `GET /ui/login?code=C` → 303 to `/ui/` with the session cookie, or the refusal page.
async fn login(State(state): State<ServerState>, RawQuery(query): RawQuery) -> Response {
    let code = query
        .as_deref()
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("code="))
        .unwrap_or_default();
    match state.inner.sessions.redeem(code, Instant::now()) {
        Some(secret) => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            let headers = response.headers_mut();
            headers.insert(LOCATION, HeaderValue::from_static("/ui/"));
            headers.insert(SET_COOKIE, cookie::set_cookie(&secret));
            headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
            headers.insert("cache-control", HeaderValue::from_static("no-store"));
            response
        }
        None => login_page::refused(),
    }
}

/// `POST /ui/logout` → 204: the session ends, the browser forgets the cookie.
async fn logout(State(state): State<ServerState>, headers: HeaderMap) -> Response {
    if let Some(secret) = cookie::session_of(&headers) {
        state.inner.sessions.end(secret);
    }
    (StatusCode::NO_CONTENT, [(SET_COOKIE, cookie::clear_cookie())]).into_response()
}
