//! The page a refused login link gets: used, unknown or expired, it says what to do.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::assets::page_headers;

/// What the page says (the tests look for it).
pub(crate) const REFUSED: &str =
    "This login link has expired or was already used. Run `tend ui` again for a new one.";

/// 401 with a short HTML page saying to run `tend ui` again.
pub(crate) fn refused() -> Response {
    let page = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
         <title>tend: login link refused</title></head>\n\
         <body>\n<h1>Login link refused</h1>\n<p>{}</p>\n</body>\n</html>\n",
        REFUSED.replace("`tend ui`", "<code>tend ui</code>")
    );
    (StatusCode::UNAUTHORIZED, page_headers("text/html; charset=utf-8"), page).into_response()
}
