//! What `tend daemon` writes to its stderr (its log, `daemon.log` when detached) about its
//! processes' log files, and where those files are.

use std::path::Path;

use tend::ByteSize;
use tend::logfile::{LogDir, LogFileOptions};

/// `STATE_DIR/logs`: each process started without a log file of its own writes `ID.log`
/// there, rotated at `max_size` keeping `keep` files.
pub(crate) fn log_dir(state_dir: &Path, max_size: ByteSize, keep: u32) -> LogDir {
    LogDir::new(state_dir.join("logs")).options(LogFileOptions::new().max_size(max_size).keep(keep))
}

/// Sends the library's log-file messages to stderr: one line when a log file starts failing
/// (full disk, no permission; with the bytes not written) and one when writing resumes.
/// Nothing else the library traces is printed.
pub(crate) fn init() {
    let filter = tracing_subscriber::EnvFilter::new("tend::logfile=warn");
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
