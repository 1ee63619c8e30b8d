//! [`ProjectStore`]: the applied projects kept in `STATE_DIR/projects/`, one file each,
//! written atomically and read back when the daemon starts. (SKELETON: helper S implements.)

use std::path::{Path, PathBuf};

use tend::wire::ProjectRequest;

/// The saved projects of one state directory.
#[derive(Debug, Clone)]
pub(crate) struct ProjectStore {
    dir: PathBuf,
}

impl ProjectStore {
    /// The store under `state_dir` (`state_dir/projects`, created 0700 if missing).
    pub(crate) fn open(state_dir: &Path) -> std::io::Result<Self> {
        let _ = state_dir;
        todo!("helper S")
    }

    /// Saves (or replaces) the project's definition, atomically.
    pub(crate) fn save(&self, project: &ProjectRequest) -> std::io::Result<()> {
        let _ = (project, &self.dir);
        todo!("helper S")
    }

    /// Forgets the project (no error if it was not saved).
    pub(crate) fn remove(&self, name: &str) -> std::io::Result<()> {
        let _ = name;
        todo!("helper S")
    }

    /// Every saved project, by name; a corrupt file is set aside (`*.corrupt`) and reported
    /// in the daemon's log, never an error.
    pub(crate) fn load(&self) -> Vec<ProjectRequest> {
        todo!("helper S")
    }
}
