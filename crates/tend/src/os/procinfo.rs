//! Facts about one process by PID: is it alive, and when did it start.

use std::io;

/// Whether a PID names a live process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Liveness {
    /// A process with that PID exists (possibly one we may not signal).
    Alive,
    /// No process has that PID, or it is a zombie waiting to be reaped.
    Dead,
}

/// Checks a PID with `kill(pid, 0)`. `EPERM` means the process exists but belongs to someone
/// else, so it counts as alive; only `ESRCH` means dead. A zombie counts as dead.
pub(crate) fn liveness(pid: u32) -> Liveness {
    let Some(raw) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) else {
        return Liveness::Dead;
    };
    match rustix::process::test_kill_process(raw) {
        Ok(()) | Err(rustix::io::Errno::PERM) => {
            if is_zombie(pid) {
                Liveness::Dead
            } else {
                Liveness::Alive
            }
        }
        Err(_) => Liveness::Dead,
    }
}

#[cfg(target_os = "linux")]
fn is_zombie(pid: u32) -> bool {
    procfs::process::Process::new(pid as i32)
        .and_then(|p| p.stat())
        .is_ok_and(|stat| stat.state == 'Z')
}

#[cfg(not(target_os = "linux"))]
fn is_zombie(_pid: u32) -> bool {
    false
}

/// When the process started, in clock ticks since boot (`/proc/PID/stat` field 22). Together
/// with the PID this identifies a process: a reused PID has a different start time.
#[cfg(target_os = "linux")]
pub(crate) fn start_time(pid: u32) -> io::Result<u64> {
    let process = procfs::process::Process::new(pid as i32).map_err(procfs_error)?;
    Ok(process.stat().map_err(procfs_error)?.starttime)
}

/// Start times are not available off Linux; callers treat an error as "unknown".
#[cfg(not(target_os = "linux"))]
pub(crate) fn start_time(_pid: u32) -> io::Result<u64> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "process start time needs /proc"))
}

#[cfg(target_os = "linux")]
pub(crate) fn procfs_error(error: procfs::ProcError) -> io::Error {
    match error {
        procfs::ProcError::NotFound(_) => io::Error::new(io::ErrorKind::NotFound, error),
        procfs::ProcError::PermissionDenied(_) => {
            io::Error::new(io::ErrorKind::PermissionDenied, error)
        }
        procfs::ProcError::Io(e, _) => e,
        other => io::Error::other(other),
    }
}
