//! The process table, read from `/proc` (Linux only).
//!
//! Only `/proc` itself and `/proc/PID/stat` are read. `/proc/PID/cmdline` and `environ` take
//! the target's memory-map lock, so reading them can hang behind a process stuck in
//! uninterruptible sleep; `stat` does not. A process can exit between the directory listing
//! and the read of its `stat`: such a process is skipped, not reported as an error.

use std::io;

use procfs::ProcError;
use procfs::process::{Process, ProcessesIter};

use super::procinfo::procfs_error;
use crate::proctable::{ProcState, ProcessEntry};

/// An iterator over the processes alive while it runs, in `/proc` directory order.
///
/// Yields an error only when `/proc` itself cannot be read; a process that vanished, or whose
/// `stat` could not be read or parsed, is skipped.
pub(crate) struct ProcScan {
    inner: ProcessesIter,
    failed: bool,
}

/// Starts a scan of `/proc`.
pub(crate) fn scan() -> io::Result<ProcScan> {
    let inner = procfs::process::all_processes().map_err(procfs_error)?;
    Ok(ProcScan { inner, failed: false })
}

impl Iterator for ProcScan {
    type Item = io::Result<ProcessEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            match self.inner.next()? {
                Ok(process) => {
                    if let Some(entry) = entry_of(&process) {
                        return Some(Ok(entry));
                    }
                }
                // The directory opened but a later read of it failed: report it once, so a
                // truncated scan is never mistaken for a complete one.
                Err(ProcError::NotFound(_)) => {}
                Err(error) => {
                    self.failed = true;
                    return Some(Err(procfs_error(error)));
                }
            }
        }
    }
}

/// The entry for one PID, or `None` if no such process exists (or it cannot be seen).
pub(crate) fn entry(pid: u32) -> io::Result<Option<ProcessEntry>> {
    let Ok(raw) = i32::try_from(pid) else {
        return Ok(None);
    };
    if raw <= 0 {
        return Ok(None);
    }
    match Process::new(raw) {
        Ok(process) => Ok(entry_of(&process)),
        Err(ProcError::NotFound(_) | ProcError::PermissionDenied(_)) => Ok(None),
        Err(error) => Err(procfs_error(error)),
    }
}

/// Counts the PIDs in `/proc` without opening any of them.
pub(crate) fn count_pids() -> io::Result<usize> {
    let mut count = 0;
    for item in std::fs::read_dir("/proc")? {
        let name = item?.file_name();
        // Only all-digit names are processes; `self`, `sys`, `acpi` and the like are not.
        if name.as_encoded_bytes().iter().all(u8::is_ascii_digit) && !name.is_empty() {
            count += 1;
        }
    }
    Ok(count)
}

/// Reads one process's `stat`. `None` when it vanished or cannot be read.
fn entry_of(process: &Process) -> Option<ProcessEntry> {
    match process.stat() {
        Ok(stat) => Some(ProcessEntry {
            pid: u32::try_from(stat.pid).ok()?,
            // The swapper (PID 0) is the parent of init and kthreadd; it reads as 0.
            ppid: u32::try_from(stat.ppid).unwrap_or(0),
            pgid: u32::try_from(stat.pgrp).unwrap_or(0),
            name: stat.comm,
            state: ProcState::from_code(stat.state),
            start_time: stat.starttime,
        }),
        Err(ProcError::NotFound(_)) => None,
        Err(error) => {
            // Permission denied (hidepid), or a line we could not parse: leave the process out
            // rather than fail the whole table, but say so to whoever is listening.
            tracing::debug!(pid = process.pid, %error, "skipping process whose stat is unreadable");
            None
        }
    }
}
