//! [`Step`]: what one pipeline step runs, where, and how it may fail; [`Mode`]: how steps are
//! ordered.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::process::{DEFAULT_GRACE, StartOptions};

/// Default pause between a failed attempt and the next one.
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(1);

/// The shell that runs [`StepCommand::Script`] steps.
pub const SCRIPT_SHELL: &str = "bash";

/// What a step runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepCommand {
    /// A program and its arguments, passed as they are: no shell, no splitting, no quoting.
    Program {
        /// The program: a name looked up on `PATH`, or a path.
        command: String,
        /// Its arguments.
        args: Vec<String>,
    },
    /// A bash script, run as `bash -c SCRIPT STEP_NAME`.
    ///
    /// The step name becomes `$0`, so bash's own messages say which step they come from. No
    /// option is added: a script that should stop at the first failing command says
    /// `set -e` (or `set -euo pipefail`) itself, exactly as it would in a file.
    Script(String),
}

/// One step of a pipeline.
///
/// Build one with [`Step::command`] or [`Step::script`] and the chained setters; every field
/// is public too.
///
/// ```
/// use std::time::Duration;
/// use tend::runner::Step;
///
/// let test = Step::script("test", "cargo test --workspace")
///     .after(["build"])
///     .env("RUST_BACKTRACE", "1")
///     .timeout(Duration::from_secs(600))
///     .retries(2);
/// assert_eq!(test.after, ["build"]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Unique, non-empty name; other steps name it in their [`after`](Self::after).
    pub name: String,
    /// What it runs.
    pub command: StepCommand,
    /// Working directory; the supervisor's own when `None`.
    pub dir: Option<PathBuf>,
    /// Variables added to (or overriding) the inherited environment.
    pub env: BTreeMap<String, String>,
    /// Names of the steps that must have finished (passed, or failed with `allow_failure`)
    /// before this one starts. Used by [`Mode::Dag`] only, but always validated.
    pub after: Vec<String>,
    /// A failure of this step is reported as `allowed_failure`, does not block the steps
    /// after it, and does not fail the run.
    pub allow_failure: bool,
    /// Each attempt is ended gracefully (SIGTERM to its group, `grace`, SIGKILL) after this long
    /// (zero: no timeout).
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL when the step is timed out, cancelled or stopped.
    pub grace: Duration,
    /// Further attempts after a failed one (a timed-out attempt counts as failed).
    pub retries: u32,
    /// Pause before each further attempt.
    pub retry_delay: Duration,
}

impl Step {
    /// A step that runs `program` directly, with no shell in between.
    pub fn command(name: impl Into<String>, program: impl Into<String>) -> Self {
        Self::new(name.into(), StepCommand::Program { command: program.into(), args: Vec::new() })
    }

    /// A step that runs `script` with bash (see [`StepCommand::Script`]).
    pub fn script(name: impl Into<String>, script: impl Into<String>) -> Self {
        Self::new(name.into(), StepCommand::Script(script.into()))
    }

    fn new(name: String, command: StepCommand) -> Self {
        Self {
            name,
            command,
            dir: None,
            env: BTreeMap::new(),
            after: Vec::new(),
            allow_failure: false,
            timeout: None,
            grace: DEFAULT_GRACE,
            retries: 0,
            retry_delay: DEFAULT_RETRY_DELAY,
        }
    }

    /// Appends one argument (to a [`Program`](StepCommand::Program) step; a script step
    /// ignores arguments).
    pub fn arg(self, arg: impl Into<String>) -> Self {
        self.args([arg])
    }

    /// Appends arguments (to a [`Program`](StepCommand::Program) step; a script step ignores
    /// arguments).
    pub fn args<I, S>(mut self, new: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if let StepCommand::Program { args, .. } = &mut self.command {
            args.extend(new.into_iter().map(Into::into));
        }
        self
    }

    /// Sets the working directory.
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Adds dependencies: steps that must finish first.
    pub fn after<I, S>(mut self, steps: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.after.extend(steps.into_iter().map(Into::into));
        self
    }

    /// Lets this step fail without failing the run or blocking its dependents.
    pub fn allow_failure(mut self, allow: bool) -> Self {
        self.allow_failure = allow;
        self
    }

