//! `--restart POLICY` of `tend run` and `tend start`: the policy names as the command line
//! spells them, one way everywhere (`never`, `on-failure`, `always`, listed by `--help` and
//! by the error for a bad value); `on_failure`, as the API and stack files write it, is
//! accepted too, and case does not matter.

use clap::ValueEnum;
use tend::RestartPolicy;

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
