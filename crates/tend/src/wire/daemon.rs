//! Requests and answers of the daemon actions (`daemon.*`) and the `/daemons` routes.

use serde::{Deserialize, Serialize};

use crate::daemon::DaemonEntry;

/// A request naming one registered daemon: `daemon.get`, `daemon.health`, `daemon.stop`
/// (`/daemons/{code}/{daemon}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DaemonRef {
    /// The daemon's code (its program or project).
    pub code: String,
    /// The daemon's name within its code.
    pub daemon: String,
}

/// The answer of `daemon.health`: whether its `/health` answered in time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DaemonHealth {
    /// `true` when it answered `200`.
    pub healthy: bool,
    /// `ok`, or why not.
    pub message: String,
}

/// The answer of `daemon.stop`: SIGTERM was sent to the process that registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DaemonStopped {
    /// Always `true` (a daemon that could not be signalled is an error).
    pub signalled: bool,
    /// The entry of the daemon signalled.
    pub entry: DaemonEntry,
}
