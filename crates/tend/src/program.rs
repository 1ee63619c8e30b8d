//! [`Program`]: find an executable on `PATH` once, then run it for its trimmed output.
//!
//! ```no_run
//! use tend::program::Program;
//!
//! # async fn demo() -> Result<(), tend::program::ProgramError> {
//! let git = Program::find("git")?;
//! let branch = git.run_in("/srv/repo", ["rev-parse", "--abbrev-ref", "HEAD"]).await?;
//! println!("{} is on {branch}", git.path().display());
//! # Ok(())
//! # }
//! ```
//!
//! # Lookup rules
//!
//! * A name containing `/` is a path, not searched on `PATH`. A relative one (`./tool`,
//!   `bin/tool`) resolves against the working directory given to [`Program::find_in`] (the
//!   current directory for [`Program::find`]).
//! * Otherwise each `PATH` entry is tried in order. An **empty entry is skipped**: it does not
//!   mean the current directory, so a stray `:` in `PATH` cannot make a file in whatever
//!   directory you happen to be in run instead of the real program. An explicit relative entry
//!   (`.`, `bin`) is deliberate and resolves against the given working directory.
//! * A match must be a regular file (after following symlinks) with an execute bit set.
//! * The path found is absolute, so the program still runs from another directory.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::CancellationToken;
use crate::Signal;
use crate::exec::{Cmd, ExecError, describe_exit, exit_parts};

/// An executable found on disk, with the name it was asked for.
///
/// Running it captures stdout and stderr together and returns them trimmed of surrounding
/// whitespace. [`cancel`](Program::cancel) and [`timeout`](Program::timeout) apply to every run;
/// either one, or dropping a run's future, kills the child's whole process group (see
/// [`exec`](crate::exec)).
#[derive(Debug, Clone)]
pub struct Program {
    name: String,
    path: PathBuf,
    cancel: Option<CancellationToken>,
    timeout: Option<Duration>,
}

/// Why a [`Program`] could not be found or did not run successfully. Every variant names the
/// program.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProgramError {
    /// No executable by that name.
    #[error("program `{program}` not found: {reason}")]
    NotFound {
        /// The name that was looked up.
        program: String,
        /// What was tried, e.g. `not on PATH` or `/opt/x/tool is not executable`.
        reason: String,
    },
    /// It ran and exited unsuccessfully.
    #[error("`{program}` {}{}", describe_exit(*exit_code, *signal), last_words(output))]
    Failed {
        /// The program's name.
        program: String,
        /// The exit code, if it exited.
        exit_code: Option<i32>,
        /// The signal that ended it, if one did.
        signal: Option<Signal>,
        /// Its combined stdout and stderr, trimmed.
        output: String,
    },
    /// The cancellation token fired; the whole process group was killed.
    #[error("`{program}` was cancelled")]
    Cancelled {
        /// The program's name.
        program: String,
        /// What it wrote before it was stopped, trimmed.
        output: String,
    },
    /// The timeout passed; the whole process group was killed.
    #[error("`{program}` timed out after {}", humantime::format_duration(*after))]
    TimedOut {
        /// The program's name.
        program: String,
        /// The timeout that passed.
        after: Duration,
        /// What it wrote before it was stopped, trimmed.
        output: String,
    },
    /// Starting it or reading its output failed.
    #[error(transparent)]
    Exec(#[from] ExecError),
}

impl Program {
    /// Finds `name` on the `PATH` of this process, resolving relative paths against the
    /// current directory. See the [module documentation](self) for the rules.
    ///
    /// ```
    /// use tend::program::{Program, ProgramError};
    /// let sh = Program::find("sh").unwrap();
    /// assert!(sh.path().is_absolute());
    /// let missing = Program::find("no-such-program-here").unwrap_err();
    /// assert!(missing.to_string().contains("no-such-program-here"));
    /// ```
    pub fn find(name: &str) -> Result<Program, ProgramError> {
        Program::find_in(name, ".")
    }

    /// Finds `name` on the `PATH` of this process, resolving a relative path (and relative
    /// `PATH` entries) against `dir`.
    pub fn find_in(name: &str, dir: impl AsRef<Path>) -> Result<Program, ProgramError> {
        let path = std::env::var_os("PATH");
        Program::find_with_path(name, path.as_deref(), dir)
    }

    /// Finds `name` on the search path `path` (`PATH` syntax: entries separated by `:`;
    /// `None` for no search path), resolving relative paths against `dir`.
    pub fn find_with_path(
        name: &str,
        path: Option<&OsStr>,
        dir: impl AsRef<Path>,
    ) -> Result<Program, ProgramError> {
        let not_found =
            |reason: String| ProgramError::NotFound { program: name.to_owned(), reason };
        let found = lookup(name, path, dir.as_ref()).map_err(not_found)?;
        // Absolute, so that running it from another directory finds the same file.
        let path = std::path::absolute(&found).unwrap_or(found);
        Ok(Program { name: name.to_owned(), path, cancel: None, timeout: None })
    }

    /// The name it was looked up by.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The absolute path of the executable found.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Kills every run of this program (the whole process group) when `token` is cancelled.
    pub fn cancel(mut self, token: CancellationToken) -> Program {
        self.cancel = Some(token);
        self
    }

    /// Kills a run (the whole process group) that takes longer than `timeout`; zero means no
    /// timeout, and so does one of [`FOREVER`](crate::FOREVER) (100 years) or more.
    pub fn timeout(mut self, timeout: Duration) -> Program {
        self.timeout = Some(timeout);
        self
    }

