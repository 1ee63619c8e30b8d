//! The client's half of the challenge: the server proves it holds the token before the
//! client sends it (the server's half is `tend_server`'s `/api/v1/hello`).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::anyhow;
use tend::http::{HttpError, Request};
use tend_server::{HELLO_PATH, Hello, verify_hello};

use super::{Client, Origin};

/// Bound on the challenge's exchange.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

impl Origin {
    fn describe(self) -> &'static str {
        match self {
            Origin::Flag => "from --server or TEND_SERVER",
            Origin::AddressFile => "from STATE_DIR/address",
            Origin::Registry => "from the daemon registry",
            Origin::Default => "the default address",
        }
    }
}

impl Client {
    /// Sends a fresh random nonce to `/api/v1/hello` (no token) and checks that the answer is
    /// HMAC-SHA256(token, nonce, address) for the address we connected to. A relay to a daemon
    /// on another address gets that daemon's address in its proof, and is refused too.
    pub(super) async fn prove(&self) -> anyhow::Result<()> {
        let nonce = tend_server::generate_token();
        let path = format!("{HELLO_PATH}?nonce={nonce}");
        let refuse = |reason: String| {
            anyhow!(
                "the server at http://{} ({}) did not prove that it holds the API token: {reason}; \
                 the token was not sent (is another program listening there, or another daemon?)",
                self.addr,
                self.origin.describe()
            )
        };
        // Without the token; a hello answer is a few hundred bytes.
        let request = Request::get(path).timeout(HELLO_TIMEOUT).max_answer(64 * 1024);
        let response = match request.send(&self.addr).await {
            Ok(response) => response,
            Err(e) if e.is_unreachable() => return Err(self.unreachable(&e)),
            Err(e) => return Err(refuse(format!("no valid answer to the challenge ({e})"))),
        };
        if response.status() != 200 {
            return Err(refuse(format!(
                "it answered the challenge with HTTP {}",
                response.status()
            )));
        }
        let hello: Hello = response
            .json()
            .map_err(|_| refuse("its answer to the challenge is not tend's".to_owned()))?;
        if !verify_hello(&self.token, &nonce, &hello.addr, &hello.proof) {
            return Err(refuse("its proof does not match the token".to_owned()));
        }
        if !same_endpoint(&self.addr, &hello.addr) {
            return Err(refuse(format!(
                "its proof is for {}, another address (a relay to another daemon?)",
                hello.addr
            )));
        }
        Ok(())
    }

    /// The error for a daemon that cannot be reached at all.
    pub(super) fn unreachable(&self, error: &HttpError) -> anyhow::Error {
        // The message names the address once.
        let error = match error {
            HttpError::Connect { error, .. } => error.to_string(),
            other => other.to_string(),
        };
        anyhow!(
            "cannot reach the tend daemon at http://{} ({}): {error} (start it with `tend daemon`)",
            self.addr,
            self.origin.describe()
        )
    }
}

/// Whether the server bound to `bound` is the one we dialed at `dialed` (`host:port`): the
/// ports agree and, when `dialed` names an IP, so do the IPs (a server bound to every address
/// answers on any). A host name is trusted to resolve to the server.
fn same_endpoint(dialed: &str, bound: &str) -> bool {
    let Ok(bound) = bound.parse::<SocketAddr>() else { return false };
    let Some((host, port)) = dialed.rsplit_once(':') else { return false };
    if port.parse::<u16>() != Ok(bound.port()) {
        return false;
    }
    match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        Ok(ip) => ip == bound.ip() || bound.ip().is_unspecified(),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_match_on_port_and_ip() {
        assert!(same_endpoint("127.0.0.1:7420", "127.0.0.1:7420"));
        assert!(same_endpoint("localhost:7420", "127.0.0.1:7420"));
        assert!(same_endpoint("10.0.0.5:7420", "0.0.0.0:7420"));
        assert!(same_endpoint("[::1]:7420", "[::1]:7420"));
        assert!(!same_endpoint("127.0.0.1:7420", "127.0.0.1:40000"));
        assert!(!same_endpoint("127.0.0.2:7420", "127.0.0.1:7420"));
        assert!(!same_endpoint("127.0.0.1:7420", "garbage"));
    }
}
