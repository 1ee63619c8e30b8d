//! [`Script`]: what to run in bash, how to hand it over, and with which environment.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::process::{DEFAULT_GRACE, StdinMode};

/// Default name pattern of script files: the `*` becomes a random part.
pub const DEFAULT_PATTERN: &str = "tend-script-*.sh";

/// The strict header: stop at the first failing command, refuse unset variables, and let a
/// pipeline fail when any of its commands fails.
pub const STRICT_HEADER: &str = "set -o errexit -o nounset -o pipefail";

/// The script's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptSource {
    /// A bash script, as written.
    Text(String),
    /// Commands, each an argument vector; each becomes one line of the script with every word
    /// shell-quoted, so nothing in an argument is expanded, split or run.
    Commands(Vec<Vec<String>>),
}

/// How the script reaches bash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptMode {
    /// Written to a new file (mode 0600) and run as `bash FILE`; the file is removed when the
    /// process ends, or at once if it cannot be started.
    File {
        /// Directory of the file; the system's temporary directory when `None`.
        dir: Option<PathBuf>,
        /// File name; the last `*` is replaced by a random part, which is appended when there
        /// is no `*`. Must not contain `/`.
        pattern: String,
    },
    /// Fed to `bash -s` on its standard input; nothing touches the disk. The script's own
    /// commands read end-of-file from stdin (see the [module docs](super#inline-mode)).
    Inline,
}

impl Default for ScriptMode {
    fn default() -> Self {
        ScriptMode::File { dir: None, pattern: DEFAULT_PATTERN.to_owned() }
    }
}

/// A bash script to start as a managed process, in the manner of gpud's script runs, minus
/// their faults.
///
/// Build with [`Script::new`] (a script text) or [`Script::commands`] (argument vectors) and
/// the chained setters, then [`start`](Script::start) it on a [`Service`](crate::Service).
/// Every field is public too.
///
/// ```no_run
/// # async fn demo() -> Result<(), tend::script::ScriptError> {
/// use tend::Service;
/// use tend::script::Script;
///
/// let service = Service::new();
/// let process = Script::commands([["echo", "it's $HOME; not expanded"], ["ls", "-l"]])
///     .strict(true)
///     .env("GREETING=hello")
///     .name("listing")
///     .start(&service)?;
/// let info = process.wait().await;
/// println!("{:?}: {}", info.exit_code, process.output().to_string_lossy());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Script {
    /// The script's text.
    pub source: ScriptSource,
    /// Put [`STRICT_HEADER`] before the script.
    pub strict: bool,
    /// File (the default) or inline.
    pub mode: ScriptMode,
    /// `KEY=VALUE` entries added to (or overriding) the inherited environment. An entry without
    /// `=`, with an empty key, or repeating a key is an error naming it.
    pub env: Vec<String>,
    /// Start from an empty environment: only [`env`](Self::env) is set. (bash still sets a
    /// default `PATH` of its own when none is given.)
    pub clear_env: bool,
    /// Let jobs the script starts in the background (`cmd &`) outlive it. Off by default: when
    /// the script ends, whatever is left of its process group is killed, and kill reaches the
    /// whole group. On: neither happens, and kill reaches bash only.
    pub allow_detached: bool,
    /// The interpreter: `bash` on `PATH` unless set.
    pub interpreter: String,
    /// Working directory; the supervisor's own when `None`.
    pub dir: Option<PathBuf>,
    /// Standard input of the script in file mode. Inline mode ignores it: stdin carries the
    /// script.
    pub stdin: StdinMode,
    /// Keep output in the process's ring.
    pub capture: bool,
    /// Detach the process (its own session; not killed when the supervisor stops or dies).
    pub detach: bool,
    /// End the script gracefully after this long (zero: no timeout).
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL when shutting down.
    pub grace: Duration,
    /// Restart policy; the script file stays until the last run has ended.
    pub restart: crate::process::Restart,
    /// A human name for the process.
    pub name: Option<String>,
    /// Labels of the process.
    pub labels: BTreeMap<String, String>,
}

