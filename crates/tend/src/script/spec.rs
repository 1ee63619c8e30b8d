//! [`Script`]: what to run in bash, how to hand it over, and with which environment.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;

use crate::process::{LineCallback, OutputMode, StdinMode};
use crate::{StartOptions, Stream};

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
/// Every field is public too, and every [`StartOptions`] knob that makes sense for bash is
/// here (restart, output file, ring size, stdin data, …).
///
/// ```no_run
/// # async fn demo() -> Result<(), tend::script::ScriptError> {
/// use tend::Service;
/// use tend::script::Script;
///
/// let service = Service::new();
/// let process = Script::commands([["echo", "it's $HOME; not expanded"], ["ls", "-l"]])
///     .strict(true)
///     .env("GREETING", "hello")
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
    /// Variables added to (or overriding) the inherited environment, in order (a later entry
    /// for the same name wins), as [`StartOptions::env`]. A bad name is refused at start with
    /// the same error as there (see [`check_env_name`](crate::process::check_env_name)).
    pub env: Vec<(String, String)>,
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
    /// Bytes written to the script's standard input in file mode, afresh for every run (see
    /// [`StartOptions::stdin_data`](StartOptions#structfield.stdin_data)). Inline mode
    /// ignores it.
    pub stdin_data: Option<Bytes>,
    /// Where standard output and error go.
    pub output: OutputMode,
    /// Standard error on standard output's pipe, in exact write order (see
    /// [`StartOptions::merge_stderr`](StartOptions#structfield.merge_stderr)).
    pub merge_stderr: bool,
    /// Called with every line of every run (see [`StartOptions::on_line`]).
    pub on_line: Option<LineCallback>,
    /// Ring capacity in bytes.
    pub ring_size: usize,
    /// Longest line event.
    pub max_line: usize,
    /// How long to keep draining output after bash exits.
    pub leak_timeout: Duration,
    /// Also append the combined output to this file, kept across restarts (see
    /// [`StartOptions::output_file`](StartOptions#structfield.output_file)).
    pub output_file: Option<PathBuf>,
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
        // The process knobs start from the same defaults as every other managed process.
        let defaults = StartOptions::new("bash");
        Self {
            source,
            strict: false,
            mode: ScriptMode::default(),
            env: Vec::new(),
            clear_env: false,
            allow_detached: false,
            dir: None,
            stdin: defaults.stdin,
            stdin_data: None,
            output: defaults.output,
            merge_stderr: defaults.merge_stderr,
            on_line: None,
            ring_size: defaults.ring_size,
            max_line: defaults.max_line,
            leak_timeout: defaults.leak_timeout,
            output_file: None,
            capture: defaults.capture,
            detach: defaults.detach,
            timeout: None,
            grace: defaults.grace,
            restart: defaults.restart,
            name: None,
            labels: BTreeMap::new(),
            interpreter: defaults.command,
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

    /// Sets an environment variable, as [`StartOptions::env`] and
    /// [`Step::env`](crate::runner::Step::env) do; the name is checked when the script starts.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets environment variables from `(name, value)` pairs.
    pub fn envs<I, K, V>(mut self, pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.env.extend(pairs.into_iter().map(|(key, value)| (key.into(), value.into())));
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

    /// Sets bytes for the script's standard input (file mode only), fed to every run.
    pub fn stdin_data(mut self, data: impl Into<Bytes>) -> Self {
        self.stdin_data = Some(data.into());
        self
    }

    /// Sets where output goes.
    pub fn output(mut self, mode: OutputMode) -> Self {
        self.output = mode;
        self
    }

    /// Puts standard error on standard output's pipe, so the output keeps the exact order of
    /// writes (see [`StartOptions::merge_stderr`]).
    pub fn merge_stderr(mut self, merge: bool) -> Self {
        self.merge_stderr = merge;
        self
    }

    /// Calls `callback` with every line of every run, from the reader (see
    /// [`StartOptions::on_line`]).
    pub fn on_line(mut self, callback: impl Fn(Stream, &[u8]) + Send + Sync + 'static) -> Self {
        self.on_line = Some(LineCallback::new(callback));
        self
    }

    /// Sets the ring capacity in bytes.
    pub fn ring_size(mut self, bytes: usize) -> Self {
        self.ring_size = bytes;
        self
    }

    /// Sets the longest line event.
    pub fn max_line(mut self, bytes: usize) -> Self {
        self.max_line = bytes;
        self
    }

    /// Sets the leak timeout.
    pub fn leak_timeout(mut self, leak_timeout: Duration) -> Self {
        self.leak_timeout = leak_timeout;
        self
    }

    /// Also appends the combined output to `path`, across restarts: gpud's restart plus
    /// output-file setup.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tend::script::ScriptError> {
    /// use std::time::Duration;
    /// use tend::script::Script;
    /// use tend::{Restart, Service};
    ///
    /// let service = Service::new();
    /// let agent = Script::new("./agent --serve")
    ///     .restart(Restart::on_failure().delay(Duration::from_secs(1)))
    ///     .output_file("/var/log/agent.log")
    ///     .ring_size(1 << 20)
    ///     .start(&service)?;
    /// # Ok(()) }
    /// ```
    pub fn output_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.output_file = Some(path.into());
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
