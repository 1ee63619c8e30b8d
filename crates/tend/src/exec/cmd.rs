//! [`Cmd`]: the builder, and the three ways to run it to the end.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::capture::Capture;
use super::drive::{Running, Stop, Streams};
use super::error::exit_parts;
use super::{CombinedOutput, ExecError, ExecOutput};

/// How long to keep reading output after the program exited, for pipes that a background
/// grandchild still holds open.
pub(crate) const DEFAULT_DRAIN: Duration = Duration::from_millis(250);

/// A command to run: program, arguments, environment, standard streams, limits.
///
/// Built like [`std::process::Command`], then consumed by one of [`output`](Cmd::output),
/// [`combined_output`](Cmd::combined_output), [`run`](Cmd::run) or
/// [`spawn_background`](Cmd::spawn_background). Every child starts in a process group of its
/// own, and cancellation, the timeout and dropping the future all kill that whole group. See
/// the [module documentation](crate::exec) for the details and caveats.
///
/// ```no_run
/// use std::time::Duration;
/// use tend::CancellationToken;
/// use tend::exec::Cmd;
///
/// # async fn demo() -> Result<(), tend::exec::ExecError> {
/// let cancel = CancellationToken::new();
/// let out = Cmd::new("git")
///     .args(["log", "-1", "--format=%H"])
///     .dir("/srv/repo")
///     .env("GIT_PAGER", "cat")
///     .timeout(Duration::from_secs(10))
///     .cancel(cancel.clone())
///     .output()
///     .await?;
/// assert!(out.status.success());
/// println!("head is {}", String::from_utf8_lossy(&out.stdout).trim());
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Cmd {
    pub(crate) command: tokio::process::Command,
    pub(crate) program: String,
    pub(crate) stdin: Input,
    pub(crate) stdout: Option<Stdio>,
    pub(crate) stderr: Option<Stdio>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) cancel: Option<CancellationToken>,
    pub(crate) drain: Duration,
    pub(crate) checked: bool,
}

/// What a command reads on its standard input. Defaults to [`Input::Null`] for every form, so
/// a child never competes with its parent for the terminal unless asked to.
#[derive(Debug, Default)]
pub enum Input {
    /// `/dev/null`: the child reads end-of-file at once.
    #[default]
    Null,
    /// The parent's own standard input.
    Inherit,
    /// These bytes, written concurrently with reading the output (so a child that echoes its
    /// input cannot deadlock), then end-of-file. A child that exits without reading them all
    /// is not an error.
    Bytes(Vec<u8>),
    /// Any other source: a file, a pipe, … .
    Stdio(Stdio),
}

impl From<Vec<u8>> for Input {
    fn from(bytes: Vec<u8>) -> Self {
        Input::Bytes(bytes)
    }
}

impl From<&[u8]> for Input {
    fn from(bytes: &[u8]) -> Self {
        Input::Bytes(bytes.to_vec())
    }
}

impl From<String> for Input {
    fn from(text: String) -> Self {
        Input::Bytes(text.into_bytes())
    }
}

impl From<&str> for Input {
    fn from(text: &str) -> Self {
        Input::Bytes(text.as_bytes().to_vec())
    }
}

impl From<Stdio> for Input {
    fn from(stdio: Stdio) -> Self {
        Input::Stdio(stdio)
    }
}

impl From<File> for Input {
    fn from(file: File) -> Self {
        Input::Stdio(file.into())
    }
}

impl Cmd {
    /// A command running `program`, found on `PATH` if it has no `/` (use
    /// [`Program`](crate::program::Program) for a lookup that reports "not found" up front).
    pub fn new(program: impl AsRef<OsStr>) -> Cmd {
        let program = program.as_ref();
        Cmd {
            command: tokio::process::Command::new(program),
            program: program.to_string_lossy().into_owned(),
            stdin: Input::Null,
            stdout: None,
            stderr: None,
            timeout: None,
            cancel: None,
            drain: DEFAULT_DRAIN,
            checked: false,
        }
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Cmd {
        self.command.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command.args(args);
        self
    }

    /// Runs the program in `dir` instead of the current directory. Whether a relative
    /// program path (`./tool`) then means relative to `dir` or to our own directory is
    /// platform-specific (see [`std::process::Command::current_dir`]); give an absolute path,
    /// e.g. from [`Program::find_in`](crate::program::Program::find_in), to be sure.
    pub fn dir(mut self, dir: impl AsRef<Path>) -> Cmd {
        self.command.current_dir(dir);
        self
    }

    /// Sets one environment variable. The child still inherits the rest of our environment:
    /// variables are added or replaced, never the whole set, unless [`env_clear`](Cmd::env_clear)
    /// is called.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Cmd {
        self.command.env(key, value);
        self
    }

