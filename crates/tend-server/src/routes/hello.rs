//! `GET /api/v1/hello?nonce=HEX`: the server proves it holds the token, without the client
//! sending it (see `token.rs`). The only `/api` route that needs no token.

use axum::Json;
use axum::extract::{RawQuery, State};

use crate::error::{ApiError, ApiResult};
use crate::state::ServerState;
use crate::token::{HELLO_NONCE_HEX, Hello, hello_proof};

/// Answers the bound address and the proof for the client's nonce.
pub(crate) async fn hello(
    State(state): State<ServerState>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Hello>> {
    let nonce = nonce(query.as_deref().unwrap_or_default())?;
    // `hosts[0]` is the bound address as the server writes it.
    let addr = state.inner.hosts[0].clone();
    let proof = hello_proof(&state.inner.token, nonce, &addr);
    Ok(Json(Hello { addr, proof }))
}

fn nonce(query: &str) -> Result<&str, ApiError> {
    let mut nonce = None;
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        match pair.split_once('=') {
            Some(("nonce", value)) if nonce.is_none() => nonce = Some(value),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "query `{pair}`: only one `nonce` parameter is accepted"
                )));
            }
        }
    }
    let nonce = nonce.ok_or_else(|| ApiError::bad_request("missing query parameter `nonce`"))?;
    if !HELLO_NONCE_HEX.contains(&nonce.len()) || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad_request(format!(
            "nonce `{}`: expected {} to {} hex digits",
            nonce.chars().take(200).collect::<String>(),
            HELLO_NONCE_HEX.start(),
            HELLO_NONCE_HEX.end()
        )));
    }
    Ok(nonce)
}
