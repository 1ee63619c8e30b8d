//! [`JsonDir`]: a directory of the daemon's state directory holding one JSON file per key
//! (`projects/NAME.json`, `records/ID.json`), written atomically and privately, read back
//! with the bad files set aside.

use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tend::daemon::{read_private_file_up_to, secure_state_dir, write_state_file};

/// The largest state file read back (a request body is at most 1 MiB; its JSON kept here is
/// about as long). A longer file is set aside as corrupt.
pub(crate) const MAX_JSON_FILE_BYTES: u64 = 4 << 20;

/// The suffix a file that cannot be read back is renamed with.
pub(crate) const CORRUPT_SUFFIX: &str = ".corrupt";

/// One directory of JSON state files, `KEY.json` each.
///
/// * The directory is created `0700` (a more open one is narrowed); a symbolic link there is
///   refused.
/// * A write goes to a fresh temporary file (created exclusively, never through a link),
///   flushed to disk and renamed over `KEY.json` with mode `0600`
///   ([`write_state_file`]): a crash leaves the old file or the new one, never a mix.
/// * Reading back, a file that is not a private regular file (a link, another user's, open
///   to others), is longer than [`MAX_JSON_FILE_BYTES`], does not parse or fails the
///   caller's check is renamed `KEY.json.corrupt` and reported on stderr (the daemon's log);
///   the others are read as if it were not there.
#[derive(Debug, Clone)]
pub(crate) struct JsonDir {
    dir: PathBuf,
}

impl JsonDir {
    /// `state_dir/name`, created `0700` if missing.
    pub(crate) fn open(state_dir: &Path, name: &str) -> io::Result<Self> {
        let dir = state_dir.join(name);
        if let Some(mode) = secure_state_dir(&dir, true).map_err(io::Error::other)? {
            warn(&format!("{} had mode {mode:04o}; narrowed to 0700", dir.display()));
        }
        Ok(Self { dir })
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.dir
    }

    /// The file of `key`.
    pub(crate) fn file(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// Writes `value` as `KEY.json`, atomically, mode `0600`.
    pub(crate) fn write<T: Serialize>(&self, key: &str, value: &T) -> io::Result<()> {
        let json = serde_json::to_vec(value).map_err(io::Error::other)?;
        write_state_file(&self.dir, &format!("{key}.json"), &json, 0o600)
            .map(drop)
            .map_err(io::Error::other)
    }

    /// Removes `KEY.json`; no error if there is none.
    pub(crate) fn remove(&self, key: &str) -> io::Result<()> {
        match std::fs::remove_file(self.file(key)) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }

    /// Every `KEY.json` (hidden files, such as a write's temporary file, and other names
    /// are skipped), read and parsed, by key. One that fails to read, to parse, or `check`
    /// (given its key and value; an `Err` says why) is set aside, never returned.
    pub(crate) fn read_all<T: DeserializeOwned>(
        &self,
        check: impl Fn(&str, &T) -> Result<(), String>,
    ) -> Vec<(String, T)> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(error) => {
                warn(&format!("cannot list {}: {error}", self.dir.display()));
                return Vec::new();
            }
        };
        let mut found = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(key) = name.to_str().and_then(|n| n.strip_suffix(".json")) else { continue };
            if key.is_empty() || key.starts_with('.') {
                continue;
            }
            match self.read_one(key, &check) {
                Ok(value) => found.push((key.to_owned(), value)),
                Err(None) => {} // gone since the listing
                Err(Some(reason)) => self.set_aside(key, &reason),
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found
    }

    /// One file: its value, or why it is bad (`None`: it is gone).
    fn read_one<T: DeserializeOwned>(
        &self,
        key: &str,
        check: &impl Fn(&str, &T) -> Result<(), String>,
    ) -> Result<T, Option<String>> {
        let path = self.file(key);
        let bytes = match read_private_file_up_to(&path, MAX_JSON_FILE_BYTES + 1) {
            Ok(bytes) => bytes,
            Err(error) if error.is_not_found() => return Err(None),
            Err(error) => return Err(Some(error.to_string())),
        };
        if bytes.len() as u64 > MAX_JSON_FILE_BYTES {
            return Err(Some(format!("longer than {MAX_JSON_FILE_BYTES} bytes")));
        }
        let value = serde_json::from_slice(&bytes).map_err(|e| Some(e.to_string()))?;
        check(key, &value).map_err(Some)?;
        Ok(value)
    }

    /// Renames `KEY.json` to `KEY.json.corrupt` (replacing an older one) and says so.
    fn set_aside(&self, key: &str, reason: &str) {
        let path = self.file(key);
        let aside = self.dir.join(format!("{key}.json{CORRUPT_SUFFIX}"));
        match std::fs::rename(&path, &aside) {
            Ok(()) => warn(&format!(
                "{} cannot be read back ({reason}); set aside as {}",
                path.display(),
                aside.display()
            )),
            Err(error) => warn(&format!(
                "{} cannot be read back ({reason}), nor set aside: {error}",
                path.display()
            )),
        }
    }
}

/// A warning on stderr, which is the daemon's log (`daemon.log` when it runs detached).
pub(crate) fn warn(message: &str) {
    eprintln!("tend: warning: {message}");
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn bad_files_are_set_aside_and_good_ones_read() {
        let state = tempfile::tempdir().unwrap();
        let files = JsonDir::open(state.path(), "things").unwrap();
        let mode = std::fs::metadata(files.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        files.write("good", &serde_json::json!({"n": 1})).unwrap();
        files.write("odd", &serde_json::json!({"n": 2})).unwrap();
        let mode = std::fs::metadata(files.file("good")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::write(files.file("broken"), b"{\"n\": ").unwrap();
        std::fs::set_permissions(files.file("broken"), std::fs::Permissions::from_mode(0o600))
            .unwrap();
        std::os::unix::fs::symlink(files.file("good"), files.file("link")).unwrap();
        std::fs::write(files.path().join(".hidden.json"), b"junk").unwrap();

        let check = |key: &str, value: &serde_json::Value| match key {
            "odd" => Err(format!("{value} is odd")),
            _ => Ok(()),
        };
        let read: Vec<(String, serde_json::Value)> = files.read_all(check);
        assert_eq!(read, vec![("good".to_owned(), serde_json::json!({"n": 1}))]);
        for bad in ["broken", "link", "odd"] {
            assert!(!files.file(bad).exists(), "{bad} set aside");
            let aside = files.path().join(format!("{bad}.json.corrupt"));
            assert!(aside.symlink_metadata().is_ok(), "{bad} kept as {}", aside.display());
        }
        assert!(files.path().join(".hidden.json").exists(), "hidden files are left alone");

        files.remove("good").unwrap();
        files.remove("good").unwrap();
        assert!(files.read_all(check).is_empty());
    }
}