    /// Sets several environment variables, as [`env`](Cmd::env) does.
    pub fn envs<I, K, V>(mut self, vars: I) -> Cmd
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.command.envs(vars);
        self
    }

    /// Removes one variable from the child's environment.
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Cmd {
        self.command.env_remove(key);
        self
    }

    /// Starts the child with an empty environment plus whatever [`env`](Cmd::env) sets after
    /// this call. Note that without `PATH` a program name without `/` is then searched in a
    /// platform default path.
    pub fn env_clear(mut self) -> Cmd {
        self.command.env_clear();
        self
    }

    /// Sets standard input: bytes (`Vec<u8>`, `&str`, …), a [`File`], a [`Stdio`], or an
    /// [`Input`]. The default is [`Input::Null`].
    pub fn stdin(mut self, input: impl Into<Input>) -> Cmd {
        self.stdin = input.into();
        self
    }

    /// Sends standard output here. By default [`output`](Cmd::output) and
    /// [`combined_output`](Cmd::combined_output) capture it and the other forms inherit ours;
    /// an explicit choice wins over both, as with [`std::process::Command::output`] (and what
    /// goes elsewhere is then not captured).
    pub fn stdout(mut self, stdout: impl Into<Stdio>) -> Cmd {
        self.stdout = Some(stdout.into());
        self
    }

    /// Sends standard error here; see [`stdout`](Cmd::stdout) for the defaults.
    pub fn stderr(mut self, stderr: impl Into<Stdio>) -> Cmd {
        self.stderr = Some(stderr.into());
        self
    }

    /// Kills the whole process group if the program has not exited `timeout` after it
    /// started; the run then fails with [`ExecError::TimedOut`]. A timeout of zero, or of
    /// [`FOREVER`](crate::FOREVER) or more, is no timeout.
    pub fn timeout(mut self, timeout: Duration) -> Cmd {
        self.timeout = Some(timeout);
        self
    }

    /// Kills the whole process group when `token` is cancelled; the run then fails with
    /// [`ExecError::Cancelled`]. A token cancelled before the start means the program is
    /// never started.
    pub fn cancel(mut self, token: CancellationToken) -> Cmd {
        self.cancel = Some(token);
        self
    }

    /// How long to keep reading output after the program exited (default 250 ms). A
    /// background job the program left behind can hold the output pipes open for ever; the
    /// run ends this long after the exit even if it does, with what was read by then.
    pub fn drain_timeout(mut self, drain: Duration) -> Cmd {
        self.drain = drain;
        self
    }

    /// Makes every form fail with [`ExecError::Failed`] (carrying what was captured) when the
    /// program ends other than with exit code 0, as duct's default and Go's `Run`/`Output` do.
    /// Without it a non-zero exit is an outcome, returned in the status (the crate's one rule:
    /// see the [crate docs](crate#one-meaning-of-failure)).
    ///
    /// ```no_run
    /// # async fn demo() {
    /// use tend::exec::{Cmd, ExecError};
    ///
    /// let status = Cmd::new("false").run().await.unwrap();
    /// assert_eq!(status.code(), Some(1));
    /// let error = Cmd::new("false").checked().run().await.unwrap_err();
    /// assert!(matches!(error, ExecError::Failed { exit_code: Some(1), .. }));
    /// # }
    /// ```
    pub fn checked(mut self) -> Cmd {
        self.checked = true;
        self
    }

    /// Runs to the end, capturing stdout and stderr separately (both read concurrently, so
    /// neither pipe can fill up and stall the child). A non-zero exit is not an error (unless
    /// [`checked`](Cmd::checked)): look at [`ExecOutput::status`].
    pub async fn output(self) -> Result<ExecOutput, ExecError> {
        let checked = self.checked;
        let running = Running::start(self, Streams::Capture)?;
        let program = running.program.clone();
        let mut capture = Capture::separate();
        let finished = running.finish(&mut capture, None).await?;
        let (stdout, stderr) = capture.into_separate();
        match finished.stop {
            None if checked && !finished.status.success() => {
                Err(failed(program, finished.status, [stdout, stderr].concat()))
            }
            None => Ok(ExecOutput { status: finished.status, stdout, stderr }),
            Some(stop) => Err(stop.into_error(program, [stdout, stderr].concat())),
        }
    }

    /// Runs to the end, capturing stdout and stderr into one buffer in exactly the order the
    /// child wrote them: both go into one shared pipe, as with `2>&1`. (If one of the two was
    /// redirected with [`stdout`](Cmd::stdout) or [`stderr`](Cmd::stderr), the other is
    /// captured alone.) A non-zero exit is not an error (unless [`checked`](Cmd::checked)):
    /// look at [`CombinedOutput::status`].
    pub async fn combined_output(self) -> Result<CombinedOutput, ExecError> {
        let checked = self.checked;
        let running = Running::start(self, Streams::Merge)?;
        let program = running.program.clone();
        let mut capture = Capture::combined();
        let finished = running.finish(&mut capture, None).await?;
        let output = capture.into_combined();
        match finished.stop {
            None if checked && !finished.status.success() => {
                Err(failed(program, finished.status, output))
            }
            None => Ok(CombinedOutput { status: finished.status, output }),
            Some(stop) => Err(stop.into_error(program, output)),
        }
    }

    /// Runs to the end with the standard streams inherited (unless set) and returns how it
    /// ended. A non-zero exit is not an error (unless [`checked`](Cmd::checked)).
    pub async fn run(self) -> Result<ExitStatus, ExecError> {
        let checked = self.checked;
        let running = Running::start(self, Streams::Inherit)?;
        let program = running.program.clone();
        let finished = running.finish(&mut Capture::Nothing, None).await?;
        match finished.stop {
            Some(stop) => Err(stop.into_error(program, Vec::new())),
            None if checked && !finished.status.success() => {
                Err(failed(program, finished.status, Vec::new()))
            }
            None => Ok(finished.status),
        }
    }

    /// The arguments, for log lines.
    pub(crate) fn arg_list(&self) -> Vec<OsString> {
        self.command.as_std().get_args().map(OsStr::to_owned).collect()
    }
}

/// The error of a [`checked`](Cmd::checked) run that ended unsuccessfully.
fn failed(program: String, status: ExitStatus, output: Vec<u8>) -> ExecError {
    let (exit_code, signal) = exit_parts(status);
    ExecError::Failed { program, exit_code, signal, output }
}

impl Stop {
    /// The error for a run that was stopped, carrying what it had written.
    pub(crate) fn into_error(self, program: String, output: Vec<u8>) -> ExecError {
        match self {
            Stop::Cancelled => ExecError::Cancelled { program, output },
            Stop::TimedOut(after) => ExecError::TimedOut { program, after, output },
        }
    }
}
