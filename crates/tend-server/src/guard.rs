//! The checks in front of every route: `Host` (DNS rebinding), the bearer token (or the web
//! UI's session cookie, with its CSRF rule: `ui::cookie`) on `/api`, and `Origin` on WebSocket
//! upgrades.
//!
//! A web page on another site can make a browser send requests to `127.0.0.1`; with DNS
//! rebinding it can even read the answers, under its own host name. Requiring the bound
//! address in `Host` defeats the rebinding, the token defeats blind requests, and the
//! `Origin` check stops a page from opening an event stream with a token it guessed or stole.

use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, HOST, ORIGIN, UPGRADE};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::ServerState;
use crate::ui;

/// Refuses requests with a foreign `Host`, then hands `/api` requests to [`check_token`].
pub(crate) async fn guard(
    State(state): State<ServerState>,
    mut request: Request,
    next: Next,
) -> Response {
    match check(&state, &mut request) {
        Ok(()) => next.run(request).await,
        Err(error) => {
            state.inner.metrics.refused.fetch_add(1, Ordering::Relaxed);
            error.into_response()
        }
    }
}

fn check(state: &ServerState, request: &mut Request) -> Result<(), ApiError> {
    let inner = &state.inner;
    let headers = request.headers();
    if inner.check_host {
        let host = headers.get(HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
        if !inner.hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(host)) {
            return Err(ApiError::forbidden(format!(
                "Host `{host}` is not this server's address (expected {})",
                inner.hosts[0]
            )));
        }
    }
    if request.uri().path() == ui::LOGOUT_PATH {
        return ui::cookie::check_write(inner, headers);
    }
    // The challenge is how a client decides whether to send its token at all.
    if !request.uri().path().starts_with("/api/") || request.uri().path() == crate::HELLO_PATH {
        return Ok(());
    }
    let upgrade = headers.contains_key(UPGRADE);
    if upgrade && let Some(origin) = headers.get(ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        if !inner.origins.iter().any(|allowed| allowed.eq_ignore_ascii_case(origin)) {
            return Err(ApiError::forbidden(format!(
                "WebSocket from Origin `{origin}` refused: only this server's own pages may connect"
            )));
        }
    }
    let header_token = headers
        .get(AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim);
    // Browsers cannot set headers on a WebSocket, so upgrades may carry `?token=` instead.
    let query_token = if upgrade { request.uri().query().and_then(token_from_query) } else { None };
    match header_token.map(str::to_owned).or(query_token) {
        None => match ui::cookie::session_of(headers) {
            Some(secret) if inner.sessions.touch(secret, Instant::now()) => {
                ui::cookie::check_request(inner, request.method(), headers, upgrade)?;
                request.extensions_mut().insert(ui::cookie::SessionAuth);
                Ok(())
            }
            Some(_) => Err(ApiError::unauthorized(
                "the web UI session has ended (daemon restarted, logged out or 12 h idle): run \
                 `tend ui` for a new login link",
            )),
            None => Err(ApiError::unauthorized(
                "missing token: send `Authorization: Bearer TOKEN` (the token is in \
                 STATE_DIR/token)",
            )),
        },
        Some(token) if same(token.as_bytes(), inner.token.as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::unauthorized("wrong token")),
    }
}

fn token_from_query(query: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == "token").then(|| value.to_owned())
    })
}

/// Compares in time independent of where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comparison_and_query() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
        assert_eq!(token_from_query("since=3&token=xyz").as_deref(), Some("xyz"));
        assert_eq!(token_from_query("since=3"), None);
    }
}
