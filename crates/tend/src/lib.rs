//! # tend — supervise operating-system processes
//!
//! `tend` spawns, watches, streams, captures and controls child processes. It is the library
//! behind the `tend` command-line tool and its supervisor daemon.
//!
//! * [`Service`] owns managed processes: [`start`](Service::start) one and get a
//!   [`Process`] handle, or [`run`](Service::run) one to the end.
//! * Output is kept byte-exact in a bounded ring per process ([`Output`]) and broadcast as
//!   line [`Event`]s to any number of [`Subscription`]s.
//! * [`Signal`] names signals; kill, signal, graceful shutdown and stdin are on [`Process`].
//! * [`exec`] is a one-shot command builder with cancellation and timeouts, [`program`] finds
//!   and runs a program on `PATH`, and [`proctable`] queries the host's process table.
//! * [`script`] runs bash scripts (from a file or inline, with safe quoting),
//!   [`exclusive`] runs one script at a time, and [`actions`] is the named-action registry
//!   (`process.start`, `process.kill`, …) that the API and CLI client dispatch through.
//! * [`wire`] is the typed model of every request and answer of the actions and the API
//!   (`StartRequest`, `RunAnswer`, `PipelineState`, `ErrorCode`, …), shared by the server,
//!   the CLI and the OpenAPI document.
//! * [`runner`] runs pipelines: steps with `after` dependencies, as a graph that starts each
//!   step the moment its own dependencies finish, in order, or all at once.
//! * [`probe`] asks whether a service is ready or still alive: `tcp`, `http`, `exec` and
//!   `log` probes, checked once, waited for with an interval and a timeout, or watched.
//! * [`logfile`] keeps log files on disk that rotate at line boundaries ([`LogFile`](logfile::LogFile),
//!   sized by [`ByteSize`] such as `10MiB`), and appends a process's output to one exactly.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tend::Error> {
//! use std::time::Duration;
//! use tend::{Service, StartOptions};
//!
//! let service = Service::new();
//! let build = service.start(
//!     StartOptions::new("make").arg("all").timeout(Duration::from_secs(300)).name("build"),
//! )?;
//! let info = build.wait().await;
//! // `duration()` is a `Duration`; `{:.1?}` rounds it (`606.8ms`, `1.2s`).
//! println!("{} ended: {} in {:.1?}", info.command, info.status, info.duration().unwrap_or_default());
//! # Ok(()) }
//! ```
//!
//! See the [`process`] module for the lifecycle and its caveats.
//!
//! ## What a program needs beside `tend`
//!
//! tend runs on Tokio. The examples in these docs compile with `tend` and, for `#[tokio::main]`
//! and `tokio::signal`, these Tokio features:
//!
//! ```toml
//! [dependencies]
//! tend = "0.1"
//! tokio = { version = "1", features = ["macros", "rt-multi-thread", "signal"] }
//! ```
//!
//! Cancellation takes a [`CancellationToken`] (re-exported here; no `tokio-util` needed). Only
//! the example of [`runner::steps_from`], which takes any `serde` deserializer, names more:
//! the [`actions`] take and return `serde_json::Value`s, and [`actions::json`] and
//! [`actions::Value`] are re-exported there.
//!
//! ## Cargo features
//!
//! All on by default. `default-features = false` leaves the process core — [`Service`],
//! [`Process`], output, events, [`exec`], [`program`], [`proctable`], [`script`],
//! [`exclusive`], the pipeline [`runner`] with its services and readiness and liveness
//! [`probe`]s (`tcp`, `exec`, `log`; `http` needs the `http` feature), steps built in code or
//! read with [`runner::steps_from`], and the [`daemon`] toolkit without its HTTP parts (PID file,
//! registry, and the [`Daemon`](daemon::Daemon) that composes them and tells systemd) — on
//! Tokio, rustix, serde, serde_json and regex, with no HTTP stack and no TOML parser.
//!
//! | feature | what it adds | what it pulls in |
//! | --- | --- | --- |
//! | `http` | the health server [`daemon::HealthServer`] (`/health`, `/ready`), a daemon's own ([`DaemonOptions::health_addr`](daemon::DaemonOptions::health_addr), [`check`](daemon::DaemonOptions::check), [`Daemon::add_check`](daemon::Daemon::add_check)), the probes [`daemon::wait_for_health`] / [`daemon::wait_for_ready`], and the HTTP client [`http`] | axum, hyper |
//! | `files` | pipeline files: [`runner::load`], [`runner::parse_toml`], [`runner::FileError`] | toml |
//! | `actions` | the named-action registry [`actions`] (`process.start`, `process.kill`, …) | nothing more |
//! | `yaml` (alias `yaml_serde`; off) | YAML pipeline files: `runner::parse_yaml`; implies `files` | yaml_serde |
//!
//! ```toml
//! [dependencies]
//! tend = { version = "0.1", default-features = false }
//! ```
//!
//! ## Daemon toolkit
//!
//! [`daemon`] gives a long-running program what it needs to behave as a daemon, safely under
//! concurrency, PID reuse and crashes: a [`PidFile`](daemon::PidFile) held with `flock` (single
//! instance), a [`HealthServer`](daemon::HealthServer) answering `/health` and `/ready`, a
//! [`Registry`](daemon::Registry) of running daemons compatible with go-process's
//! `~/.core/daemons/` entries, a [`Daemon`](daemon::Daemon) that composes the three with
//! rollback and ordered stop (and speaks systemd's `NOTIFY_SOCKET`), and the probes
//! [`wait_for_health`](daemon::wait_for_health) / [`wait_for_ready`](daemon::wait_for_ready).
//! `cargo run -p tend --example daemon` runs a complete one; `tend daemons` lists the registry
//! and `tend health ADDR` probes a daemon.
//!
//! ## One meaning of failure
//!
//! A program that **ran** and ended unsuccessfully (non-zero exit code, a signal, a timeout
//! that tend enforced on a managed process) is an *outcome*: every run form returns `Ok` with
//! the status in it. `Err` means the program **could not run** or the call was refused (bad
//! options, not found, no runtime, out of descriptors), or, for [`exec`], that the caller's own
//! cancellation or timeout stopped it. Each form has a *checked* variant that turns an
//! unsuccessful end into an error carrying the status and the output (like duct's default,
//! or Go's `cmd.Run()` error):
//!
//! | form | non-zero exit gives | checked form |
//! | --- | --- | --- |
//! | [`Service::run`] | `Ok(`[`RunOutput`]`)`, status in `.info` | [`Service::run_checked`], [`RunOutput::checked`] → [`Error::Failed`] |
//! | [`exec::Cmd::run`] / [`output`](exec::Cmd::output) / [`combined_output`](exec::Cmd::combined_output) | `Ok`, with the [`ExitStatus`](std::process::ExitStatus) | [`exec::Cmd::checked`] → [`ExecError::Failed`](exec::ExecError::Failed) |
//! | `process.run` action ([`actions`]) | `Ok({"info", "output"})`, status in `info` | — (read `info.status`) |
//! | [`ExclusiveRunner::run_until_completion`](exclusive::ExclusiveRunner::run_until_completion) | `Ok((output, exit_code))` | — |
//! | [`Runner::run`](runner::Runner::run) | a [`Report`](runner::Report): the step `failed`, dependents skipped | `Report` says whether all passed |
//! | [`program::Program::run`] | is the checked form: it returns only the trimmed text, so a non-zero exit is [`ProgramError::Failed`](program::ProgramError::Failed) (with the output) | itself |
//!
//! In every case the process's [`Status`] is `failed` (exit code ≠ 0 or a signal it was not
//! sent by tend) or `killed` (ended by tend: kill, shutdown, timeout), and `exited` only for
//! exit code 0.
//!
//! ## Coming from go-process / gpud
//!
//! | go-process / gpud | tend |
//! | --- | --- |
//! | `process.Service` (go-process), its managed `*Process` | [`Service`], [`Process`] |
//! | `RunOptions` (command, args, dir, env, detach, timeout, grace, kill group, …) | [`StartOptions`] |
//! | `svc.Start` / `StartWithOptions` | [`Service::start`] |
//! | `svc.Run` (combined output, error on non-zero exit) | [`Service::run`] (status in the result) or [`Service::run_checked`] (error), with [`StartOptions::merge_stderr`] for the exact order of writes |
//! | `proc.Done()` (a channel closed at the end) | [`Process::wait`] (a future; any number of waiters) |
//! | `proc.Wait()`, `Kill()`, `Signal()`, `Shutdown()`, `SendInput()`, `CloseStdin()` | [`Process::wait`], [`kill`](Process::kill), [`signal`](Process::signal), [`shutdown`](Process::shutdown), [`send_input`](Process::send_input), [`close_stdin`](Process::close_stdin); [`Service::kill`] by id or name |
//! | `proc.Info()`, `IsRunning()`, `ExitCode`, `Duration` | [`Process::info`] → [`ProcessInfo`]; [`Process::is_running`], [`Process::exit_code`], [`ProcessInfo::duration`] |
//! | `proc.Output()`, `RingBuffer` | [`Process::output`] → [`Output`] (byte-exact chunks tagged by [`Stream`]); the ring itself is public as [`OutputRing`]; [`Service::output`] by id or name |
//! | `OnOutput` callback, output events | [`StartOptions::on_line`] (a `\|stream, line\|` callback); [`Process::lines`] / [`Process::events`] per process; [`Service::subscribe`] for every process |
//! | status names `pending`, `running`, `exited`, `failed`, `killed` | [`Status`], the same five (`exited` = code 0; `failed` = non-zero or a signal; `killed` = ended by us), and `queued` (waiting for a slot under [`ServiceConfig::max_running`] or a [`StartOptions::queue_group`]) |
//! | events `started`, `output`, `exited`, `killed` | [`EventKind`] (`Started`, `Output`, `Exited`, `Killed`, `Restarted`) |
//! | named actions `process.run`, `process.start`, `process.kill`, `process.list`, `process.get` | [`actions::register_process_actions`] on [`actions::Actions`] (plus `stop`, `restart`, `signal`, `wait`, `output`, `input`, `close_stdin`, `remove`); unregistered name → [`ActionError::NotRegistered`](actions::ActionError::NotRegistered) |
//! | `PIDFile` | [`daemon::PidFile`] (`flock`-held, start time beside the PID) |
//! | `HealthServer` (`/health`, `/ready`) | [`daemon::HealthServer`] |
//! | `Registry` (`~/.core/daemons/`) | [`daemon::Registry`], entries [`daemon::DaemonEntry`] |
//! | `Daemon` (PID file + health + registry) | [`daemon::Daemon`] with [`daemon::DaemonOptions`]; it **starts not ready**: call [`set_ready(true)`](daemon::Daemon::set_ready) once it can serve |
//! | `WaitForHealth(addr, timeout)` | [`daemon::wait_for_health`], [`daemon::wait_for_ready`] |
//! | `Runner`, `RunSpec` (`after`, `allow_failure`), DAG / sequential / parallel | [`runner::Runner`], [`runner::Step`] ([`after`](runner::Step::after), [`allow_failure`](runner::Step::allow_failure)), [`runner::Pipeline`], [`runner::Mode`]; results in [`runner::Report`] / [`runner::StepReport`] |
//! | `Program` (find on `PATH`, run, trimmed output) | [`program::Program`] |
//! | `exec.Command` builder and its pluggable logger | [`exec::Cmd`]; logging goes through [`tracing`](https://docs.rs/tracing) at `debug` (install any subscriber) |
//! | gpud `process.New(WithBashScriptContentsToRun(…))`, script file (`WithBashScriptTmpDirectory`, `WithBashScriptFilePattern`) or inline (`bash -s`) | [`script::Script`] with [`ScriptMode`](script::ScriptMode) `File { dir, pattern }` / [`inline`](script::Script::inline), started by [`Script::start`](script::Script::start) |
//! | gpud `WithCommands` (several commands joined) | [`Script::commands`](script::Script::commands) (each argument quoted) |
//! | gpud `WithRestartConfig{OnError, Limit, Interval}` | [`Restart::on_failure`]`()`[`.max`](Restart::max)`(`[`MaxRestarts::Limited`]`(n))`[`.delay`](Restart::delay)`(interval)` on [`StartOptions::restart`] / [`Script::restart`](script::Script::restart) |
//! | gpud `WithOutputFile` | [`StartOptions::output_file`] (whole lines, both streams) |
//! | gpud `WithLabel` | [`StartOptions::label`], [`Script::label`](script::Script::label) |
//! | gpud `StdoutReader()` / `StderrReader()`, `process.Read(…, WithProcessLine(cb))` (the line reader) | [`Process::lines`] (replays from the first line the ring holds, then follows; lag reported), [`StartOptions::on_line`]; [`Process::output_since`] for byte offsets |
//! | gpud `ExclusiveRunner` (`RunUntilCompletion`) | [`exclusive::ExclusiveRunner::run_until_completion`] (a second caller is refused at once) |
//! | gpud process-table queries (`CountProcessesByStatus`, `FindProcessByName`, `CountRunningPids`) | [`proctable::count_by_state`], [`proctable::find_by_name`], [`proctable::count_pids`], [`proctable::processes`] |
//! | gpud `Close()` (process-group kill; opt-out for `cmd &` jobs) | [`Process::shutdown`] (SIGTERM, grace, SIGKILL to the group); [`Script::allow_detached`](script::Script::allow_detached) / [`StartOptions::kill_group`] |
//! | `context.Context` cancellation | [`CancellationToken`] on [`exec::Cmd::cancel`], [`runner::Runner::cancel_token`], [`daemon::Daemon::run`] |
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "actions")]
#[cfg_attr(docsrs, doc(cfg(feature = "actions")))]
pub mod actions;
mod byte_size;
pub mod daemon;
mod deadline;
pub mod dotenv;
mod error;
pub mod event;
pub mod exclusive;
pub mod exec;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
pub mod logfile;
mod os;
pub mod output;
pub mod probe;
pub mod process;
pub mod proctable;
pub mod program;
pub mod runner;
pub mod script;
mod service;
mod signal;
pub mod usage;
pub mod wire;

