//! The registry of running daemons: one JSON file per daemon in a directory.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::entry::{DaemonEntry, file_name};
use super::error::RegistryError;
use super::store::{self, LockKind};

/// The environment variable that overrides the default registry directory.
pub const REGISTRY_DIR_ENV: &str = "TEND_REGISTRY_DIR";

/// A corrupt entry younger than this is left alone: a writer that does not write atomically
/// (go-process truncates, then writes) may be half-way through it.
const CORRUPT_GRACE: Duration = Duration::from_secs(2);
/// The longest file name we create, leaving room for the temporary file's suffix.
const MAX_FILE_NAME: usize = 200;

/// A directory of [`DaemonEntry`] files, one per running daemon, shared with go-process.
///
/// Every operation is safe against concurrent use by many threads and processes: writes are
/// atomic (temporary file and rename), and stale entries are removed only after re-checking
/// them under the directory lock, so a concurrent re-registration is never lost. [`get`] and
/// [`list`] prune entries whose process is gone (PID dead, or reused by another process) and
/// files that do not parse.
///
/// Operations are short, blocking file-system calls.
///
/// [`get`]: Self::get
/// [`list`]: Self::list
///
/// ```no_run
/// use tend::daemon::{DaemonEntry, Registry};
///
/// let registry = Registry::from_env()?;
/// registry.register(&DaemonEntry::for_current_process("core", "api"))?;
/// for entry in registry.list()? {
///     println!("{}/{} pid {}", entry.code, entry.daemon, entry.pid);
/// }
/// registry.unregister("core", "api")?;
/// # Ok::<(), tend::daemon::RegistryError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    dir: PathBuf,
}

impl Registry {
    /// A registry in `dir`. The directory is created by the first [`register`](Self::register).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The registry in [`default_dir`](Self::default_dir).
    ///
    /// # Errors
    ///
    /// [`RegistryError::NoHome`] if neither `TEND_REGISTRY_DIR` nor `HOME` is set.
    pub fn from_env() -> Result<Self, RegistryError> {
        Self::default_dir().map(Self::new)
    }

    /// `$TEND_REGISTRY_DIR` if set and not empty, else `~/.core/daemons` (go-process's place).
    ///
    /// # Errors
    ///
    /// [`RegistryError::NoHome`] if neither variable is set.
    pub fn default_dir() -> Result<PathBuf, RegistryError> {
        let from = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(dir) = from(REGISTRY_DIR_ENV) {
            return Ok(dir.into());
        }
        let home = from("HOME").ok_or(RegistryError::NoHome)?;
        Ok(PathBuf::from(home).join(".core").join("daemons"))
    }

    /// The registry directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds the entry for `(code, daemon)`.
    ///
    /// # Errors
    ///
    /// [`RegistryError::InvalidName`] if either part is empty or the name is too long.
    pub fn entry_path(&self, code: &str, daemon: &str) -> Result<PathBuf, RegistryError> {
        Ok(self.dir.join(checked_file_name(code, daemon)?))
    }

    /// Writes `entry`, replacing any entry with the same code and daemon, and returns its file.
    ///
    /// An entry without `process_start_ticks` or `boot_id` gets the current start time of its
    /// PID and the current boot ID, so a later reuse of that PID is recognised.
    ///
    /// # Errors
    ///
    /// [`RegistryError::InvalidName`] for an unusable name; [`RegistryError::Io`] if the
    /// directory cannot be created or written; [`RegistryError::Busy`] if a prune held the
    /// directory lock for seconds.
    pub fn register(&self, entry: &DaemonEntry) -> Result<PathBuf, RegistryError> {
        let (name, json) = self.prepare(entry)?;
        store::write_atomic(&self.dir, &name, &json)
    }

