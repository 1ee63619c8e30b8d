//! `--restart POLICY` of `tend run` and `tend start`: the policy names as the command line
//! spells them, one way everywhere (`never`, `on-failure`, `always`, listed by `--help` and
//! by the error for a bad value); `on_failure`, as the API and stack files write it, is
//! accepted too, and case does not matter.

use std::time::Duration;

use clap::{Args, ValueEnum};
use tend::{MaxRestarts, RestartPolicy};

use crate::durations::parse_duration;

/// A restart policy given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RestartFlag {
    /// Never restart.
    Never,
    /// After a non-zero exit code or a signal.
    #[value(alias = "on_failure")]
    OnFailure,
    /// After every end, success included.
    Always,
}

impl From<RestartFlag> for RestartPolicy {
    fn from(flag: RestartFlag) -> Self {
        match flag {
            RestartFlag::Never => RestartPolicy::Never,
            RestartFlag::OnFailure => RestartPolicy::OnFailure,
            RestartFlag::Always => RestartPolicy::Always,
        }
    }
}

/// The restart flags `tend run` and `tend start` share.
#[derive(Debug, Args)]
pub(crate) struct RestartArgs {
    /// Start the program again when it ends (`tend run` exits with the last run's status).
    #[arg(long, value_name = "POLICY", ignore_case = true)]
    pub(crate) restart: Option<RestartFlag>,
    /// Most restarts, in total: a number, or `unlimited` (the default).
    #[arg(long, value_name = "N", requires = "restart")]
    pub(crate) max_restarts: Option<MaxRestarts>,
    /// Delay before the first restart; it doubles with each restart, up to 30 s (or the delay
    /// itself when longer), and starts over after a run of 10 s or more. Default 100ms.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "restart")]
    pub(crate) restart_delay: Option<Duration>,
}
