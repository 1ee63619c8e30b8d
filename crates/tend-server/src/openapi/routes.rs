//! Every route the server answers, as the OpenAPI document describes it: one entry per method
//! and path of the router table (`routes/mod.rs`), with its request and answer types. A test
//! checks the two lists against each other.

use serde_json::json;
use tend::ProcessInfo;
use tend::daemon::DaemonEntry;
use tend::wire::{
    DaemonHealth, DaemonStopped, Empty, InputRequest, LinesAnswer, LinesQuery, ListQuery,
    LoginCode, PipelineRequest, PipelineStarted, PipelineState, PipelineSummary, RestartRequest,
    RunAnswer, SignalRequest, StartRequest, StopRequest, WaitRequest,
};

use super::events::EventMessage;
use super::table::{Content, Failure, Route};
use crate::token::Hello;

const BAD: Failure = (400, "Malformed body or parameter (named in the message).");
const LARGE: Failure = (413, "Body over 1 MiB.");
const SLOW: Failure = (408, "The body did not arrive within 10 s.");
const NO_PROCESS: Failure = (404, "No such process.");
const EVICTED: Failure =
    (410, "The process ended and its record was dropped (`tend daemon --max-finished`).");
const AMBIGUOUS: Failure =
    (409, "`ambiguous`: the name matches more than one process; the message lists their ids.");
const STATE_OR_AMBIGUOUS: Failure = (
    409,
    "`wrong_state`: the process is in the wrong state; or `ambiguous`: the name matches more \
     than one process, and the message lists their ids.",
);
const NAME_TAKEN: Failure =
    (409, "`name_taken`: a process with this `name` has not finished; the message names it.");
const UNSTARTABLE: Failure = (422, "The program could not be started.");
const LIMIT: Failure = (429, "Process limit reached (`tend daemon --max-processes`).");
const NO_DAEMON: Failure = (404, "No such daemon.");
const NO_PIPELINE: Failure = (404, "No such pipeline (or no longer kept).");

const PROCESS_ID: &str =
    "Full id, unique id prefix of at least 4 characters, or a name exactly one record has.";
const PIPELINE_ID: &str = "The id `POST /pipelines` returned.";

/// A route on one process: `/processes/{id}…`.
fn process(route: Route) -> Route {
    route.path_param("id", PROCESS_ID)
}

/// A route on one registered daemon: `/daemons/{code}/{daemon}…`.
fn daemon(route: Route) -> Route {
    route
        .path_param("code", "The daemon's code (its program or project).")
        .path_param("daemon", "Its name within the code.")
}

fn pipeline(route: Route) -> Route {
    route.path_param("id", PIPELINE_ID)
}

/// The routes, in the router table's order.
pub(crate) fn routes() -> Vec<Route> {
    let mut routes = process_routes();
    routes.extend(other_routes());
    routes.extend(super::project_routes::routes());
    routes
}