    /// Writes `entry` like [`register`](Self::register), but never over the live entry of
    /// another process: a daemon must not take over a running daemon's entry. An entry of
    /// the same process, a stale entry or a corrupt one is replaced.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Taken`] naming the file and its holder's PID; otherwise as for
    /// [`register`](Self::register).
    pub fn claim(&self, entry: &DaemonEntry) -> Result<PathBuf, RegistryError> {
        let (name, json) = self.prepare(entry)?;
        let path = self.dir.join(&name);
        let lock = store::lock_dir(&self.dir, LockKind::Exclusive)?;
        if let Found::Live(existing) = read_entry(&path)?
            && !existing.same_process(entry)
        {
            return Err(RegistryError::Taken { path, pid: existing.pid });
        }
        store::write_atomic_locked(&lock, &self.dir, &name, &json)
    }

    /// The file name and JSON of `entry`, with its start time and boot ID filled in, and the
    /// directory created.
    fn prepare(&self, entry: &DaemonEntry) -> Result<(String, Vec<u8>), RegistryError> {
        let name = checked_file_name(&entry.code, &entry.daemon)?;
        let mut entry = entry.clone();
        if entry.process_start_ticks.is_none() {
            entry.process_start_ticks = crate::os::start_time(entry.pid).ok();
        }
        if entry.boot_id.is_none() {
            entry.boot_id = crate::os::boot_id();
        }
        fs::create_dir_all(&self.dir).map_err(store::io_error(&self.dir, "create directory"))?;
        let mut json = serde_json::to_vec_pretty(&entry).expect("an entry always serializes");
        json.push(b'\n');
        Ok((name, json))
    }

    /// Removes the entry for `(code, daemon)`. Returns whether there was one.
    ///
    /// # Errors
    ///
    /// [`RegistryError::InvalidName`], [`RegistryError::Io`] or [`RegistryError::Busy`].
    pub fn unregister(&self, code: &str, daemon: &str) -> Result<bool, RegistryError> {
        let path = self.entry_path(code, daemon)?;
        if !path.exists() {
            return Ok(false);
        }
        let _lock = store::lock_dir(&self.dir, LockKind::Exclusive)?;
        store::remove_optional(&path)
    }

    /// Removes the entry for `(code, daemon)` only if it still describes process `pid`, so a
    /// stopping daemon never removes the entry of a successor.
    pub(crate) fn unregister_own(
        &self,
        code: &str,
        daemon: &str,
        pid: u32,
    ) -> Result<bool, RegistryError> {
        self.remove_if(code, daemon, |entry| entry.pid == pid)
    }

    /// Removes the file of `entry` only if it still describes the same process (PID and,
    /// when both record it, start time), so a stopping daemon never removes an entry another
    /// daemon wrote. Returns whether it removed one.
    ///
    /// # Errors
    ///
    /// [`RegistryError::InvalidName`], [`RegistryError::Io`] or [`RegistryError::Busy`].
    pub fn unregister_entry(&self, entry: &DaemonEntry) -> Result<bool, RegistryError> {
        self.remove_if(&entry.code, &entry.daemon, |found| found.same_process(entry))
    }

    fn remove_if(
        &self,
        code: &str,
        daemon: &str,
        ours: impl FnOnce(&DaemonEntry) -> bool,
    ) -> Result<bool, RegistryError> {
        let path = self.entry_path(code, daemon)?;
        if !path.exists() {
            return Ok(false);
        }
        let _lock = store::lock_dir(&self.dir, LockKind::Exclusive)?;
        match store::read_optional(&path)?.map(|bytes| parse(&bytes)) {
            Some(Some(entry)) if ours(&entry) => store::remove_optional(&path),
            _ => Ok(false),
        }
    }

