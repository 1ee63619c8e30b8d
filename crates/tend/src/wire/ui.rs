//! The answer of `POST /api/v1/ui/login-codes`: a one-time login link for the web UI.

use serde::{Deserialize, Serialize};

/// A one-time login code for the daemon's web UI and the link that exchanges it for a
/// browser session (`tend ui` prints the link).
///
/// ```
/// let answer: tend::wire::LoginCode = serde_json::from_str(
///     r#"{"code": "ab12", "url": "http://127.0.0.1:7420/ui/login?code=ab12", "expires_in_ms": 60000}"#,
/// ).unwrap();
/// assert_eq!(answer.expires_in_ms, 60_000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginCode {
    /// The code: 256 random bits, hex. It is good for one login.
    pub code: String,
    /// `http://HOST:PORT/ui/login?code=CODE`, the address the request was sent to.
    pub url: String,
    /// How long the code stays good, in milliseconds (60000).
    pub expires_in_ms: u64,
}
