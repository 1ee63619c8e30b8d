//! The raw pieces of opening state files safely: flags that refuse a symbolic link (or a FIFO
//! that would block the open), recognising that refusal, and the caller's user ID.

use std::io;

/// Open flags for a state file: the last path component must not be a symbolic link
/// (`O_NOFOLLOW`, the open fails with `ELOOP`), and opening a FIFO planted in its place does
/// not block (`O_NONBLOCK`; regular files ignore it). std adds `O_CLOEXEC` itself.
pub(crate) fn state_file_flags() -> i32 {
    (rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32
}

/// Whether an open failed because the path is a symbolic link and `O_NOFOLLOW` refused it.
pub(crate) fn is_symlink_refusal(error: &io::Error) -> bool {
    error.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error())
}

/// The effective user ID of this process: who state files must belong to.
pub(crate) fn effective_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}
