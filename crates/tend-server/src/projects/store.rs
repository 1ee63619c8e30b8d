//! [`ProjectStore`]: the applied projects kept in `STATE_DIR/projects/`, one file each
//! (`NAME.json`, the [`ProjectRequest`] as applied), written atomically and read back when
//! the daemon starts, so that it can bring them up again.

use std::io;
use std::path::Path;

use tend::wire::ProjectRequest;

use crate::json_dir::JsonDir;

/// The saved projects of one state directory. Files are written through a temporary file,
/// flushed and renamed (never through a symbolic link), mode `0600`, in a `0700` directory.
#[derive(Debug, Clone)]
pub(crate) struct ProjectStore {
    files: JsonDir,
}

impl ProjectStore {
    /// The store under `state_dir` (`state_dir/projects`, created 0700 if missing).
    pub(crate) fn open(state_dir: &Path) -> io::Result<Self> {
        Ok(Self { files: JsonDir::open(state_dir, "projects")? })
    }

    /// Saves (or replaces) the project's definition, atomically. A name that cannot name a
    /// project (see [`ProjectRequest::name`]) is refused (`InvalidInput`) and nothing is
    /// written.
    pub(crate) fn save(&self, project: &ProjectRequest) -> io::Result<()> {
        check_name(&project.name)?;
        self.files.write(&project.name, project)
    }

    /// Forgets the project (no error if it was not saved).
    pub(crate) fn remove(&self, name: &str) -> io::Result<()> {
        check_name(name)?;
        self.files.remove(name)
    }

    /// Every saved project, by name; a corrupt file (one that does not parse, or whose name
    /// is not the project's) is set aside (`*.corrupt`) and reported in the daemon's log,
    /// never an error.
    pub(crate) fn load(&self) -> Vec<ProjectRequest> {
        let named_as_file = |key: &str, project: &ProjectRequest| {
            if project.name == key {
                Ok(())
            } else {
                Err(format!("it holds project `{}`, not `{key}`", project.name))
            }
        };
        self.files.read_all(named_as_file).into_iter().map(|(_, project)| project).collect()
    }
}

/// A project's name names its file: 1 to 64 of `A-Z a-z 0-9 . _ -`, not starting with `.`.
fn check_name(name: &str) -> io::Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if (1..=64).contains(&name.len()) && !name.starts_with('.') && name.chars().all(allowed) {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "`{name}` cannot name a project: 1 to 64 of A-Z a-z 0-9 . _ -, not starting with ."
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(name: &str) -> ProjectRequest {
        let services = serde_json::json!({"web": {"command": "sleep", "args": ["60"]}});
        ProjectRequest {
            name: name.to_owned(),
            dir: "/srv/shop".to_owned(),
            services: services.as_object().cloned(),
            ..Default::default()
        }
    }

    #[test]
    fn saved_projects_load_back_replaced_removed_and_corrupt_ones_set_aside() {
        let state = tempfile::tempdir().unwrap();
        let store = ProjectStore::open(state.path()).unwrap();
        assert!(store.load().is_empty());
        store.save(&project("shop")).unwrap();
        let mut changed = project("api");
        store.save(&changed).unwrap();
        changed.jobs = Some(2);
        store.save(&changed).unwrap();
        assert_eq!(store.load(), vec![changed.clone(), project("shop")], "by name, replaced");

        let dir = state.path().join("projects");
        std::fs::write(dir.join("torn.json"), b"{\"name\": \"torn\", \"dir").unwrap();
        let mut renamed = project("other");
        renamed.name = "other".into();
        tend::daemon::write_state_file(
            &dir,
            "misnamed.json",
            &serde_json::to_vec(&renamed).unwrap(),
            0o600,
        )
        .unwrap();
        assert_eq!(store.load(), vec![changed, project("shop")]);
        assert!(
            dir.join("torn.json.corrupt").exists() && dir.join("misnamed.json.corrupt").exists()
        );
        assert!(!dir.join("torn.json").exists() && !dir.join("misnamed.json").exists());

        store.remove("api").unwrap();
        store.remove("api").unwrap();
        assert_eq!(store.load(), vec![project("shop")]);
        for bad in ["", ".hidden", "a/b", "../up", &"x".repeat(65)] {
            let error = store.save(&project(bad)).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{bad}");
        }
    }
}
