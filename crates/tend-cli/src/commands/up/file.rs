//! Which file `tend up` without FILE runs: the first of [`CANDIDATES`] in the current
//! directory. (Whether it is a Procfile is `tend::runner::is_procfile`'s to say.)

use std::path::{Path, PathBuf};

use crate::UsageError;

/// What `tend up` without FILE looks for in the current directory, in this order.
pub(crate) const CANDIDATES: [&str; 4] = ["tend.toml", "tend.yaml", "tend.yml", "Procfile"];

/// The first of [`CANDIDATES`] present in `dir`, as its bare name (so messages read
/// `tend.toml:3:1: …` as they would for `tend up tend.toml`). None present: a usage error
/// naming every candidate and the directory.
pub(crate) fn look_up(dir: &Path) -> Result<PathBuf, UsageError> {
    // `try_exists`, not `is_file`: a file present but unreadable is picked, and reading it
    // then fails with an error naming it, rather than being passed over in silence.
    let found = CANDIDATES.iter().find(|name| dir.join(name).try_exists().unwrap_or(false));
    match found {
        Some(name) => Ok(PathBuf::from(name)),
        None => Err(UsageError(format!(
            "nothing to run: cannot read `tend.toml`, `tend.yaml`, `tend.yml` or `Procfile` in \
             `{}` (none exists); name a file: tend up FILE",
            dir.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system's temporary one, removed on drop (tend-cli has no
    /// tempfile dependency for three tests).
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(test: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("tend-up-{test}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn the_lookup_takes_the_first_candidate_present() {
        let dir = Scratch::new("first");
        let touch = |name: &str| std::fs::write(dir.path().join(name), "").unwrap();
        touch("Procfile");
        assert_eq!(look_up(dir.path()).unwrap(), PathBuf::from("Procfile"));
        touch("tend.yml");
        assert_eq!(look_up(dir.path()).unwrap(), PathBuf::from("tend.yml"));
        touch("tend.yaml");
        assert_eq!(look_up(dir.path()).unwrap(), PathBuf::from("tend.yaml"));
        touch("tend.toml");
        assert_eq!(look_up(dir.path()).unwrap(), PathBuf::from("tend.toml"));
    }

    #[test]
    fn nothing_to_run_names_every_candidate_and_the_directory() {
        let dir = Scratch::new("none");
        // A `procfile` in lower case is not the `Procfile` looked for.
        std::fs::write(dir.path().join("procfile"), "").unwrap();
        let error = look_up(dir.path()).unwrap_err().0;
        for name in CANDIDATES {
            assert!(error.contains(&format!("`{name}`")), "{error}");
        }
        assert!(error.contains(&dir.path().display().to_string()), "{error}");
        // The words older scripts (and tests) look for.
        assert!(error.contains("cannot read `tend.toml`"), "{error}");
    }
}
