//! The client side of the daemon's API, shared by `tend start`, `ps`, `logs`, `kill`, …
//!
//! The server is `--server URL`, else `TEND_SERVER`, else the address in the registry entry
//! of the running daemon (`tend`/`supervisor`), else `http://127.0.0.1:7420`. The token is
//! `--token`, else `TEND_TOKEN`, else the daemon's state directory's `token` file.

pub(crate) mod http;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, anyhow};
use clap::Args;
use serde_json::Value;
use tend::daemon::Registry;

use crate::UsageError;
use crate::commands::daemon::{DEFAULT_LISTEN, REGISTRY_CODE, REGISTRY_DAEMON, state_dir};

/// Bound on one ordinary request (waits and runs pass their own).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the daemon is and how to authenticate; flattened into every client command.
#[derive(Debug, Clone, Args)]
pub(crate) struct ClientArgs {
    /// The daemon's URL [default: $TEND_SERVER, else the registry entry, else
    /// http://127.0.0.1:7420].
    #[arg(long, value_name = "URL", env = "TEND_SERVER")]
    pub(crate) server: Option<String>,
    /// The API token [default: $TEND_TOKEN, else STATE_DIR/token].
    #[arg(long, value_name = "TOKEN", env = "TEND_TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// The daemon's state directory, to read the token from.
    #[arg(long, value_name = "DIR")]
    pub(crate) state_dir: Option<PathBuf>,
}

/// A connection setting for one command.
#[derive(Debug)]
pub(crate) struct Client {
    addr: String,
    token: String,
}

impl Client {
    /// Resolves the server and the token.
    pub(crate) fn new(args: &ClientArgs) -> anyhow::Result<Self> {
        let addr = match &args.server {
            Some(url) => host_port(url)?,
            None => registered().unwrap_or_else(|| DEFAULT_LISTEN.to_owned()),
        };
        let token = match &args.token {
            Some(token) => token.clone(),
            None => {
                let path = state_dir(args.state_dir.clone())?.join("token");
                std::fs::read_to_string(&path)
                    .map(|t| t.trim().to_owned())
                    .with_context(|| {
                        format!(
                            "cannot read the API token {} (is `tend daemon` running? else pass --token or TEND_TOKEN)",
                            path.display()
                        )
                    })?
            }
        };
        Ok(Self { addr, token })
    }

    /// Sends a request and returns the JSON answer; an error answer becomes an error naming
    /// its message, an unreachable daemon one saying how to start it.
    pub(crate) async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        self.call_within(method, path, body, REQUEST_TIMEOUT).await
    }

    /// [`call`](Self::call) with its own time bound.
    pub(crate) async fn call_within(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        timeout: Duration,
    ) -> anyhow::Result<Value> {
        let response = self.raw(method, path, body, timeout).await?;
        serde_json::from_slice(&response.body)
            .with_context(|| format!("the daemon's answer to {method} {path} is not JSON"))
    }

    /// Sends a request and returns the successful raw response.
    pub(crate) async fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        timeout: Duration,
    ) -> anyhow::Result<http::Response> {
        let body = body.map(|b| b.to_string());
        let url = format!("/api/v1{path}");
        let response = http::request(
            &self.addr,
            method,
            &url,
            Some(&self.token),
            body.as_deref().map(str::as_bytes),
            timeout,
        )
        .await
        .map_err(|e| {
            anyhow!(
                "cannot reach the tend daemon at http://{}: {e} (start it with `tend daemon`)",
                self.addr
            )
        })?;
        if (200..300).contains(&response.status) {
            return Ok(response);
        }
        let message = serde_json::from_slice::<Value>(&response.body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&response.body).into_owned());
        match response.status {
            400 => Err(UsageError(message).into()),
            401 => Err(anyhow!("the daemon refused the token: {message}")),
            _ => Err(anyhow!("{message}")),
        }
    }
}

/// `host:port` of an `http://` URL.
fn host_port(url: &str) -> anyhow::Result<String> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let host = rest.trim_end_matches('/');
    if host.is_empty() || host.contains('/') || url.starts_with("https://") {
        return Err(UsageError(format!("--server {url}: expected http://HOST:PORT")).into());
    }
    Ok(host.to_owned())
}

/// The running daemon's address from the registry, if there is one.
fn registered() -> Option<String> {
    let registry = Registry::from_env().ok()?;
    registry.get(REGISTRY_CODE, REGISTRY_DAEMON).ok()??.health
}

/// A one-shot runtime for a client command.
pub(crate) fn block_on<T>(
    future: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(future)
}

/// Sends one request about one process (`/processes/{id}{rest}`) on a one-shot runtime and
/// returns the JSON answer: all that `kill`, `rm`, `signal`, `input` and `close-stdin` do.
pub(crate) fn process_call(
    args: &ClientArgs,
    method: &str,
    id: &str,
    rest: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let client = Client::new(args)?;
    block_on(client.call(method, &process_path(id, rest), body))
}

/// `/processes/{id}` with the id encoded.
pub(crate) fn process_path(id: &str, rest: &str) -> String {
    format!("/processes/{}{rest}", http::segment(id))
}
