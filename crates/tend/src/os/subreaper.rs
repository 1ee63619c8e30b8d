//! Adopting orphaned descendants (child subreaper) and reaping the ones that end.
//!
//! With `PR_SET_CHILD_SUBREAPER` a descendant whose parent dies — a daemonising grandchild,
//! a `setsid` escapee whose shell was killed — is re-parented to us instead of to init, so it
//! stays visible as our child. Its exit status is then ours to collect, or it stays a zombie:
//! a thread peeks at exited children with `waitid(P_ALL, WNOWAIT)` and reaps only those this
//! process did not spawn itself. Children it did spawn are registered (under the spawn lock,
//! so one cannot exit unregistered) and left to their owner, Tokio, which waits for them by
//! PID.

use std::collections::HashSet;
use std::io;
use std::sync::{Mutex, OnceLock, RwLock, RwLockReadGuard};
/// How often the reaper looks for exited adopted children.
#[cfg(target_os = "linux")]
const REAP_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// Held (shared) while a child is spawned and registered; the reaper takes it exclusively.
static SPAWNING: RwLock<()> = RwLock::new(());
/// Children spawned by this process that their owner has not waited for yet.
static OWN: OnceLock<Mutex<HashSet<u32>>> = OnceLock::new();

fn own() -> std::sync::MutexGuard<'static, HashSet<u32>> {
    OWN.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner())
}

/// Held around a spawn until its PID is [`register`]ed.
pub(crate) fn spawn_lock() -> RwLockReadGuard<'static, ()> {
    SPAWNING.read().unwrap_or_else(|e| e.into_inner())
}

/// Marks `pid` as a child whose owner waits for it: the reaper leaves it alone.
pub(crate) fn register(pid: u32) {
    own().insert(pid);
}

/// The owner has waited for `pid`.
pub(crate) fn unregister(pid: u32) {
    own().remove(&pid);
}

/// Makes this process a child subreaper and starts the reaper thread (once).
#[cfg(target_os = "linux")]
pub(crate) fn become_subreaper() -> io::Result<()> {
    static REAPER: OnceLock<io::Result<()>> = OnceLock::new();
    let started = REAPER.get_or_init(|| {
        // SAFETY: prctl(PR_SET_CHILD_SUBREAPER, 1) takes no pointers.
        if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
            return Err(io::Error::last_os_error());
        }
        std::thread::Builder::new().name("tend-reaper".into()).spawn(|| {
            loop {
                std::thread::sleep(REAP_EVERY);
                reap_adopted();
            }
        })?;
        Ok(())
    });
    started.as_ref().map(drop).map_err(|e| io::Error::new(e.kind(), e.to_string()))
}

/// Subreapers are a Linux (and FreeBSD `procctl`) feature; elsewhere orphans go to init.
#[cfg(not(target_os = "linux"))]
pub(crate) fn become_subreaper() -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "child subreapers need Linux"))
}

/// Reaps every exited child that this process did not spawn. Stops at the first exited child
/// it did spawn: its owner reaps it shortly, and the next round looks past it.
#[cfg(target_os = "linux")]
pub(crate) fn reap_adopted() {
    let _exclusive = SPAWNING.write().unwrap_or_else(|e| e.into_inner());
    loop {
        // SAFETY: an all-zero siginfo_t is valid; waitid writes into it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
        // SAFETY: waitid with a valid pointer to a local; WNOWAIT leaves the child waitable.
        if unsafe { libc::waitid(libc::P_ALL, 0, &mut info, flags) } != 0 {
            return; // ECHILD: no children at all.
        }
        // SAFETY: waitid filled `info` for a child (or left si_pid 0: none has exited).
        let pid = unsafe { info.si_pid() };
        if pid <= 0 || own().contains(&(pid as u32)) {
            return;
        }
        let mut status = 0;
        // SAFETY: waitpid on a child of ours that has exited and that nobody else waits for.
        unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    }
}
