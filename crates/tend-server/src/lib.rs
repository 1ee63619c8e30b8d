//! # tend-server — the supervisor's REST + WebSocket API as an [`axum::Router`]
//!
//! [`router`] builds the API over a [`ServerState`] (a [`tend::Service`], the named actions
//! every route dispatches through, the [`EventLog`] and the security settings). Mount it in
//! any axum program, or run `tend daemon`, which serves it on `127.0.0.1:7420`.
//!
//! * `/api/v1/processes…` start, run, list, inspect, wait for, feed, signal, stop and remove
//!   managed processes; `/api/v1/pipelines…` run pipelines (the pipeline file's schema as
//!   JSON) on the same service, follow their live report and cancel them;
//!   `/api/v1/projects…` apply stacks of services and steps under a name, kept running by
//!   the daemon (`POST /projects`, `GET /projects`, `GET /projects/{name}`,
//!   `POST /projects/{name}/reload`, `DELETE /projects/{name}`, and
//!   `POST /projects/{name}/services/{service}/start|stop|restart`);
//!   `/api/v1/daemons…` read the daemon registry; `/api/v1/events` is a WebSocket of process
//!   and pipeline events, replayed from the log then live; `/api/v1/openapi.json` describes
//!   it all (OpenAPI 3.1).
//! * `/health`, `/ready` and `/metrics` (Prometheus text) sit outside `/api`, as does the web
//!   UI: `/` redirects to `/ui/`, whose files are compiled in (no auth: they hold no data).
//! * Every `/api` route but the `/events` stream and `output?format=text` (raw bytes) is a
//!   named action, so a program holding the [`ServerState`] can do through
//!   [`ServerState::actions`] whatever the API does, with the same rules (the process limit
//!   included): the library's `process.*` actions, and those the server registers beside
//!   them: `process.lines` (the `output` pages), `daemon.list`/`get`/`health`/`stop` and
//!   `pipeline.start`/`list`/`get`/`cancel`, `project.apply`/`list`/`get`/`reload`/`delete`/
//!   `service_start`/`service_stop`/`service_restart`. Requests and answers are the
//!   [`tend::wire`] types; [`api_routes`] lists every route.
//! * Errors are `{"error": {"code", "message"}}` ([`tend::wire::ErrorBody`], one
//!   [`ErrorCode`](tend::wire::ErrorCode) per kind): 400 `invalid_request` bad input
//!   (named), 401 token, 403 foreign `Host`/`Origin`, 404 unknown id, 408 body not sent
//!   within 10 s, 409 wrong state, 410 a finished process the table no longer holds
//!   (`evicted`), 413 body over 1 MiB (an oversized `Content-Length` is refused before a
//!   byte of it is read), 429 process limit, 503 every connection busy.
//! * [`serve`] serves the router with the bounds a client without a token must not get
//!   around: a header timeout that also closes idle connections, and a connection bound
//!   below the open-file limit ([`ServeOptions`]). `axum::serve` works too, without them.
//!
//! # Security
//!
//! Every `/api` request needs `Authorization: Bearer TOKEN` (WebSocket upgrades may send
//! `?token=` instead), except `GET /api/v1/hello?nonce=HEX`, by which the server proves it
//! holds the token before a client sends it ([`hello_proof`], [`verify_hello`]). Every request must name the bound address in `Host`, which defeats DNS
//! rebinding; WebSocket upgrades from a browser page of another origin are refused. Only
//! managed processes can be signalled: no route takes a host PID.
//!
//! The web UI's browser never holds the token: `POST /api/v1/ui/login-codes` (token only,
//! what `tend ui` calls) gives a one-time code, good for [`LOGIN_CODE_LIFETIME`], which
//! `GET /ui/login?code=…` exchanges for a `tend_session` cookie (`HttpOnly`,
//! `SameSite=Strict`, `Path=/`). The cookie authenticates `/api` requests that carry no
//! token; those that change state (and `POST /ui/logout`) must also send `X-Tend-Csrf: 1`
//! and, when the browser sends an `Origin`, this server's; a WebSocket must send this
//! server's `Origin`. Sessions live in memory: a restart ends them, as do [`SESSION_IDLE`]
//! (12 h) unused and logout; at most [`MAX_LOGIN_CODES`] codes and [`MAX_SESSIONS`]
//! sessions are kept, the oldest dropped. Cookies are not isolated by port: another program
//! serving pages on the same host name receives the cookie when the same browser visits it.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let state = tend_server::ServerState::new(
//!     tend::Service::new(),
//!     tend_server::generate_token(),
//!     listener.local_addr()?,
//! );
//! let options = tend_server::ServeOptions::default();
//! tend_server::serve(listener, tend_server::router(state), options, std::future::pending()).await?;
//! # Ok(()) }
//! ```
//!
//! # Caveats
//!
//! * The process limit is checked before a start, not atomically with it: concurrent starts
//!   can overshoot it by the number of requests in flight.
//! * `output?since=` reads the event log, so it holds what the log still holds; `dropped`
//!   counts the process's lines evicted from it (an upper bound when `since` falls inside the
//!   evicted range). `?format=text` reads the process's own output ring instead.
//! * `seq` in the API is the event log's sequence, shared by process and pipeline events: it
//!   increases like the service's own `seq` but is not equal to it.
//! * A pipeline's events (`pipeline_started`, `step_started`, `step_finished`,
//!   `pipeline_finished`, in that order per pipeline) come straight from its runner, while
//!   process events come through the service's bus: a `step_finished` can precede the
//!   `exited` of the step's process.

mod daemon_actions;
mod error;
mod guard;
mod json_dir;
mod log;
mod log_files;
mod metrics;
mod openapi;
mod output_lines;
mod pipelines;
mod projects;
mod records;
mod resume;
mod routes;
mod serve;
mod state;
mod token;
mod ui;
mod ws;

/// The named actions the routes dispatch through.
pub use tend::actions;

pub use error::{ApiError, ApiResult};
pub use log::{DEFAULT_LOG_BYTES, DEFAULT_LOG_EVENTS, EventLog, Page, Totals};
pub use openapi::openapi;
pub use pipelines::MAX_FINISHED_PIPELINES;
pub use projects::{MAX_NAME_LEN, MAX_PROJECTS};
pub use records::MAX_RECORDS;
pub use resume::{Resumed, resume_projects};
pub use routes::{api_routes, router};
pub use serve::{
    DEFAULT_HEADER_TIMEOUT, MAX_DEFAULT_CONNECTIONS, ServeOptions, default_max_connections, serve,
};
pub use state::{BODY_TIMEOUT, MAX_BODY_BYTES, ServerConfig, ServerState, default_state_dir};
pub use token::{
    HELLO_NONCE_HEX, HELLO_PATH, Hello, generate_token, hello_proof, load_or_create_token,
    read_token, verify_hello,
};
pub use ui::{LOGIN_CODE_LIFETIME, MAX_LOGIN_CODES, MAX_SESSIONS, SESSION_IDLE};
