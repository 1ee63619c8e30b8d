//! The file of a file-mode script: a new file (never an existing one, mode 0600) with a
//! random part in its name, removed when dropped.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Random hexadecimal digits in a script file's name (64 bits): enough that guessing one is
/// hopeless.
const RANDOM_LEN: usize = 16;

/// Names tried before giving up when each is taken (only a name someone else created at
/// that very moment, or planted, is).
const ATTEMPTS: usize = 16;

/// A script file on disk; dropping it removes the file.
#[derive(Debug)]
pub(super) struct ScriptFile {
    path: PathBuf,
}

impl ScriptFile {
    /// Creates `dir/<prefix><random><suffix>` exclusively (`O_CREAT | O_EXCL`, so neither an
    /// existing file nor a symbolic link is ever opened) with mode 0600, and writes `text`.
    /// On failure nothing is left behind.
    pub(super) fn create(dir: &Path, prefix: &str, suffix: &str, text: &str) -> io::Result<Self> {
        for _ in 0..ATTEMPTS {
            let path = dir.join(format!("{prefix}{}{suffix}", random_part()));
            let mut file =
                match OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
                    Ok(file) => file,
                    Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
                    Err(error) => return Err(error),
                };
            // From here on dropping `script` (on a failed write, too) removes the file.
            let script = ScriptFile { path };
            // A `File` is unbuffered: once `write_all` returns, bash will read every byte.
            file.write_all(text.as_bytes())?;
            return Ok(script);
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{ATTEMPTS} random file names were all taken"),
        ))
    }

    /// Where the file is.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScriptFile {
    fn drop(&mut self) {
        // Already gone (removed by the script itself, say) is fine.
        let _ = fs::remove_file(&self.path);
    }
}

/// [`RANDOM_LEN`] random hexadecimal digits.
fn random_part() -> String {
    let mut hex = uuid::Uuid::new_v4().simple().to_string();
    hex.truncate(RANDOM_LEN);
    hex
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_new_private_file_named_after_the_pattern_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let file = ScriptFile::create(dir.path(), "job-", ".sh", "echo hi\n").unwrap();
        let name = file.path().file_name().unwrap().to_str().unwrap().to_owned();
        assert!(name.starts_with("job-") && name.ends_with(".sh"), "{name}");
        assert_eq!(name.len(), "job-".len() + RANDOM_LEN + ".sh".len());
        assert_eq!(fs::read_to_string(file.path()).unwrap(), "echo hi\n");
        let mode = fs::metadata(file.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);

        let other = ScriptFile::create(dir.path(), "job-", ".sh", "").unwrap();
        assert_ne!(other.path(), file.path());
        let path = file.path().to_owned();
        drop(file);
        assert!(!path.exists());
        assert!(other.path().exists());
    }

    #[test]
    fn a_missing_directory_is_an_error_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let error = ScriptFile::create(&missing, "a", "", "x").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
