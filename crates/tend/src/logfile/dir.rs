//! [`LogDir`]: a directory where a [`Service`](crate::Service) gives each process started
//! without an output file of its own a rotating `ID.log`.

use std::path::{Path, PathBuf};

use super::{LogFileOptions, SharedLogFile};
use crate::process::{OutputFileTarget, OutputMode, ProcessId, StartOptions};

/// Where [`ServiceConfig::log_dir`](crate::ServiceConfig::log_dir) puts the output of the
/// processes started without a log or output file of their own: `DIR/ID.log`, rotated at
/// [`LogFileOptions::max_size`] keeping [`LogFileOptions::keep`] files (`ID.log.1` …), every
/// byte of both streams, as [`StartOptions::log_file`] writes it.
///
/// A file is created (`0600`, never through a symbolic link) at the process's first output,
/// so a process that prints nothing has no file and holds no descriptor for it, and it is
/// closed again after 2 seconds without output (reopened, with the same checks, by the next):
/// thousands of quiet processes cost no descriptor for their logs. The directory is created
/// (mode `0700`) with the first file. A file that cannot be opened or written (a full disk,
/// no permission) never refuses or slows a start: the process runs, its
/// [`ProcessInfo::log_error`](crate::ProcessInfo::log_error) says why, and writing starts
/// or resumes once it can (see [`SharedLogFile`]).
///
/// ```no_run
/// # async fn demo() -> Result<(), tend::Error> {
/// use tend::logfile::{LogDir, LogFileOptions};
/// use tend::{ByteSize, Service, ServiceConfig, StartOptions};
///
/// let logs = LogDir::new("/var/lib/app/logs").options(LogFileOptions::new().max_size(ByteSize::mib(10)).keep(5));
/// let service = Service::with_config(ServiceConfig { log_dir: Some(logs), ..ServiceConfig::default() });
/// let web = service.start(StartOptions::new("python3").args(["-m", "http.server"]))?;
/// println!("logging to {}", web.info().log_path.unwrap().display());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogDir {
    path: PathBuf,
    options: LogFileOptions,
}

impl LogDir {
    /// `path`, with the default [`LogFileOptions`] (10 MiB, 5 kept).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into(), options: LogFileOptions::new() }
    }

    /// How each file rotates.
    pub fn options(mut self, options: LogFileOptions) -> Self {
        self.options = options;
        self
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The live log file of process `id`: `DIR/ID.log`.
    pub fn file_of(&self, id: ProcessId) -> PathBuf {
        self.path.join(format!("{id}.log"))
    }

    /// `options` with `DIR/ID.log` as their log file, unless they have a file of their own
    /// or their output is not piped (then unchanged). A file given by a log directory
    /// before (options reused from an earlier process) is replaced: each process has its own.
    pub(crate) fn give(&self, mut options: StartOptions, id: ProcessId) -> StartOptions {
        let own_file = matches!(
            options.output_file,
            Some(OutputFileTarget::Path(_) | OutputFileTarget::Log(_))
        );
        if own_file || options.output != OutputMode::Piped {
            return options;
        }
        // Opened at the first output: a silent process holds no descriptor for its log.
        let log = SharedLogFile::open_lazily(&self.options, self.file_of(id));
        options.output_file = Some(OutputFileTarget::DirLog(log));
        options
    }
}
