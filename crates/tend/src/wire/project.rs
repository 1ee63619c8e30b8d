//! Requests and answers of the project actions (`project.*`) and the `/projects` routes: a
//! stack (services and steps) applied to the daemon under a name, kept there, reloaded by
//! difference and taken down.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ProcessInfo;

/// What `project.apply` (`POST /projects`) and `project.reload`
/// (`POST /projects/{name}/reload`) take: a stack file's schema as JSON, plus the project's
/// `name` and `dir`.
///
/// ```json
/// {"name": "shop", "dir": "/home/me/shop",
///  "env": {"RUST_LOG": "info"},
///  "services": {"db": {"command": "postgres", "ready": {"tcp": "127.0.0.1:5432"}},
///               "web": {"run": "./web", "after": ["db"]}},
///  "steps": {"migrate": {"run": "./migrate", "after": ["db"]}}}
/// ```
///
/// `env`, `env_file`, `steps` and `services` are the file's top-level keys with the file's
/// meaning (a `[services.NAME]` table is `services.NAME` here), read by the file schema's own
/// reader, so a request is refused exactly where the file would be. Relative paths (`dir`,
/// `env_file`, `log`) are taken from `dir`, where services and steps without a `dir` also
/// run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ProjectRequest {
    /// The project's name: 1 to 64 of `A-Z a-z 0-9 . _ -`, not starting with `.` (it names
    /// the project's directories in the state directory).
    pub name: String,
    /// The absolute directory of the project's file.
    pub dir: String,
    /// Variables for every step and service (the file's top-level `env`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Map<String, Value>>,
    /// Files of variables for every step and service, relative to `dir` (a string or a
    /// list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_file: Option<Value>,
    /// The file's `[steps.NAME]` tables by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Map<String, Value>>,
    /// The file's `[services.NAME]` tables by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<Map<String, Value>>,
    /// At most this many of the project's processes run at once; starts beyond are
    /// `queued` (absent or 0: no bound of its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs: Option<usize>,
}

/// Names a project (`project.get`, `project.delete`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ProjectRef {
    /// The project's name.
    pub name: String,
}

/// Names one service of a project (`project.service_start`, `project.service_stop`,
/// `project.service_restart`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ProjectServiceRef {
    /// The project's name.
    pub project: String,
    /// The service's name in it.
    pub service: String,
}

/// Where a project's service is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceState {
    /// Waiting for the services and steps it runs after.
    Waiting,
    /// Started (or restarted), not ready yet.
    Starting,
    /// Running and ready (at once for a service without a `ready` probe).
    Ready,
    /// Not ready in time, not startable, or ended for good by itself; `error` says why.
    Failed,
    /// Stopped on request (`tend stop NAME`), or ended by itself with code 0 for good.
    Stopped,
}

/// One service of a project with its live state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProjectServiceInfo {
    /// The service's name.
    pub name: String,
    /// Where it is.
    pub state: ServiceState,
    /// Why it failed (the probe's last error, the start error), else null.
    pub error: Option<String>,
    /// The services and steps it runs after.
    pub after: Vec<String>,
    /// Its managed process (one record across its restarts), null before it started.
    pub process: Option<ProcessInfo>,
}

/// A project as the daemon holds it (`project.get`, and each item of `project.list`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProjectInfo {
    /// The project's name.
    pub name: String,
    /// The directory of its file.
    pub dir: String,
    /// Its services, in dependency order (ties by name).
    pub services: Vec<ProjectServiceInfo>,
    /// The id of the pipeline running its steps (`GET /pipelines/{id}`), null without steps.
    pub pipeline: Option<String>,
    /// When it was first applied (RFC 3339).
    pub created_at: jiff::Timestamp,
    /// When its definition last changed (RFC 3339).
    pub updated_at: jiff::Timestamp,
}

/// What an apply or a reload did to one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceChange {
    /// New: started.
    Added,
    /// Gone from the definition: stopped.
    Removed,
    /// Its definition changed: restarted with the new one.
    Changed,
    /// The same definition: untouched (same process, same PID).
    Unchanged,
}

/// One line of what an apply or a reload did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ServiceChanged {
    /// The service.
    pub name: String,
    /// What was done to it.
    pub change: ServiceChange,
}

/// The answer of `project.apply` and `project.reload`: the project and what changed, one
/// line per service (in the order the changes were made).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProjectApplied {
    /// Whether the project is new (201) rather than an existing one updated (200).
    pub created: bool,
    /// What was done, one line per service.
    pub changes: Vec<ServiceChanged>,
    /// The project after the change (services may still be starting).
    pub project: ProjectInfo,
}
