//! [`Script`]: what to run in bash, how to hand it over, and with which environment.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;

use crate::process::{OutputMode, Restart, StdinMode};
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
/// Beside its own settings (strict, mode, interpreter, background jobs, environment) every
/// [`StartOptions`] knob that makes sense for bash is here (restart, output file, ring size,
/// stdin data, …), passed on to bash's start options and documented there.
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
    pub(crate) source: ScriptSource,
    /// Put [`STRICT_HEADER`] before the script.
    pub(crate) strict: bool,
    /// File (the default) or inline.
    pub(crate) mode: ScriptMode,
    /// bash's start options: the interpreter as the command and every process knob. Its
    /// arguments (the file, or `-s`) and, inline, its stdin are added at start.
    pub(crate) options: StartOptions,
}

/// Setters passed straight on to bash's [`StartOptions`], each documented by its namesake
/// there.
macro_rules! start_options_setters {
    ($($(#[$doc:meta])* fn $name:ident($($arg:ident: $type:ty),*);)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, $($arg: $type),*) -> Self {
                self.options = self.options.$name($($arg),*);
                self
            }
        )*
    };
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
        Self {
            source,
            strict: false,
            mode: ScriptMode::default(),
            options: StartOptions::new("bash"),
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

    /// Sets environment variables from `(name, value)` pairs, in order (a later entry for the
    /// same name wins), as [`env`](Self::env) does.
    pub fn envs<I, K, V>(mut self, pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        for (key, value) in pairs {
            self.options = self.options.env(key, value);
        }
        self
    }

    /// Starts from an empty environment: only [`env`](Self::env) is set. (bash still sets a
    /// default `PATH` of its own when none is given.)
    pub fn clear_env(mut self, clear: bool) -> Self {
        self.options.clear_env = clear;
        self
    }

    /// Lets jobs the script starts in the background (`cmd &`) outlive it. Off by default:
    /// when the script ends, whatever is left of its process group is killed, and kill
    /// reaches the whole group. On: neither happens, and kill reaches bash only (bash's
    /// [`StartOptions::kill_group`] off).
    pub fn allow_detached(mut self, allow: bool) -> Self {
        self.options = self.options.kill_group(!allow);
        self
    }

    /// Whether background jobs may outlive the script (see
    /// [`allow_detached`](Self::allow_detached)).
    pub(crate) fn allows_detached(&self) -> bool {
        !self.options.kill_group
    }

    /// Sets the interpreter (a bash; `bash` on `PATH` by default).
    pub fn interpreter(mut self, interpreter: impl Into<String>) -> Self {
        self.options.command = interpreter.into();
        self
    }

    start_options_setters! {
        /// Adds an environment variable, as [`StartOptions::env`] and
        /// [`Step::env`](crate::runner::Step::env) do; a bad name is refused when the script
        /// starts, with the same error as there (see
        /// [`check_env_name`](crate::process::check_env_name)).
        fn env(key: impl Into<OsString>, value: impl Into<OsString>);
        /// Sets the working directory (the supervisor's own by default).
        fn dir(dir: impl Into<PathBuf>);
        /// Sets standard input in file mode ([`StdinMode::Null`] by default). Inline mode
        /// ignores it: stdin carries the script.
        fn stdin(mode: StdinMode);
        /// Sets bytes for the script's standard input in file mode, fed to every run (see
        /// [`StartOptions::stdin_data`]). Inline mode ignores them.
        fn stdin_data(data: impl Into<Bytes>);
        /// Sets where output goes (see [`StartOptions::output`]).
        fn output(mode: OutputMode);
        /// Puts standard error on standard output's pipe, so the output keeps the exact order
        /// of writes (see [`StartOptions::merge_stderr`]).
        fn merge_stderr(merge: bool);
        /// Calls `callback` with every line of every run, from the reader (see
        /// [`StartOptions::on_line`]).
        fn on_line(callback: impl Fn(Stream, &[u8]) + Send + Sync + 'static);
        /// Sets the ring capacity in bytes (see [`StartOptions::ring_size`]).
        fn ring_size(bytes: usize);
        /// Sets the longest line event (see [`StartOptions::max_line`]).
        fn max_line(bytes: usize);
        /// Sets how long to keep draining output after bash exits (see
        /// [`StartOptions::leak_timeout`]).
        fn leak_timeout(leak_timeout: Duration);
        /// Also appends the combined output to `path`, across restarts: gpud's restart plus
        /// output-file setup (see [`StartOptions::output_file`]).
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
        fn output_file(path: impl Into<PathBuf>);
        /// Turns capture into the output ring on or off (see [`StartOptions::capture`]).
        fn capture(capture: bool);
        /// Detaches the process (see [`StartOptions::detach`]).
        fn detach(detach: bool);
        /// Ends the script gracefully after `timeout` (see [`StartOptions::timeout`]).
        fn timeout(timeout: Duration);
        /// Sets the time between SIGTERM and SIGKILL (see [`StartOptions::grace`]).
        fn grace(grace: Duration);
        /// Sets the restart policy. Each run gets the script afresh, in either mode; the
        /// script file stays until the last run has ended.
        fn restart(restart: Restart);
        /// Names the process.
        fn name(name: impl Into<String>);
        /// Refuses the start while an unfinished process has the same name.
        fn unique_name(unique: bool);
        /// Adds a label to the process.
        fn label(key: impl Into<String>, value: impl Into<String>);
    }
}
