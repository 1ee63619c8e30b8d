//! Resource limits.

use std::io;

use rustix::process::{Resource, getrlimit, setrlimit};

/// Raises the soft limit on open files to the hard limit and returns the new soft limit.
pub(crate) fn raise_open_file_limit() -> io::Result<u64> {
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        limit.current = limit.maximum;
        setrlimit(Resource::Nofile, limit)?;
    }
    Ok(limit.current.unwrap_or(u64::MAX))
}

/// The soft limit on open files (`u64::MAX` when unlimited).
pub(crate) fn open_file_limit() -> u64 {
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Sets the calling thread's nice value. On Linux, `setpriority(PRIO_PROCESS, 0, …)` applies
/// to the calling thread only, not to the whole process.
pub(crate) fn set_thread_nice(nice: i32) -> io::Result<()> {
    rustix::process::setpriority_process(None, nice)?;
    Ok(())
}