pub use byte_size::{ByteSize, ByteSizeError};
pub use deadline::FOREVER;
pub use error::{Error, FailedRun};
pub use event::{Event, EventBacklog, EventKind, Received, Subscription};
pub use os::{release_code_pages, release_free_memory};
pub use output::ring::OutputRing;
pub use output::snapshot::{Output, OutputChunk, OutputSince};
pub use output::stream::Stream;
pub use process::handle::Process;
pub use process::info::{ProcessId, ProcessInfo, Reason, Status};
pub use process::lines::{Lagged, Line, Lines, ProcessEvent, ProcessEvents};
pub use process::options::{OutputMode, StartOptions, StdinMode};
pub use process::restart::{MaxRestarts, Restart, RestartPolicy};
pub use service::{
    DEFAULT_MAX_FINISHED, MAX_EVICTED_IDS, ProcessList, RunOutput, Service, ServiceConfig,
};
pub use signal::{Signal, UnknownSignal};
/// The cancellation token every cancellable call takes ([`exec::Cmd::cancel`],
/// [`runner::Runner::cancel_token`], [`daemon::Daemon::run`], …), re-exported from
/// `tokio-util` so programs need not depend on it.
pub use tokio_util::sync::CancellationToken;

/// Raises this process's soft limit on open files to its hard limit, and returns the new
/// limit. Each managed process with piped output holds two or three descriptors in the
/// supervisor, so a supervisor of thousands of processes needs more than the usual 1024.
///
/// ```
/// let limit = tend::raise_open_file_limit().unwrap();
/// assert!(limit >= 256);
/// ```
pub fn raise_open_file_limit() -> std::io::Result<u64> {
    os::raise_open_file_limit()
}

/// This process's soft limit on open files (`u64::MAX` when unlimited). The runner bounds
/// how many steps it runs at once by it, and `tend-server` its connections.
///
/// ```
/// assert!(tend::open_file_limit() >= 16);
/// ```
pub fn open_file_limit() -> u64 {
    os::open_file_limit()
}

/// Sets the calling thread's nice value (Linux: per thread; 0 normal, 19 lowest priority).
/// A supervisor runs work that must never slow its children, such as fanning events out to
/// many clients, on threads it lowers with this (for example in a Tokio runtime's
/// `on_thread_start`). Raising priority (a negative value) needs privileges.
///
/// ```
/// std::thread::spawn(|| tend::set_thread_nice(10).unwrap()).join().unwrap();
/// ```
pub fn set_thread_nice(nice: i32) -> std::io::Result<()> {
    os::set_thread_nice(nice)
}
