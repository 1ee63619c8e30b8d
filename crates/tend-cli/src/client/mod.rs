//! The client side of the daemon's API, shared by `tend start`, `ps`, `logs`, `kill`, …
//!
//! The server is `--server URL`, else `TEND_SERVER`, else the address `tend daemon` wrote in
//! `STATE_DIR/address`, else the address in the registry entry of the daemon of that state
//! directory, else `http://127.0.0.1:7420`. The token is `--token`, else `TEND_TOKEN`, else
//! `STATE_DIR/token` (a 0600 regular file of this user, never read through a link).
//!
//! The token goes only to a server that proved it holds it: before the first authenticated
//! request, the client sends a random nonce to `/api/v1/hello` and checks the answer (see
//! [`prove`](Client::prove)). A stale address, a foreign program on the default port or a
//! relay to another daemon never sees the token.

pub(crate) mod autostart;
pub(crate) mod events;
mod prove;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, anyhow};
use clap::Args;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tend::http::{Answer, Request};
use tend::wire::ErrorBody;
use tokio::sync::OnceCell;

use crate::UsageError;
use crate::commands::daemon::{DEFAULT_LISTEN, state_dir};

/// Bound on one ordinary request (waits and runs pass their own).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound on one answer's body: far above a list of every process the daemon keeps or a run's
/// captured output (a ring of 1 MiB, escaped as JSON).
const MAX_ANSWER: usize = 256 << 20;

/// Where the daemon is and how to authenticate; flattened into every client command.
#[derive(Debug, Clone, Args)]
pub(crate) struct ClientArgs {
    /// The daemon's URL [default: $TEND_SERVER, else STATE_DIR/address, else the registry
    /// entry, else http://127.0.0.1:7420]. The token is sent only once the server proved it
    /// holds it.
    #[arg(long, value_name = "URL", env = "TEND_SERVER")]
    pub(crate) server: Option<String>,
    /// The API token [default: $TEND_TOKEN, else STATE_DIR/token].
    #[arg(long, value_name = "TOKEN", env = "TEND_TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// The daemon's state directory, to read the token and address from.
    #[arg(long, value_name = "DIR")]
    pub(crate) state_dir: Option<PathBuf>,
}

/// Where the server address came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// `--server` or `TEND_SERVER`.
    Flag,
    /// `STATE_DIR/address`.
    AddressFile,
    /// The registry entry of the state directory's daemon.
    Registry,
    /// The default address.
    Default,
}

/// A connection setting for one command.
///
/// Every request carrying the token goes through [`raw`](Self::raw), which proves the server
/// first; a new way of sending the token must do the same.
#[derive(Debug)]
pub(crate) struct Client {
    addr: String,
    origin: Origin,
    token: String,
    proven: OnceCell<()>,
}

impl Client {
    /// Resolves the server and the token.
    pub(crate) fn new(args: &ClientArgs) -> anyhow::Result<Self> {
        // Checked once, and only when the server or the token is to be read from it.
        let mut checked: Option<PathBuf> = None;
        let mut dir = || -> anyhow::Result<PathBuf> {
            if let Some(dir) = &checked {
                return Ok(dir.clone());
            }
            let dir = state_dir(args.state_dir.clone())?;
            if !dir.exists() {
                anyhow::bail!(
                    "no daemon has run with the state directory {} (start one with `tend daemon`, \
                     or pass --server and --token)",
                    dir.display()
                );
            }
            let dir = crate::state_dir::secure(&dir, false)
                .context("cannot use the state directory (is `tend daemon` running? else pass --server and --token)")?;
            Ok(checked.insert(dir).clone())
        };
        let (addr, origin) = match &args.server {
            Some(url) => (host_port(url)?, Origin::Flag),
            None => match dir() {
                Ok(dir) => discover(&dir)?,
                // With the token given, the daemon may keep its state elsewhere.
                Err(_)
                    if args.token.is_some()
                        && !state_dir(args.state_dir.clone()).is_ok_and(|d| d.exists()) =>
                {
                    (DEFAULT_LISTEN.to_owned(), Origin::Default)
                }
                Err(e) => return Err(e),
            },
        };
        let token = match &args.token {
            Some(token) => token.clone(),
            None => tend_server::read_token(&dir()?).context(
                "cannot read the API token (is `tend daemon` running? else pass --token or TEND_TOKEN)",
            )?,
        };
        Ok(Self { addr, origin, token, proven: OnceCell::new() })
    }