impl Script {
    /// A script from its text, with every default: file mode, not strict, inherited
    /// environment, background jobs killed with the script.
    pub fn new(text: impl Into<String>) -> Self {
        Self::from_source(ScriptSource::Text(text.into()))
    }

    /// A script of commands, each an argument vector, run one after another. Every word is
    /// quoted, so `["echo", "a b; rm x"]` prints `a b; rm x`.
    pub fn commands<I, C, S>(commands: I) -> Self
    where
        I: IntoIterator<Item = C>,
        C: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let commands =
            commands.into_iter().map(|argv| argv.into_iter().map(Into::into).collect()).collect();
        Self::from_source(ScriptSource::Commands(commands))
    }

    /// A script from either kind of source, with every default.
    pub fn from_source(source: ScriptSource) -> Self {
        Self {
            source,
            strict: false,
            mode: ScriptMode::default(),
            env: Vec::new(),
            clear_env: false,
            allow_detached: false,
            interpreter: "bash".to_owned(),
            dir: None,
            stdin: StdinMode::Null,
            capture: true,
            detach: false,
            timeout: None,
            grace: DEFAULT_GRACE,
            restart: crate::process::Restart::never(),
            name: None,
            labels: BTreeMap::new(),
        }
    }

    /// Turns the strict header on or off.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Sets how the script reaches bash.
    pub fn mode(mut self, mode: ScriptMode) -> Self {
        self.mode = mode;
        self
    }

    /// Feeds the script to `bash -s` on stdin instead of writing a file.
    pub fn inline(self) -> Self {
        self.mode(ScriptMode::Inline)
    }

    /// File mode, with the file in `dir` (keeps the pattern if already in file mode).
    pub fn file_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        let pattern = self.file_pattern_or_default();
        self.mode = ScriptMode::File { dir: Some(dir.into()), pattern };
        self
    }

    /// File mode, with files named after `pattern` (keeps the directory if already in file
    /// mode).
    pub fn file_pattern(mut self, pattern: impl Into<String>) -> Self {
        let dir = match &self.mode {
            ScriptMode::File { dir, .. } => dir.clone(),
            ScriptMode::Inline => None,
        };
        self.mode = ScriptMode::File { dir, pattern: pattern.into() };
        self
    }

    fn file_pattern_or_default(&self) -> String {
        match &self.mode {
            ScriptMode::File { pattern, .. } => pattern.clone(),
            ScriptMode::Inline => DEFAULT_PATTERN.to_owned(),
        }
    }

    /// Adds a `KEY=VALUE` environment entry (checked when the script starts).
    pub fn env(mut self, entry: impl Into<String>) -> Self {
        self.env.push(entry.into());
        self
    }

    /// Adds `KEY=VALUE` environment entries.
    pub fn envs<I, S>(mut self, entries: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.env.extend(entries.into_iter().map(Into::into));
        self
    }

    /// Starts from an empty environment.
    pub fn clear_env(mut self, clear: bool) -> Self {
        self.clear_env = clear;
        self
    }

    /// Lets background jobs outlive the script (see
    /// [`allow_detached`](#structfield.allow_detached)).
    pub fn allow_detached(mut self, allow: bool) -> Self {
        self.allow_detached = allow;
        self
    }

    /// Sets the interpreter (a bash).
    pub fn interpreter(mut self, interpreter: impl Into<String>) -> Self {
        self.interpreter = interpreter.into();
        self
    }

    /// Sets the working directory.
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Sets standard input (file mode only).
    pub fn stdin(mut self, mode: StdinMode) -> Self {
        self.stdin = mode;
        self
    }

    /// Turns capture into the output ring on or off.
    pub fn capture(mut self, capture: bool) -> Self {
        self.capture = capture;
        self
    }

    /// Detaches the process.
    pub fn detach(mut self, detach: bool) -> Self {
        self.detach = detach;
        self
    }

    /// Sets a timeout; zero means no timeout, and so does one of [`FOREVER`](crate::FOREVER) (100
    /// years) or more.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the grace period.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Sets the restart policy. Each run gets the script afresh, in either mode.
    pub fn restart(mut self, restart: crate::process::Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Names the process.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Adds a label.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }
}
