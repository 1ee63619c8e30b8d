//! The session cookie, and the rule a request authenticated by it must also pass.
//!
//! `SameSite=Strict` already keeps browsers from sending the cookie with requests another
//! site starts, but not every browser honours it, and a page on another port of the same
//! host counts as the same site. So a cookie-authenticated request that changes state must
//! also carry `X-Tend-Csrf: 1` (which no cross-origin page can add without a CORS preflight,
//! which this server never grants), and its `Origin`, when the browser sends one, must be
//! this server's; a cookie-authenticated WebSocket must name this server's `Origin`.

use axum::http::header::{COOKIE, ORIGIN};
use axum::http::{HeaderMap, HeaderValue, Method};

use crate::error::ApiError;
use crate::state::StateInner;

/// The cookie's name.
pub(crate) const SESSION_COOKIE: &str = "tend_session";
/// The header a cookie-authenticated request that changes state must carry, with value `1`.
pub(crate) const CSRF_HEADER: &str = "x-tend-csrf";

/// Marks a request authenticated by the session cookie (not the token).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionAuth;

/// The session secret in the request's cookies, if any.
pub(crate) fn session_of(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
        .filter(|secret| !secret.is_empty())
}

/// `Set-Cookie` for a new session.
pub(crate) fn set_cookie(secret: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("{SESSION_COOKIE}={secret}; HttpOnly; SameSite=Strict; Path=/"))
        .expect("a hex secret is a valid header value")
}

/// `Set-Cookie` that makes the browser forget the session.
pub(crate) fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("tend_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

/// The rule for a cookie-authenticated request (see the module's documentation).
pub(crate) fn check_request(
    inner: &StateInner,
    method: &Method,
    headers: &HeaderMap,
    upgrade: bool,
) -> Result<(), ApiError> {
    // A foreign `Origin` on an upgrade was refused already, whoever authenticates it.
    if upgrade && !headers.contains_key(ORIGIN) {
        return Err(ApiError::forbidden(
            "a WebSocket authenticated by the session cookie must send this server's Origin",
        ));
    }
    if upgrade || *method == Method::GET || *method == Method::HEAD {
        return Ok(());
    }
    check_write(inner, headers)
}

/// The rule for a cookie-authenticated request that changes state: `X-Tend-Csrf: 1`, and
/// this server's `Origin` when one is sent.
pub(crate) fn check_write(inner: &StateInner, headers: &HeaderMap) -> Result<(), ApiError> {
    if let Some(origin) = headers.get(ORIGIN) {
        let origin = origin.to_str().unwrap_or("(not text)");
        if !inner.origins.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
            return Err(ApiError::forbidden(format!(
                "Origin `{origin}` refused: only this server's own pages may change state \
                 with the session cookie (expected {})",
                inner.origins[0]
            )));
        }
    }
    if headers.get(CSRF_HEADER).is_none_or(|value| value != "1") {
        return Err(ApiError::forbidden(
            "missing header `X-Tend-Csrf: 1`: a request authenticated by the session cookie \
             that changes state must carry it (the web UI sends it)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_is_found_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_static("a=1; tend_session=abc; b=2"));
        assert_eq!(session_of(&headers), Some("abc"));
        headers.insert(COOKIE, HeaderValue::from_static("tend_session_old=x; tend_session="));
        assert_eq!(session_of(&headers), None);
    }
}
