//! Delivering signals to processes and process groups.

use std::io;

use rustix::process::Signal as RawSignal;
use rustix::process::{Pid, kill_process, kill_process_group};

/// Outcome of a delivery attempt that did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// The signal was delivered.
    Sent,
    /// Nothing with that PID (or group) exists any more: not an error on kill paths.
    Gone,
}

/// Every signal we know by name, as `(name without the SIG prefix, number)`.
pub(crate) const SIGNAL_NAMES: &[(&str, i32)] = &[
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("CHLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("SYS", libc::SIGSYS),
];

fn raw_signal(number: i32) -> io::Result<RawSignal> {
    RawSignal::from_named_raw(number).ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("unknown signal number {number}"))
    })
}

fn pid(raw: u32) -> io::Result<Pid> {
    i32::try_from(raw)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("invalid pid {raw}")))
}

fn delivered(result: rustix::io::Result<()>) -> io::Result<Delivery> {
    match result {
        Ok(()) => Ok(Delivery::Sent),
        Err(rustix::io::Errno::SRCH) => Ok(Delivery::Gone),
        Err(errno) => Err(errno.into()),
    }
}

/// Sends `signal` once to the single process `pid`.
pub(crate) fn signal_process(pid_raw: u32, signal: i32) -> io::Result<Delivery> {
    delivered(kill_process(pid(pid_raw)?, raw_signal(signal)?))
}

/// Sends `signal` once to every member of process group `pgid`.
pub(crate) fn signal_group(pgid: u32, signal: i32) -> io::Result<Delivery> {
    delivered(kill_process_group(pid(pgid)?, raw_signal(signal)?))
}

/// Whether process group `pgid` still has any member.
pub(crate) fn group_exists(pgid: u32) -> bool {
    let Ok(pgid) = pid(pgid) else { return false };
    !matches!(rustix::process::test_kill_process_group(pgid), Err(rustix::io::Errno::SRCH))
}
