//! The options of `process.start` and `process.run`: a program with arguments, or a bash
//! script, and how to run it.

use serde_json::Value;

use super::options::Options;
use super::registry::ActionError;
use crate::process::{ParseRestartError, check_env_name, check_no_nul};
use crate::script::Script;
use crate::{MaxRestarts, Process, Restart, RestartPolicy, Service, StartOptions, StdinMode};

/// Every key `process.start` and `process.run` accept.
pub(super) const KEYS: &[&str] = &[
    "command",
    "args",
    "run",
    "dir",
    "env",
    "name",
    "labels",
    "timeout",
    "timeout_ms",
    "grace",
    "grace_ms",
    "capture",
    "detach",
    "stdin",
    "restart",
    "max_restarts",
    "restart_delay",
    "restart_delay_ms",
];

/// What to start.
pub(crate) enum Launch {
    /// A program, run directly.
    Command(StartOptions),
    /// A bash script, in file mode.
    Script(Script),
}

impl Launch {
    /// Reads the options, refusing anything unknown, mistyped or contradictory.
    pub(crate) fn parse(options: Value) -> Result<Self, ActionError> {
        let options = Options::parse(options, KEYS)?;
        let command = options.string("command")?;
        let run = options.string("run")?;
        let args = options.strings("args")?;
        let env = options.string_map("env")?.unwrap_or_default();
        // The library's own checks and words, before anything is started or written.
        for (name, value) in &env {
            check_env_name(name)
                .and_then(|()| check_no_nul(value))
                .map_err(|message| ActionError::invalid("env", message))?;
        }
        let restart = restart(&options)?;
        let stdin = match options.string("stdin")?.as_deref() {
            None | Some("null") => StdinMode::Null,
            Some("piped") => StdinMode::Piped,
            Some(other) => {
                return Err(ActionError::invalid(
                    "stdin",
                    format!("`{other}` is not one of \"null\", \"piped\""),
                ));
            }
        };
        let dir = options.string("dir")?;
        let name = options.string("name")?;
        let labels = options.string_map("labels")?.unwrap_or_default();
        let timeout = options.duration("timeout")?;
        let grace = options.duration("grace")?;
        let capture = options.bool("capture")?;
        let detach = options.bool("detach")?.unwrap_or(false);

        match (command, run) {
            (Some(_), Some(_)) => {
                Err(ActionError::invalid("run", "give either `command` or `run`, not both"))
            }
            (None, None) => Err(ActionError::invalid(
                "command",
                "missing: give `command` (with `args`) or `run` (a bash script)",
            )),
            (Some(command), None) => {
                if command.is_empty() {
                    return Err(ActionError::invalid("command", "must not be empty"));
                }
                let mut start = StartOptions::new(command).args(args.unwrap_or_default());
                start.dir = dir.map(Into::into);
                start.env = env.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
                start.stdin = stdin;
                start.name = name;
                start.labels = labels;
                start.timeout = timeout;
                start.grace = grace.unwrap_or(start.grace);
                start.capture = capture.unwrap_or(start.capture);
                start.detach = detach;
                start.restart = restart;
                start.check()?;
                Ok(Launch::Command(start))
            }
            (None, Some(text)) => {
                if args.is_some() {
                    return Err(ActionError::invalid(
                        "args",
                        "`args` go with `command`; a `run` script takes none",
                    ));
                }
                check_no_nul(&text).map_err(|message| ActionError::invalid("run", message))?;
                if let Some(dir) = &dir {
                    check_no_nul(dir).map_err(|message| ActionError::invalid("dir", message))?;
                }
                let mut script = Script::new(text).envs(env).stdin(stdin).detach(detach);
                script.options.dir = dir.map(Into::into);
                script.options.name = name;
                script.options.labels = labels;
                script.options.timeout = timeout;
                script.options.grace = grace.unwrap_or(script.options.grace);
                script.options.capture = capture.unwrap_or(script.options.capture);
                script.options.restart = restart;
                Ok(Launch::Script(script))
            }
        }
    }

    /// Starts it on `service`.
    pub(crate) fn start(self, service: &Service) -> Result<Process, ActionError> {
        match self {
            Launch::Command(options) => Ok(service.start(options)?),
            Launch::Script(script) => Ok(script.start(service)?),
        }
    }
}

/// The restart policy: `restart` (`"never"`, `"on_failure"`, `"always"`), `max_restarts` (a
/// number or `"unlimited"`) and `restart_delay` (the first delay of the backoff).
fn restart(options: &Options) -> Result<Restart, ActionError> {
    let policy = match options.string("restart")? {
        None => RestartPolicy::Never,
        Some(text) => text
            .parse()
            .map_err(|e: ParseRestartError| ActionError::invalid("restart", e.to_string()))?,
    };
    let mut restart = Restart::new(policy);
    match options.get("max_restarts") {
        None => {}
        Some(Value::Number(n)) => {
            let max = n.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
                ActionError::invalid("max_restarts", format!("`{n}` is not a count of restarts"))
            })?;
            restart = restart.max(MaxRestarts::Limited(max));
        }
        Some(Value::String(text)) => {
            restart = restart.max(text.parse().map_err(|e: ParseRestartError| {
                ActionError::invalid("max_restarts", e.to_string())
            })?);
        }
        Some(_) => {
            return Err(ActionError::invalid("max_restarts", "expected a number or \"unlimited\""));
        }
    }
    if let Some(delay) = options.duration("restart_delay")? {
        restart = restart.delay(delay);
    }
    Ok(restart)
}
