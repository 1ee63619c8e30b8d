//! A started child, waited for through its pidfd (the `clone3` path) or by Tokio (std's
//! path).
//!
//! The subreaper contract holds either way: the status is taken only for this child, by its
//! pidfd or PID, never with a wait for any child.

use std::future::{Future, poll_fn};
use std::io;
use std::pin::pin;
use std::process::ExitStatus;
use std::sync::Mutex;
use std::task::{Context, Poll};

#[cfg(target_os = "linux")]
use std::os::fd::{AsRawFd, OwnedFd};
#[cfg(target_os = "linux")]
use tokio::io::unix::AsyncFd;

/// A child process started by [`spawn`](super::spawn::spawn).
#[derive(Debug)]
pub(crate) struct Child {
    pid: u32,
    waiter: Waiter,
    /// Dropped unreaped once already: the task that reaps it was dropped in turn.
    #[cfg(target_os = "linux")]
    orphan: bool,
}

#[derive(Debug)]
enum Waiter {
    #[cfg(target_os = "linux")]
    Pidfd {
        pidfd: Option<AsyncFd<OwnedFd>>,
        status: Option<ExitStatus>,
    },
    Tokio(tokio::process::Child),
}

impl Child {
    #[cfg(target_os = "linux")]
    pub(super) fn from_pidfd(pid: u32, pidfd: OwnedFd) -> io::Result<Self> {
        // SAFETY: an `OwnedFd` is a valid open descriptor, always the same one, open until
        // the `AsyncFd` lets go of it.
        let pidfd =
            unsafe { AsyncFd::register_with_interest(pidfd, tokio::io::Interest::READABLE) }
                .map_err(io::Error::from)?;
        Ok(Self { pid, waiter: Waiter::Pidfd { pidfd: Some(pidfd), status: None }, orphan: false })
    }

    pub(super) fn from_tokio(child: tokio::process::Child) -> Self {
        let pid = child.id().unwrap_or_default();
        Self {
            pid,
            waiter: Waiter::Tokio(child),
            #[cfg(target_os = "linux")]
            orphan: false,
        }
    }

    /// The child's PID (also its process group's ID).
    pub(crate) fn id(&self) -> u32 {
        self.pid
    }

    /// Whether this child was started by `clone3` (waited for through a pidfd).
    #[cfg(test)]
    pub(crate) fn has_pidfd(&self) -> bool {
        #[cfg(target_os = "linux")]
        return matches!(self.waiter, Waiter::Pidfd { .. });
        #[cfg(not(target_os = "linux"))]
        false
    }

    /// The exit status, if the child has ended; reaps it.
    pub(crate) fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        match &mut self.waiter {
            #[cfg(target_os = "linux")]
            Waiter::Pidfd { pidfd, status } => {
                if status.is_none()
                    && let Some(fd) = pidfd
                {
                    *status = wait_nohang(fd.get_ref())?;
                    if status.is_some() {
                        // Closing it also leaves the runtime's poller.
                        *pidfd = None;
                    }
                }
                Ok(*status)
            }
            Waiter::Tokio(child) => child.try_wait(),
        }
    }

    /// Polls for the exit status; reaps the child when it is ready.
    pub(crate) fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        match &mut self.waiter {
            #[cfg(target_os = "linux")]
            Waiter::Pidfd { pidfd, status } => {
                if let Some(status) = status {
                    return Poll::Ready(Ok(*status));
                }
                let Some(fd) = pidfd else {
                    return Poll::Ready(Err(io::Error::other("child already reaped")));
                };
                loop {
                    let mut ready = std::task::ready!(fd.poll_read_ready(cx))?;
                    // Readable: it has exited (or the readiness was stale; then look again).
                    match wait_nohang(fd.get_ref())? {
                        Some(exit) => {
                            drop(ready);
                            *status = Some(exit);
                            // Closing it also leaves the runtime's poller.
                            *pidfd = None;
                            return Poll::Ready(Ok(exit));
                        }
                        None => ready.clear_ready(),
                    }
                }
            }
            Waiter::Tokio(child) => pin!(child.wait()).poll(cx),
        }
    }

    /// Waits for the child to end and reaps it.
    pub(crate) async fn wait(&mut self) -> io::Result<ExitStatus> {
        poll_fn(|cx| self.poll_wait(cx)).await
    }
}

/// Children dropped before they were reaped whose runtime could not wait for them (it was
/// shutting down): reaped at a later spawn, so they do not stay zombies.
#[cfg(target_os = "linux")]
static ORPHANS: Mutex<Vec<(u32, OwnedFd)>> = Mutex::new(Vec::new());

/// A child dropped before it was reaped (its supervision panicked, or its runtime shut down)
/// is reaped by a task of its own, as Tokio does with its children, so it does not stay a
/// zombie in its group; without a runtime, at a later spawn.
impl Drop for Child {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if let Waiter::Pidfd { pidfd, status: None } = &mut self.waiter
            && let Some(fd) = pidfd.take()
        {
            let pid = self.pid;
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) if !self.orphan => {
                    let mut orphan = Child {
                        pid,
                        waiter: Waiter::Pidfd { pidfd: Some(fd), status: None },
                        orphan: true,
                    };
                    runtime.spawn(async move {
                        if orphan.wait().await.is_ok() {
                            super::subreaper::unregister(pid);
                        }
                    });
                }
                _ => {
                    let orphan = (pid, fd.into_inner());
                    ORPHANS.lock().unwrap_or_else(|e| e.into_inner()).push(orphan);
                }
            }
        }
    }
}

/// Reaps the orphans (see [`ORPHANS`]) that have exited.
pub(super) fn reap_orphans() {
    #[cfg(target_os = "linux")]
    {
        let mut orphans = ORPHANS.lock().unwrap_or_else(|e| e.into_inner());
        orphans.retain(|(pid, fd)| match wait_nohang(fd) {
            Ok(None) => true,
            _ => {
                super::subreaper::unregister(*pid);
                false
            }
        });
    }
}

/// `waitid(P_PIDFD, WEXITED | WNOHANG)`: the status once the child has exited.
#[cfg(target_os = "linux")]
fn wait_nohang(pidfd: &OwnedFd) -> io::Result<Option<ExitStatus>> {
    use std::os::unix::process::ExitStatusExt;
    // SAFETY: an all-zero siginfo_t is valid; waitid writes into it.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let flags = libc::WEXITED | libc::WNOHANG;
    loop {
        // SAFETY: waitid on our own child's pidfd with a pointer to a local.
        let ret = unsafe {
            libc::waitid(libc::P_PIDFD, pidfd.as_raw_fd() as libc::id_t, &mut info, flags)
        };
        if ret == 0 {
            break;
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
    // SAFETY: waitid filled `info` (si_pid stays 0 while the child runs).
    let (pid, code, value) = unsafe { (info.si_pid(), info.si_code, info.si_status()) };
    if pid == 0 {
        return Ok(None);
    }
    // Back to the wait status std decodes: exit code in bits 8-15, else the signal (and the
    // core-dump bit).
    let raw = match code {
        libc::CLD_EXITED => (value & 0xff) << 8,
        libc::CLD_DUMPED => (value & 0x7f) | 0x80,
        _ => value & 0x7f,
    };
    Ok(Some(ExitStatus::from_raw(raw)))
}