fn process_routes() -> Vec<Route> {
    vec![
        Route::get("/processes", "listProcesses", "List managed processes")
            .query::<ListQuery>()
            .answer::<Vec<ProcessInfo>>(200, "Process info, in start order.")
            .fails(&[BAD]),
        Route::post("/processes", "startProcess", "Start a process")
            .body::<StartRequest>()
            .answer::<ProcessInfo>(201, "Started.")
            .fails(&[BAD, SLOW, LARGE, NAME_TAKEN, UNSTARTABLE, LIMIT]),
        Route::post("/processes/run", "runProcess", "Run a process to the end")
            .body::<StartRequest>()
            .answer::<RunAnswer>(200, "Ended (whatever its exit status).")
            .fails(&[BAD, SLOW, LARGE, NAME_TAKEN, UNSTARTABLE, LIMIT]),
        process(Route::get("/processes/{id}", "getProcess", "One process"))
            .answer::<ProcessInfo>(200, "Its info.")
            .fails(&[BAD, NO_PROCESS, EVICTED, AMBIGUOUS]),
        process(Route::delete("/processes/{id}", "removeProcess", "Remove a finished record"))
            .answer::<ProcessInfo>(200, "The removed record.")
            .fails(&[BAD, NO_PROCESS, EVICTED, STATE_OR_AMBIGUOUS]),
        process(Route::get(
            "/processes/{id}/output",
            "processOutput",
            "Output lines since a sequence number",
        ))
        .query::<LinesQuery>()
        .query_param(
            "format",
            "`json` (default): lines from the event log; `text`: the captured bytes.",
            json!({ "type": "string", "enum": ["json", "text"] }),
        )
        .query_param(
            "offset",
            "format=text: first byte wanted (0 = the first ever written).",
            json!({ "type": "integer", "minimum": 0 }),
        )
        .query_param(
            "follow",
            "format=text: wait up to 10 s for bytes past `offset` or the end.",
            json!({ "type": "boolean" }),
        )
        .query_param(
            "tail",
            "format=text: only the last N lines (from the log files when the ring holds fewer).",
            json!({ "type": "integer", "minimum": 0 }),
        )
        .json_or_bytes::<LinesAnswer>(200, "Lines (JSON), or the captured bytes with format=text.")
        .fails(&[BAD, NO_PROCESS, EVICTED, AMBIGUOUS]),
        process(Route::post(
            "/processes/{id}/wait",
            "waitProcess",
            "Wait for the end (or the timeout)",
        ))
        .query_fields::<WaitRequest>(&["timeout"])
        .answer::<ProcessInfo>(200, "Its info; still running if the timeout passed first.")
        .fails(&[BAD, NO_PROCESS, EVICTED, AMBIGUOUS]),
        process(Route::post("/processes/{id}/input", "processInput", "Write to stdin"))
            .body::<InputRequest>()
            .answer::<Empty>(200, "Written.")
            .fails(&[BAD, SLOW, LARGE, NO_PROCESS, EVICTED, STATE_OR_AMBIGUOUS]),
        process(Route::post("/processes/{id}/close-stdin", "closeStdin", "Close stdin"))
            .answer::<Empty>(200, "Closed.")
            .fails(&[BAD, NO_PROCESS, EVICTED, STATE_OR_AMBIGUOUS]),
        process(Route::post(
            "/processes/{id}/signal",
            "signalProcess",
            "Send a signal to the process (its leader, once)",
        ))
        .body::<SignalRequest>()
        .answer::<ProcessInfo>(200, "Its info.")
        .fails(&[BAD, SLOW, LARGE, NO_PROCESS, EVICTED, STATE_OR_AMBIGUOUS]),
        process(Route::post("/processes/{id}/kill", "killProcess", "SIGKILL its group"))
            .answer::<ProcessInfo>(200, "Its info.")
            .fails(&[BAD, NO_PROCESS, EVICTED, AMBIGUOUS]),
        process(Route::post(
            "/processes/{id}/stop",
            "stopProcess",
            "Stop gracefully: SIGTERM, grace, SIGKILL",
        ))
        .optional_body::<StopRequest>()
        .answer::<ProcessInfo>(200, "Its final info.")
        .fails(&[BAD, SLOW, LARGE, NO_PROCESS, EVICTED, AMBIGUOUS]),
        process(Route::post(
            "/processes/{id}/restart",
            "restartProcess",
            "Restart: running, stopped as by stop and started again at once on the same record; finished, started again as a new process",
        ))
        .optional_body::<RestartRequest>()
        .answer::<ProcessInfo>(200, "The info of the new run (a new id when it had finished).")
        .fails(&[BAD, SLOW, LARGE, NO_PROCESS, EVICTED, STATE_OR_AMBIGUOUS, UNSTARTABLE, LIMIT]),
    ]
}