    /// Sets the timeout of each attempt; zero means no timeout, and so does one of
    /// [`FOREVER`](crate::FOREVER) (100 years) or more.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the grace period between SIGTERM and SIGKILL.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Sets how many further attempts a failing step gets.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Sets the pause before each further attempt.
    pub fn retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }

    /// The program this step starts (`bash` for a script).
    pub fn program(&self) -> &str {
        match &self.command {
            StepCommand::Program { command, .. } => command,
            StepCommand::Script(_) => SCRIPT_SHELL,
        }
    }

    /// Options for one attempt: a named, labelled managed process with captured output.
    pub(crate) fn start_options(&self, attempt: u32) -> StartOptions {
        let mut options = self
            .command
            .start_options(&self.name)
            .label("pipeline.step", self.name.clone())
            .label("pipeline.attempt", attempt.to_string())
            .grace(self.grace);
        if let Some(dir) = &self.dir {
            options = options.dir(dir.clone());
        }
        for (key, value) in &self.env {
            options = options.env(key, value);
        }
        if let Some(timeout) = self.timeout {
            options = options.timeout(timeout);
        }
        options
    }
}

impl StepCommand {
    /// Options that run it for the step or service `name`, named after it: the program and
    /// its arguments, or `bash -c SCRIPT NAME` (so `$0` is the name).
    pub(crate) fn start_options(&self, name: &str) -> StartOptions {
        let options = match self {
            StepCommand::Program { command, args } => {
                StartOptions::new(command.clone()).args(args.iter().cloned())
            }
            StepCommand::Script(script) => {
                StartOptions::new(SCRIPT_SHELL).args(["-c", script, name])
            }
        };
        options.name(name.to_owned())
    }
}

/// How a [`Runner`](super::Runner) orders the steps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Each step starts the moment every step in its `after` has finished; the dependents of a
    /// failed step are skipped.
    #[default]
    Dag,
    /// One item at a time, each once the previous one passed (a step) or is ready (a
    /// service): in declaration order where `after` allows (a stable topological order; in a
    /// file, the `steps` and `services` tables in the order they come). The first failure that
    /// is not allowed skips the rest.
    Sequential,
    /// Every step at once (up to the `jobs` bound), ignoring `after`.
    Parallel,
}

impl Mode {
    /// The lower-case name: `dag`, `sequential` or `parallel`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Dag => "dag",
            Mode::Sequential => "sequential",
            Mode::Parallel => "parallel",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The input to [`Mode::from_str`] named no mode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown mode `{0}` (expected dag, sequential or parallel)")]
pub struct UnknownMode(pub String);

impl FromStr for Mode {
    type Err = UnknownMode;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        match input.trim().to_ascii_lowercase().as_str() {
            "dag" => Ok(Mode::Dag),
            "sequential" => Ok(Mode::Sequential),
            "parallel" => Ok(Mode::Parallel),
            _ => Err(UnknownMode(input.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_run_in_bash_with_the_step_name_as_dollar_zero() {
        let options = Step::script("lint", "echo $0").start_options(1);
        assert_eq!(options.command, "bash");
        assert_eq!(options.args, ["-c", "echo $0", "lint"]);
        assert_eq!(options.name.as_deref(), Some("lint"));
    }

    #[test]
    fn programs_keep_their_arguments_exactly() {
        let step = Step::command("build", "cargo").args(["build", "--release"]).arg("a b");
        let options = step.start_options(2);
        assert_eq!(options.command, "cargo");
        assert_eq!(options.args, ["build", "--release", "a b"]);
        assert_eq!(options.labels["pipeline.attempt"], "2");
    }

    #[test]
    fn modes_parse_and_print() {
        for mode in [Mode::Dag, Mode::Sequential, Mode::Parallel] {
            assert_eq!(mode.to_string().parse::<Mode>().unwrap(), mode);
        }
        assert_eq!(" DAG ".parse::<Mode>().unwrap(), Mode::Dag);
        assert!("waves".parse::<Mode>().unwrap_err().to_string().contains("`waves`"));
    }
}