    /// Sends a request (`body` encoded as JSON) and decodes the answer into `Resp`; an error
    /// answer becomes an error naming its message, an unreachable daemon one saying how to
    /// start it.
    pub(crate) async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<&Req>,
    ) -> anyhow::Result<Resp> {
        self.call_within(method, path, body, REQUEST_TIMEOUT).await
    }

    /// [`call`](Self::call) with its own time bound.
    pub(crate) async fn call_within<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<&Req>,
        timeout: Duration,
    ) -> anyhow::Result<Resp> {
        let body = body.map(serde_json::to_value).transpose()?;
        let response = self.raw(method, path, body, timeout).await?;
        response.json().with_context(|| {
            format!("the daemon's answer to {method} {path} is not what this client expects")
        })
    }

    /// Sends `request` about process `id` to `/processes/{id}{rest}` and decodes the answer.
    /// The path carries the id: the request's own `id` is left empty, and so not sent.
    pub(crate) async fn process_within<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        method: &str,
        id: &str,
        rest: &str,
        request: Option<&Req>,
        timeout: Duration,
    ) -> anyhow::Result<Resp> {
        self.call_within(method, &process_path(id, rest), request, timeout).await
    }

    /// Sends a request and returns the successful raw answer.
    pub(crate) async fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        timeout: Duration,
    ) -> anyhow::Result<Answer> {
        self.proven.get_or_try_init(|| self.prove()).await?;
        let mut request = Request::new(method, format!("/api/v1{path}"))
            .bearer(&self.token)
            .timeout(timeout)
            .max_answer(MAX_ANSWER);
        if let Some(body) = &body {
            request = request.json(body);
        }
        let response = request.send(&self.addr).await.map_err(|e| self.unreachable(&e))?;
        if response.is_success() {
            return Ok(response);
        }
        let message = match response.json::<ErrorBody>() {
            Ok(body) => body.error.message,
            Err(_) => response.text(),
        };
        match response.status() {
            400 => Err(UsageError(message).into()),
            401 => Err(anyhow!("the daemon refused the token: {message}")),
            _ => Err(anyhow!("{message}")),
        }
    }
}

/// The daemon's address from its state directory `dir`: the address file, else the registry
/// entry, else the default.
fn discover(dir: &std::path::Path) -> anyhow::Result<(String, Origin)> {
    if let Some(addr) = crate::state_dir::read_address(dir)? {
        return Ok((addr, Origin::AddressFile));
    }
    Ok(match crate::state_dir::registered_address(dir) {
        Some(addr) => (addr, Origin::Registry),
        None => (DEFAULT_LISTEN.to_owned(), Origin::Default),
    })
}

/// `host:port` of an `http://` URL.
pub(crate) fn host_port(url: &str) -> anyhow::Result<String> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let host = rest.trim_end_matches('/');
    if host.is_empty() || host.contains('/') || url.starts_with("https://") {
        return Err(UsageError(format!("--server {url}: expected http://HOST:PORT")).into());
    }
    Ok(host.to_owned())
}

/// A one-shot runtime for a client command.
pub(crate) fn block_on<T>(
    future: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(future)
}

/// Sends one request about one process (`/processes/{id}{rest}`) on a one-shot runtime and
/// returns the decoded answer: all that `kill`, `rm`, `signal`, `input` and `close-stdin` do.
pub(crate) fn process_call<Req: Serialize, Resp: DeserializeOwned>(
    args: &ClientArgs,
    method: &str,
    id: &str,
    rest: &str,
    request: Option<&Req>,
) -> anyhow::Result<Resp> {
    let client = Client::new(args)?;
    block_on(client.process_within(method, id, rest, request, REQUEST_TIMEOUT))
}

/// The `body` of a request that sends none.
pub(crate) const NO_BODY: Option<&()> = None;

/// `/processes/{id}` with the id encoded.
pub(crate) fn process_path(id: &str, rest: &str) -> String {
    format!("/processes/{}{rest}", tend::http::segment(id))
}
