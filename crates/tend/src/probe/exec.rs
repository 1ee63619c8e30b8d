//! The `exec` probe: `bash -c COMMAND` exits with 0.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use super::{InvalidProbe, timed_out};
use crate::CancellationToken;
use crate::exec::{Cmd, ExecError, describe_exit, exit_parts};

/// Runs `bash -c COMMAND` through [`exec::Cmd`](crate::exec::Cmd); succeeds on exit code 0.
/// Built by [`Probe::exec`](super::Probe::exec) or [`ExecProbe::new`], then given the
/// service's directory and environment with [`dir`](ExecProbe::dir) and
/// [`env`](ExecProbe::env).
///
/// The command runs in a process group of its own with its standard streams on `/dev/null`;
/// when the check's time is up, the wait is cancelled or the check's future is dropped, the
/// whole group is killed and reaped.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use tend::probe::{ExecProbe, Readiness};
///
/// let probe = ExecProbe::new("pg_isready -h 127.0.0.1")?.dir("/srv/db").env("PGPORT", "5433");
/// Readiness::new(probe).wait().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecProbe {
    command: String,
    dir: Option<PathBuf>,
    env: Vec<(OsString, OsString)>,
}

impl ExecProbe {
    /// A probe running `command` with bash, in our directory and environment until told
    /// otherwise.
    ///
    /// # Errors
    ///
    /// [`InvalidProbe::Missing`] for an empty command, [`InvalidProbe::InvalidCommand`] for one
    /// with a NUL byte (no argument can hold one).
    pub fn new(command: &str) -> Result<ExecProbe, InvalidProbe> {
        if command.trim().is_empty() {
            return Err(InvalidProbe::Missing { kind: "exec", what: "command" });
        }
        if command.contains('\0') {
            return Err(InvalidProbe::InvalidCommand {
                command: command.escape_debug().to_string(),
                reason: "it contains a NUL byte".to_owned(),
            });
        }
        Ok(ExecProbe { command: command.to_owned(), dir: None, env: Vec::new() })
    }

    /// Runs the command in `dir` (a service's directory).
    pub fn dir(mut self, dir: impl AsRef<Path>) -> ExecProbe {
        self.dir = Some(dir.as_ref().to_owned());
        self
    }

    /// Sets one environment variable on top of the inherited environment (a service's own).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> ExecProbe {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets several environment variables, as [`env`](ExecProbe::env) does.
    pub fn envs<I, K, V>(mut self, vars: I) -> ExecProbe
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        self.env.extend(vars.into_iter().map(|(key, value)| (key.into(), value.into())));
        self
    }

    /// The command, as given.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// Runs it once, killed (its whole group) after `timeout` or when `cancel` fires.
    pub(crate) async fn check(
        &self,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<(), String> {
        let mut cmd = Cmd::new("bash")
            .arg("-c")
            .arg(&self.command)
            .envs(self.env.iter().map(|(key, value)| (key, value)))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .timeout(timeout)
            .cancel(cancel.child_token());
        if let Some(dir) = &self.dir {
            cmd = cmd.dir(dir);
        }
        match cmd.run().await {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => {
                let (exit_code, signal) = exit_parts(status);
                Err(describe_exit(exit_code, signal))
            }
            Err(ExecError::TimedOut { after, .. }) => Err(timed_out(after)),
            Err(ExecError::Cancelled { .. }) => Err("cancelled".to_owned()),
            Err(error) => Err(error.to_string()),
        }
    }
}