    /// The live entry for `(code, daemon)`, or `None`. A stale or corrupt entry is pruned.
    ///
    /// # Errors
    ///
    /// [`RegistryError::InvalidName`], or [`RegistryError::Io`] if the file exists but cannot
    /// be read.
    pub fn get(&self, code: &str, daemon: &str) -> Result<Option<DaemonEntry>, RegistryError> {
        let path = self.entry_path(code, daemon)?;
        match read_entry(&path)? {
            Found::Live(entry) => Ok(Some(*entry)),
            Found::Missing => Ok(None),
            Found::Stale | Found::Corrupt => Ok(self.prune(vec![path]).pop()),
        }
    }

    /// Every live entry, oldest first (by `started`, then code and daemon). Stale and corrupt
    /// entries are pruned. A missing directory is an empty registry.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Io`] if the directory cannot be listed.
    pub fn list(&self) -> Result<Vec<DaemonEntry>, RegistryError> {
        let dir = match fs::read_dir(&self.dir) {
            Ok(dir) => dir,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(store::io_error(&self.dir, "list")(e)),
        };
        let mut live = Vec::new();
        let mut doubtful = Vec::new();
        for item in dir {
            let item = item.map_err(store::io_error(&self.dir, "list"))?;
            let name = item.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            let path = item.path();
            match read_entry(&path) {
                Ok(Found::Live(entry)) => live.push(*entry),
                Ok(Found::Missing) => {}
                Ok(Found::Stale | Found::Corrupt) => doubtful.push(path),
                // One unreadable file (say, another user's) must not hide the others.
                Err(_) => {}
            }
        }
        live.extend(self.prune(doubtful));
        live.sort_by(|a, b| (a.started, &a.code, &a.daemon).cmp(&(b.started, &b.code, &b.daemon)));
        Ok(live)
    }

    /// Removes the files among `paths` that are still stale, or corrupt and old enough, after
    /// re-reading them under the exclusive lock. Returns the entries that turned out live
    /// (re-registered meanwhile). Best effort: without the lock (say, a read-only registry)
    /// nothing is removed.
    fn prune(&self, paths: Vec<PathBuf>) -> Vec<DaemonEntry> {
        let mut revived = Vec::new();
        if paths.is_empty() {
            return revived;
        }
        let Ok(_lock) = store::lock_dir(&self.dir, LockKind::Exclusive) else {
            return revived;
        };
        for path in paths {
            match read_entry(&path) {
                Ok(Found::Live(entry)) => revived.push(*entry),
                Ok(Found::Stale) => {
                    let _ = store::remove_optional(&path);
                }
                Ok(Found::Corrupt) if store::age(&path).is_some_and(|age| age >= CORRUPT_GRACE) => {
                    let _ = store::remove_optional(&path);
                }
                _ => {}
            }
        }
        revived
    }
}

/// What one entry file turned out to be.
enum Found {
    // Boxed: the other variants carry nothing.
    Live(Box<DaemonEntry>),
    Stale,
    Corrupt,
    Missing,
}

fn read_entry(path: &Path) -> Result<Found, RegistryError> {
    let Some(bytes) = store::read_optional(path)? else { return Ok(Found::Missing) };
    Ok(match parse(&bytes) {
        Some(entry) if entry.is_alive() => Found::Live(Box::new(entry)),
        Some(_) => Found::Stale,
        None => Found::Corrupt,
    })
}

fn parse(bytes: &[u8]) -> Option<DaemonEntry> {
    serde_json::from_slice(bytes).ok()
}

fn checked_file_name(code: &str, daemon: &str) -> Result<String, RegistryError> {
    for (field, value) in [("code", code), ("daemon", daemon)] {
        if value.is_empty() {
            let value = value.to_owned();
            return Err(RegistryError::InvalidName { field, value, reason: "must not be empty" });
        }
    }
    let name = file_name(code, daemon);
    if name.len() > MAX_FILE_NAME {
        return Err(RegistryError::InvalidName {
            field: if code.len() >= daemon.len() { "code" } else { "daemon" },
            value: if code.len() >= daemon.len() { code } else { daemon }.to_owned(),
            reason: "the registry file name would be too long",
        });
    }
    Ok(name)
}
