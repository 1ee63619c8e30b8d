//! [`SharedLogFile`]: one [`LogFile`] that processes write to from their output readers.

use std::sync::{Arc, Mutex, MutexGuard};

use super::{LogFile, LogFileError};

/// A [`LogFile`] shared by the processes that write their output to it through
/// [`StartOptions::log_file`](crate::StartOptions::log_file): every run of a service appends
/// to the same file, rotated at line boundaries.
///
/// The output readers hand their whole lines to it directly, and wait while the disk is
/// behind (a bounded queue), so no byte is lost to a full capture ring, unlike a
/// [`follow`](super::follow)er of the ring.
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
pub struct SharedLogFile(Arc<Mutex<LogFile>>);

impl SharedLogFile {
    /// Shares `log`.
    pub fn new(log: LogFile) -> Self {
        Self(Arc::new(Mutex::new(log)))
    }

    /// Appends `bytes` (see [`LogFile::write`]). Blocks on the file: call it from a blocking
    /// context.
    ///
    /// # Errors
    ///
    /// As [`LogFile::write`].
    pub fn write(&self, bytes: &[u8]) -> Result<(), LogFileError> {
        self.lock().write(bytes)
    }

    /// Writes the held unfinished line and closes the file once this is the last handle;
    /// with other handles alive it only writes the held line.
    ///
    /// # Errors
    ///
    /// As [`LogFile::close`].
    pub fn close(self) -> Result<(), LogFileError> {
        match Arc::try_unwrap(self.0) {
            Ok(log) => log.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner()).close(),
            Err(shared) => Self(shared).lock().write_held(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, LogFile> {
        // A panic while writing leaves the file usable: its state is a size and a held line.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