fn other_routes() -> Vec<Route> {
    vec![
        Route::get("/daemons", "listDaemons", "Running daemons in the registry")
            .answer::<Vec<DaemonEntry>>(200, "Live entries."),
        daemon(Route::get("/daemons/{code}/{daemon}", "getDaemon", "One daemon"))
            .answer::<DaemonEntry>(200, "Its entry.")
            .fails(&[BAD, NO_DAEMON]),
        daemon(Route::get("/daemons/{code}/{daemon}/health", "daemonHealth", "Probe a daemon's health"))
            .answer::<DaemonHealth>(200, "The probe's outcome.")
            .fails(&[BAD, NO_DAEMON]),
        daemon(Route::post("/daemons/{code}/{daemon}/stop", "stopDaemon", "SIGTERM a registered daemon whose PID still matches its entry"))
            .answer::<DaemonStopped>(200, "Signalled.")
            .fails(&[BAD, NO_DAEMON, (409, "The entry cannot be verified (no start time).")]),
        Route::get("/pipelines", "listPipelines", "Pipelines running and recently finished")
            .answer::<Vec<PipelineSummary>>(200, "Summaries, oldest first.")
            .fails(&[BAD]),
        Route::post("/pipelines", "startPipeline", "Run a pipeline on the server's service")
            .describe("Checked first (as a pipeline file would be), then run in the background. Step processes are managed processes labelled `pipeline=<id>` and `step=<name>`.")
            .body::<PipelineRequest>()
            .answer::<PipelineStarted>(202, "Started.")
            .fails(&[BAD, SLOW, LARGE, LIMIT]),
        pipeline(Route::get("/pipelines/{id}", "getPipeline", "A pipeline and its live report"))
            .answer::<PipelineState>(200, "Its state.")
            .fails(&[BAD, NO_PIPELINE]),
        pipeline(Route::post("/pipelines/{id}/cancel", "cancelPipeline", "Cancel: running steps get SIGTERM, their grace, SIGKILL; the rest are cancelled"))
            .answer::<PipelineState>(202, "Cancelling; poll it to the end.")
            .fails(&[BAD, NO_PIPELINE, (409, "The pipeline has already ended.")]),
        Route::get("/events", "events", "WebSocket of events: replay from the log since `since`, then live")
            .describe("A WebSocket handshake (GET with `Upgrade: websocket`). Each text message is an EventMessage (see `x-websocket-message`): a process Event, a PipelineEventMessage, or a Lagged notice. Browsers, which cannot set headers on a WebSocket, may send the token as `?token=`. A GET that is not a handshake is refused with 400.")
            .query_param("since", "Replay from this sequence number (default: only events from now on).", json!({ "type": "integer", "minimum": 0 }))
            .query_param("token", "The bearer token, for clients that cannot send headers.", json!({ "type": "string" }))
            .answer_with(101, "Switching to WebSocket.", Content::Upgrade)
            .extension::<EventMessage>("x-websocket-message")
            .fails(&[BAD]),
        Route::get("/openapi.json", "openapi", "This document")
            .answer_with(200, "OpenAPI 3.1.", Content::Json(|_| schemars::json_schema!({ "type": "object" }))),
        Route::get("/hello", "hello", "The server proves it holds the token (no token needed)")
            .open()
            .required_query_param("nonce", "32 to 128 hex digits, fresh for each hello.", json!({ "type": "string", "pattern": "^[0-9a-fA-F]{32,128}$" }))
            .answer::<Hello>(200, "The bound address and hex HMAC-SHA256(token, \"tend-hello-v1\\0\" + nonce + \"\\0\" + addr).")
            .fails(&[BAD]),
        Route::post("/ui/login-codes", "createLoginCode", "A one-time login link for the web UI (`tend ui`)")
            .describe("Only with the token (a browser session gets 403). The code is good for one `GET /ui/login?code=CODE` within `expires_in_ms` (60 s), which answers 303 to `/ui/` with the session cookie `tend_session` (HttpOnly, SameSite=Strict, Path=/). With the cookie the browser is authenticated on `/api` like the token; a cookie-authenticated request that changes state must send `X-Tend-Csrf: 1` and, if any, this server's `Origin`, and a WebSocket this server's `Origin`. Sessions live in memory (a restart ends them), end after 12 h idle or at `POST /ui/logout`; at most 64 codes and 256 sessions are kept (oldest dropped).")
            .answer::<LoginCode>(201, "The code, its link and how long it is good.")
            .fails(&[(403, "Foreign Host or Origin, or asked with a browser session.")]),
        Route::get("/health", "health", "Liveness: the server answers")
            .at_root()
            .answer_with(200, "`ok`.", Content::Text("text/plain")),
        Route::get("/ready", "ready", "Readiness")
            .at_root()
            .answer_with(200, "`ready`.", Content::Text("text/plain"))
            .answer_with(503, "`not ready` (starting or shutting down).", Content::Text("text/plain")),
        Route::get("/metrics", "metrics", "Prometheus metrics")
            .at_root()
            .answer_with(200, "Prometheus text format 0.0.4.", Content::Text("text/plain")),
    ]
}