    /// A [`Cmd`] for this program with its cancellation and timeout, for anything `run`
    /// does not cover (stdin, environment, separate streams).
    pub fn command(&self) -> Cmd {
        let mut cmd = Cmd::new(&self.path);
        if let Some(token) = &self.cancel {
            cmd = cmd.cancel(token.clone());
        }
        if let Some(timeout) = self.timeout {
            cmd = cmd.timeout(timeout);
        }
        cmd
    }

    /// Runs the program in the current directory and returns its stdout and stderr, in the
    /// order it wrote them (one shared pipe, as [`Cmd::combined_output`]), trimmed of surrounding
    /// whitespace (invalid UTF-8 becomes U+FFFD). Returning only text, this is a *checked*
    /// form (see the [crate docs](crate#one-meaning-of-failure)): a non-zero exit is
    /// [`ProgramError::Failed`], which keeps the output and code; use [`command`](Program::command)
    /// for the status instead.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tend::program::ProgramError> {
    /// let version = tend::program::Program::find("rustc")?.run(["--version"]).await?;
    /// assert!(version.starts_with("rustc "));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn run<I, S>(&self, args: I) -> Result<String, ProgramError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.finish(self.command().args(args)).await
    }

    /// Like [`run`](Program::run), with `dir` as the working directory.
    pub async fn run_in<I, S>(&self, dir: impl AsRef<Path>, args: I) -> Result<String, ProgramError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.finish(self.command().dir(dir).args(args)).await
    }

    async fn finish(&self, cmd: Cmd) -> Result<String, ProgramError> {
        let program = self.name.clone();
        match cmd.combined_output().await {
            Ok(out) if out.status.success() => Ok(trimmed(&out.output)),
            Ok(out) => {
                let (exit_code, signal) = exit_parts(out.status);
                Err(ProgramError::Failed {
                    program,
                    exit_code,
                    signal,
                    output: trimmed(&out.output),
                })
            }
            Err(ExecError::Cancelled { output, .. }) => {
                Err(ProgramError::Cancelled { program, output: trimmed(&output) })
            }
            Err(ExecError::TimedOut { after, output, .. }) => {
                Err(ProgramError::TimedOut { program, after, output: trimmed(&output) })
            }
            Err(other) => Err(ProgramError::Exec(other)),
        }
    }
}

/// Output as text without surrounding whitespace.
fn trimmed(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_owned()
}

/// The end of a failed program's output for its error message: its last line, shortened.
fn last_words(output: &str) -> String {
    const MAX: usize = 200;
    let Some(line) = output.lines().map(str::trim).rfind(|line| !line.is_empty()) else {
        return String::new();
    };
    if line.len() <= MAX {
        return format!(": {line}");
    }
    let mut cut = MAX;
    while !line.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(": {}…", &line[..cut])
}

/// Resolves `name` to an executable file, or says why not.
fn lookup(name: &str, search: Option<&OsStr>, dir: &Path) -> Result<PathBuf, String> {
    if name.is_empty() {
        return Err("the name is empty".to_owned());
    }
    if name.contains('/') {
        let candidate = dir.join(name);
        return match check_executable(&candidate) {
            Ok(()) => Ok(candidate),
            Err(why) => Err(format!("{} {why}", candidate.display())),
        };
    }
    let search = search.filter(|path| !path.is_empty()).ok_or("PATH is empty")?;
    let mut rejected = None;
    for entry in std::env::split_paths(search) {
        if entry.as_os_str().is_empty() {
            continue;
        }
        let candidate = if entry.is_absolute() { entry } else { dir.join(entry) }.join(name);
        match check_executable(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(Unusable::Absent) => {}
            Err(why) => {
                rejected.get_or_insert_with(|| format!("{} {why}", candidate.display()));
            }
        }
    }
    Err(match rejected {
        Some(rejected) => format!("not on PATH ({rejected})"),
        None => "not on PATH".to_owned(),
    })
}

/// Why a candidate path is not a runnable program.
#[derive(Debug)]
enum Unusable {
    Absent,
    Special,
    NoExecuteBit,
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unusable::Absent => "does not exist",
            Unusable::Special => "is not a regular file",
            Unusable::NoExecuteBit => "is not executable",
        })
    }
}

/// A regular file (symlinks followed) with at least one execute bit. Like Go's `LookPath`,
/// this reads the mode rather than asking `access(2)`, so a file executable only by other
/// users still counts; running it then fails with a permission error that names it.
fn check_executable(path: &Path) -> Result<(), Unusable> {
    let meta = std::fs::metadata(path).map_err(|_| Unusable::Absent)?;
    if !meta.is_file() {
        return Err(Unusable::Special);
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(Unusable::NoExecuteBit);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_words_picks_the_last_line_and_shortens_it() {
        assert_eq!(last_words(""), "");
        assert_eq!(last_words("one\ntwo\n\n"), ": two");
        let long = "é".repeat(150);
        let words = last_words(&long);
        assert!(words.ends_with('…'));
        assert!(words.len() <= 2 + 200 + '…'.len_utf8());
    }

    #[test]
    fn empty_names_and_empty_paths_are_not_found() {
        let dir = Path::new("/");
        assert!(lookup("", Some(OsStr::new("/bin")), dir).unwrap_err().contains("empty"));
        assert!(lookup("sh", None, dir).unwrap_err().contains("PATH is empty"));
        assert!(lookup("sh", Some(OsStr::new("")), dir).unwrap_err().contains("PATH is empty"));
    }
}
