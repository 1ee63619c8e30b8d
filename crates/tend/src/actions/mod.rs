//! Named actions: async handlers registered by name, taking and returning JSON.
//!
//! This is go-process's "Core" integration, and the one code path behind tend's REST API and
//! its CLI client: both translate a request into an action name and an option bag and
//! [`dispatch`](Actions::dispatch) it. What a host can do is exactly what it registered — a
//! name nobody registered fails with [`ActionError::NotRegistered`] ("permission by
//! registration").
//!
//! ```no_run
//! # async fn demo() -> Result<(), tend::actions::ActionError> {
//! use tend::actions::json;
//! use tend::Service;
//! use tend::actions::{Actions, register_process_actions};
//!
//! let actions = Actions::new();
//! register_process_actions(&actions, Service::new());
//! let info = actions
//!     .dispatch("process.start", json!({"command": "sleep", "args": ["30"], "name": "nap"}))
//!     .await?;
//! assert_eq!(info["status"], "running");
//! actions.dispatch("process.signal", json!({"id": "nap", "signal": "TERM"})).await?;
//! let info = actions.dispatch("process.wait", json!({"id": "nap", "timeout": "5s"})).await?;
//! assert_eq!(info["signal"], "SIGTERM");
//! # Ok(()) }
//! ```
//!
//! # The process actions
//!
//! [`register_process_actions`] registers these (and [`register_process_actions_limited`]
//! with a bound on running processes). Each is a typed function over a [`wire`](crate::wire)
//! request: options are a JSON object with snake_case keys (`null` counts as `{}`); an unknown
//! key, a missing one, or a value of the wrong type or out of range is an
//! [`InvalidOption`](ActionError::InvalidOption) error (code `invalid_request`) naming the
//! key. Durations are humantime strings (`"500ms"`, `"2s"`, `"1m30s"`) or numbers of
//! milliseconds under the key with `_ms` appended (`timeout_ms`); a bare number under
//! `timeout` is refused, never read as nanoseconds. A `*_ms` number that is negative or too
//! large for a duration is refused too. Any duration string is accepted: one of
//! [`FOREVER`](crate::FOREVER) (100 years) or more means "never", and a `timeout` of zero
//! means no timeout. `id` is a full process id, a unique id prefix of 4 or more characters,
//! or a name; an unknown one is `not_found` before any other option is looked at. An info is
//! the [`ProcessInfo`](crate::ProcessInfo) JSON.
//!
//! | action | request | result |
//! | --- | --- | --- |
//! | `process.start` | [`StartRequest`](crate::wire::StartRequest) | info, once started |
//! | `process.run` | [`RunRequest`](crate::wire::RunRequest) | [`RunAnswer`](crate::wire::RunAnswer) `{"info", "output"}` once ended; a non-zero exit is not an error |
//! | `process.stop` | [`StopRequest`](crate::wire::StopRequest) `id`, `grace` | info: its stop signal (SIGTERM) to the group, the grace (default: the one it was started with), SIGKILL |
//! | `process.restart` | [`RestartRequest`](crate::wire::RestartRequest) `id`, `grace` | running: stopped as by `process.stop`, then started again at once on the same record (`restarts` + 1), info of the new run; finished: a new process with the same options, its info; queued: `wrong_state` |
//! | `process.kill` | [`IdRequest`](crate::wire::IdRequest) `id` | info: SIGKILL to the group, then up to 5 s for the end |
//! | `process.signal` | [`SignalRequest`](crate::wire::SignalRequest) `id`, `signal` (name or number) | info; the leader gets it once |
//! | `process.list` | [`ListQuery`](crate::wire::ListQuery) `status`, `label` (`"key=value"`), both optional | array of info, start order |
//! | `process.get` | `id` | info |
//! | `process.wait` | [`WaitRequest`](crate::wire::WaitRequest) `id`, optional `timeout` | info; still `running` if the timeout came first |
//! | `process.output` | `id` | [`OutputAnswer`](crate::wire::OutputAnswer) `{"output", "stdout", "stderr", "dropped_bytes"}` (lossy UTF-8) |
//! | `process.input` | [`InputRequest`](crate::wire::InputRequest) `id`, `data` (string) | `{}` |
//! | `process.close_stdin` | `id` | `{}` |
//! | `process.remove` | `id` | info of the removed record |
//!
//! `process.start` and `process.run` take `command` (string) with `args` (array of strings),
//! **or** `run` (a bash script, started in file mode as by [`Script`](crate::script::Script));
//! and optionally `dir`, `env` (object of strings, added to the inherited environment),
//! `name`, `labels` (object of strings), `timeout`, `grace`, `capture` (bool), `merge_stderr`
//! (bool: one pipe for both streams, in write order), `detach`
//! (bool), `stdin` (`"null"` or `"piped"`), `restart` (`"never"`, `"on_failure"`, `"always"`),
//! `max_restarts` (a number or `"unlimited"`) and `restart_delay`. With a limit, they fail
//! with `limit_reached` while that many processes are running ([`check_process_limit`]), and
//! with `name_taken` when `name` belongs to a process that has not finished
//! ([`StartOptions::unique_name`](crate::StartOptions::unique_name)). An `id` may be a name
//! when exactly one record has it; a name several records have (finished ones included)
//! gives `ambiguous`, listing their ids, and acts on none of them.
//!
//! # Errors
//!
//! Each [`ActionError`] has a stable [`code`](ActionError::code), an
//! [`ErrorCode`](crate::wire::ErrorCode): `not_registered`, `invalid_request` (any bad
//! input), `not_found` (no such process), `evicted`, `wrong_state` (not running, still
//! running, stdin closed), `ambiguous` (a name matching several processes), `name_taken`,
//! `limit_reached`, `failed` (e.g. the program could not be started);
//! actions registered elsewhere (the server's daemon and pipeline actions) may also answer
//! `forbidden` and `internal`.

#[cfg(test)]
mod fuzz;
mod process;
mod registry;
#[cfg(test)]
mod typed_tests;

pub use process::{
    check_process_limit, register_process_actions, register_process_actions_limited,
};
pub use registry::{ActionError, ActionResult, Actions};
/// Actions take and return JSON: the builder macro and value type, so a program needs no
/// `serde_json` of its own to dispatch.
pub use serde_json::{Value, json};
