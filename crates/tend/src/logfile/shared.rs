//! [`SharedLogFile`]: one [`LogFile`] that processes write to from their output readers.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};

use super::snapshot::{LogCount, LogSnapshot};

use super::trouble::Trouble;
use super::{LogFile, LogFileError, LogFileOptions};

/// A [`LogFile`] shared by the processes that write their output to it through
/// [`StartOptions::log_file`](crate::StartOptions::log_file): every run of a service appends
/// to the same file, rotated at line boundaries.
///
/// The output readers hand their whole lines to it directly, and wait while the disk is
/// behind (a bounded queue), so no byte is lost to a full capture ring, unlike a
/// [`follow`](super::follow)er of the ring. After 2 seconds without output from the processes
/// writing to it, the file is closed ([`release_file`](Self::release_file)) and the next write
/// opens it again: a quiet process holds no descriptor for its log.
///
/// A failing disk (full, read-only, no permission) never stops the processes: a failed
/// write returns at once, its bytes are counted as not written, and the next write tries
/// again. The error is kept ([`error`](Self::error)) until a write succeeds, logged once
/// (`tracing`, target `tend::logfile`) when it starts and once when writing resumes, and
/// every failed write counts in [`write_errors_total`](super::write_errors_total).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use tend::logfile::{LogFileOptions, SharedLogFile};
/// use tend::{ByteSize, Service, StartOptions};
///
/// let log = SharedLogFile::new(LogFileOptions::new().max_size(ByteSize::mib(1)).open("web.log")?);
/// let service = Service::new();
/// for _ in 0..3 {
///     service.run(StartOptions::new("date").log_file(log.clone())).await?;
/// }
/// log.close()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SharedLogFile(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    log: Mutex<LogFile>,
    path: PathBuf,
    trouble: Mutex<Option<Trouble>>,
}

impl SharedLogFile {
    /// Shares `log`.
    pub fn new(log: LogFile) -> Self {
        let path = log.path().to_path_buf();
        Self(Arc::new(Inner { log: Mutex::new(log), path, trouble: Mutex::new(None) }))
    }

    /// Opens `path` with `options`; when that fails, the log still exists and holds the
    /// error ([`error`](Self::error)): each write tries to open the file again, so a log
    /// whose directory cannot be created now (a full disk, a missing mount) starts once it
    /// can. This is how a daemon gives every process a log without a disk error ever
    /// refusing a start.
    pub fn open_or_retry(options: &LogFileOptions, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        match options.open(path) {
            Ok(log) => Self::new(log),
            Err(error) => {
                let shared = Self::new(options.unopened(path.to_path_buf()));
                shared.failed(&error, 0);
                shared
            }
        }
    }

    /// A log at `path` whose file is opened (created, with its missing directories) only at
    /// the first write: a process that prints nothing holds no open file and leaves no file
    /// behind. The checks are those of [`LogFileOptions::open`], made then; an error is kept
    /// as with [`open_or_retry`](Self::open_or_retry), and each later write tries again.
    /// This is how a daemon gives every process a log: thousands of silent processes cost
    /// no descriptor each.
    pub fn open_lazily(options: &LogFileOptions, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        if options.validate(path).is_err() {
            return Self::open_or_retry(options, path);
        }
        Self::new(options.unopened(path.to_path_buf()))
    }

    /// The live file's path.
    pub fn path(&self) -> &Path {
        &self.0.path
    }

    /// The error of the latest failed write (or open), with the bytes not written since the
    /// trouble began, e.g. `log file /var/log/web.log: No space left on device (4096 bytes
    /// not written)`; `None` when the latest write succeeded.
    pub fn error(&self) -> Option<String> {
        self.trouble().as_ref().map(|trouble| trouble.message(&self.0.path))
    }

    /// Appends `bytes` (see [`LogFile::write`]). Blocks on the file: call it from a blocking
    /// context. A failure is kept ([`error`](Self::error)) until a write succeeds.
    ///
    /// # Errors
    ///
    /// As [`LogFile::write`].
    pub fn write(&self, bytes: &[u8]) -> Result<(), LogFileError> {
        self.write_counted(bytes, None)
    }

    /// [`write`](Self::write), advancing `count` (one process's) under the same lock, so a
    /// [`snapshot_for`](Self::snapshot_for) always sees files and count agree.
    pub(crate) fn write_counted(
        &self,
        bytes: &[u8],
        count: Option<&LogCount>,
    ) -> Result<(), LogFileError> {
        let mut log = self.lock();
        let before = log.accounted();
        let result = log.write(bytes);
        let lost = (before + bytes.len() as u64).saturating_sub(log.accounted());
        if let Some(count) = count {
            count.logged.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            count.stream_end.store(log.accounted(), Ordering::Relaxed);
        }
        drop(log);
        match &result {
            Ok(()) => self.succeeded(),
            Err(error) => self.failed(error, lost),
        }
        result
    }

    /// Closes the live file until the next write opens it again (an unfinished line stays
    /// held): a process that has gone quiet then holds no descriptor for its log. A write
    /// after it costs one more `open`.
    pub fn release_file(&self) {
        self.lock().release_file();
    }

    /// Its files and held unfinished line at this instant (see [`LogSnapshot`]): taken under
    /// the lock every write takes, so no write or rotation is half done in it.
    pub fn snapshot(&self) -> LogSnapshot {
        let log = self.lock();
        log.snapshot()
    }

    /// The snapshot cut where the bytes of the process counted by `count` end (later
    /// processes sharing the log may have appended after them), and how many bytes of its
    /// output the writer had handled then ([`LogCount::logged`]): the snapshot ends at that
    /// offset of its output.
    pub(crate) fn snapshot_for(&self, count: &LogCount) -> (LogSnapshot, u64) {
        let log = self.lock();
        let mut snapshot = log.snapshot();
        let logged = count.logged();
        if logged > 0 {
            // Bytes the log took in after this process's latest write are at the end.
            let after = log.accounted().saturating_sub(count.stream_end.load(Ordering::Relaxed));
            snapshot.truncate(snapshot.len().saturating_sub(after));
        }
        (snapshot, logged)
    }

    fn failed(&self, error: &LogFileError, lost: u64) {
        super::trouble::count_error();
        let mut trouble = self.trouble();
        match trouble.as_mut() {
            Some(trouble) => trouble.again(error, lost),
            None => {
                let started = Trouble::new(error, lost);
                tracing::warn!(target: "tend::logfile", "{}", started.message(&self.0.path));
                *trouble = Some(started);
            }
        }
        super::trouble::count_change();
    }

    fn succeeded(&self) {
        let mut trouble = self.trouble();
        if let Some(ended) = trouble.take() {
            tracing::warn!(
                target: "tend::logfile",
                "log file {}: writing again ({} bytes were not written)",
                self.0.path.display(),
                ended.lost()
            );
            super::trouble::count_change();
        }
    }

    fn trouble(&self) -> MutexGuard<'_, Option<Trouble>> {
        self.0.trouble.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes the held unfinished line and closes the file once this is the last handle;
    /// with other handles alive it only writes the held line.
    ///
    /// # Errors
    ///
    /// As [`LogFile::close`].
    pub fn close(self) -> Result<(), LogFileError> {
        match Arc::try_unwrap(self.0) {
            Ok(inner) => {
                inner.log.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner()).close()
            }
            Err(shared) => Self(shared).lock().write_held(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, LogFile> {
        // A panic while writing leaves the file usable: its state is a size and a held line.
        self.0.log.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
