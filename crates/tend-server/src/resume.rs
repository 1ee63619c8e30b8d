//! [`resume_projects`]: a starting daemon brings the projects saved in its state directory
//! back up ("resurrect"), each through the `project.apply` action as if applied again.

use std::path::Path;

use serde_json::Value;

use crate::ServerState;
use crate::json_dir::warn;
use crate::projects::store::ProjectStore;

/// What [`resume_projects`] did: the projects applied again, and those that failed with
/// why, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resumed {
    /// Applied again.
    pub applied: Vec<String>,
    /// Not applied: name and reason.
    pub failed: Vec<(String, String)>,
}

/// Applies every project saved in `state_dir/projects/` again, in name order, through the
/// `project.apply` action (so with the same checks and effects as `POST /projects`, saving
/// included). A project that fails is reported on stderr (the daemon's log) and the others
/// still come up; a corrupt file is set aside (`NAME.json.corrupt`) and reported the same
/// way. `tend daemon` calls it once it serves, unless started with `--no-resume`.
///
/// ```no_run
/// # async fn demo(state: tend_server::ServerState) {
/// let resumed = tend_server::resume_projects(&state, "/home/me/.local/state/tend".as_ref()).await;
/// println!("{} projects back up, {} failed", resumed.applied.len(), resumed.failed.len());
/// # }
/// ```
pub async fn resume_projects(state: &ServerState, state_dir: &Path) -> Resumed {
    let mut resumed = Resumed::default();
    let saved = match ProjectStore::open(state_dir) {
        Ok(store) => store.load(),
        Err(error) => {
            warn(&format!("saved projects cannot be read: {error}"));
            return resumed;
        }
    };
    for project in saved {
        let name = project.name.clone();
        match state.actions().call::<_, Value>("project.apply", &project).await {
            Ok(_) => {
                eprintln!("tend: project {name} brought back up");
                resumed.applied.push(name);
            }
            Err(error) => {
                warn(&format!("project {name} could not be brought back up: {error}"));
                resumed.failed.push((name, error.to_string()));
            }
        }
    }
    resumed
}
