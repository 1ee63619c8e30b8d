//! Projects: stacks of services and steps applied to the daemon under a name, kept running,
//! reloaded by difference and taken down (`project.*` actions, `/projects` routes).
//!
//! Each service of a project is ONE managed process of the server's [`Service`] for its
//! whole life ([`unit`]): named after the service, labelled `project=PROJECT` and
//! `service=NAME`, restarted by the library's restart policy from its `restart` keys, its
//! readiness checked after every (re)start and published as `ready` events. It starts once
//! everything it runs `after` is ready (a service) or has passed (a step). The project's
//! steps run as one pipeline of the server ([`ProjectInfo::pipeline`](tend::wire::ProjectInfo)),
//! started when the project is applied, once the services any step runs after are ready.
//!
//! A service without its own `log` key writes its output to `STATE_DIR/logs/PROJECT/NAME.log`
//! when the server has a state directory (rotated at 10 MiB, 5 files kept). Two projects may
//! each have a service of the same name: processes of services are not required to have
//! unique names.
//!
//! Bounds: at most [`MAX_PROJECTS`] projects (429 `limit_reached` beyond); a project's size
//! is bounded by the request body (1 MiB).

pub(crate) mod actions;
mod apply;
mod definition;
pub(crate) mod store;
mod unit;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use jiff::Timestamp;
use tend::wire::{ProjectInfo, ProjectRequest};
use tend::{CancellationToken, Service};
use tokio::sync::watch;

use crate::pipelines::actions::PipelineHost;
use store::ProjectStore;
use unit::Unit;

pub use definition::MAX_NAME_LEN;

/// The most projects a server holds at once.
pub const MAX_PROJECTS: usize = 256;

/// The server's projects. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Projects {
    inner: Arc<Inner>,
}

struct Inner {
    service: Service,
    /// Runs the projects' steps.
    pipelines: PipelineHost,
    /// `STATE_DIR/logs`, when the server has a state directory.
    logs: Option<PathBuf>,
    /// Where applied projects are saved, when the server has a state directory.
    store: Option<ProjectStore>,
    table: Mutex<BTreeMap<String, Project>>,
    /// Held by every change (apply, reload, delete, a service's start, stop or restart), so
    /// two changes never interleave; reading the table does not wait for it.
    changes: tokio::sync::Mutex<()>,
}

/// One project as the server holds it.
#[derive(Clone)]
struct Project {
    request: ProjectRequest,
    /// Its services by name.
    units: BTreeMap<String, Arc<Unit>>,
    /// Its services' names in dependency order (ties by name).
    order: Vec<String>,
    /// Its steps' definition, to tell whether a reload changed them.
    steps_definition: String,
    /// The id of the pipeline running its steps, once launched.
    pipeline: watch::Receiver<Option<String>>,
    /// Stops the task that launches the steps (waiting for the services they run after).
    steps_stop: CancellationToken,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl Project {
    fn info(&self) -> ProjectInfo {
        ProjectInfo {
            name: self.request.name.clone(),
            dir: self.request.dir.clone(),
            services: self.order.iter().map(|name| self.units[name].info()).collect(),
            pipeline: self.pipeline.borrow().clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl Projects {
    /// The projects of a server whose processes run in `pipelines.service`, with its state
    /// directory, if any.
    pub(crate) fn new(pipelines: PipelineHost, state_dir: Option<PathBuf>) -> Self {
        let store = state_dir.as_deref().and_then(|dir| match ProjectStore::open(dir) {
            Ok(store) => Some(store),
            Err(error) => {
                tracing::warn!(%error, dir = %dir.display(), "projects will not be saved");
                None
            }
        });
        let logs = state_dir.map(|dir| dir.join("logs"));
        Self {
            inner: Arc::new(Inner {
                service: pipelines.service.clone(),
                pipelines,
                logs,
                store,
                table: Mutex::new(BTreeMap::new()),
                changes: tokio::sync::Mutex::new(()),
            }),
        }
    }

    fn table(&self) -> MutexGuard<'_, BTreeMap<String, Project>> {
        self.inner.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every project, by name, with live status.
    pub(crate) fn list(&self) -> Vec<ProjectInfo> {
        self.table().values().map(Project::info).collect()
    }

    /// One project with live status.
    pub(crate) fn get(&self, name: &str) -> Option<ProjectInfo> {
        self.table().get(name).map(Project::info)
    }

    fn project(&self, name: &str) -> Option<Project> {
        self.table().get(name).cloned()
    }
}
