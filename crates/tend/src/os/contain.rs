//! The opt-in that makes services find the descendants that left their process group.
//!
//! Off by default: it changes process-wide state (the subreaper flag, a reaper thread, the
//! cgroup this process is in), which only the program — not a library — may decide. The
//! `tend` binaries turn it on at start.
//!
//! With a writable cgroup v2 hierarchy this process moves into a cgroup of its own
//! ([`cgroup`](super::cgroup)), after forking a *keeper*: a guardian that stays outside and
//! kills the whole cgroup when we die. Without one, non-detached processes carry tokens in the
//! environment ([`MARKER`]): this process's, swept by its keeper when we die, and their
//! service's, swept by the service's guardian. The keeper is a second watcher besides the
//! services' guardians: killing the supervisor and one of them together still leaves one.

use std::io;
use std::sync::OnceLock;

/// How the processes of this process's services are found beyond their process groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tagging {
    /// Not enabled: only process groups are tracked.
    Off,
    /// This process and everything it starts is in a cgroup of its own.
    Cgroup,
    /// A token in the environment ([`MARKER`]).
    Environment,
}

/// The variable carrying the tokens of the services a process belongs to, `:`-separated
/// (a tend run by a tend adds its own token to the one it inherited).
pub(crate) const MARKER: &str = "TEND_GUARD";

static TAGGING: OnceLock<Tagging> = OnceLock::new();

/// Our cgroup and its keeper, once we are in it. Never dropped: the keeper's pipe closes only
/// when this process dies.
#[cfg(target_os = "linux")]
static CONTAINED: OnceLock<(super::cgroup::Cgroup, super::Guardian)> = OnceLock::new();

/// Without a cgroup: this process's token, carried by every non-detached process of its
/// services next to the service's own, and the keeper that kills what carries it when we die.
#[cfg(target_os = "linux")]
static TOKEN_KEEPER: OnceLock<(String, super::Guardian)> = OnceLock::new();

/// A fresh random token (32 hex digits).
pub(crate) fn new_token() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// This process's token, once its keeper runs.
pub(crate) fn process_token() -> Option<&'static str> {
    #[cfg(target_os = "linux")]
    return TOKEN_KEEPER.get().map(|(token, _)| token.as_str());
    #[cfg(not(target_os = "linux"))]
    None
}

#[cfg(target_os = "linux")]
fn start_token_keeper() {
    let token = new_token();
    match super::Guardian::token_keeper(&token) {
        Ok(keeper) => {
            let _ = TOKEN_KEEPER.set((token, keeper));
        }
        // The services' own guardians still sweep for their tokens.
        Err(error) => tracing::warn!(%error, "cannot fork the token's keeper"),
    }
}

#[cfg(not(target_os = "linux"))]
fn start_token_keeper() {}

/// What [`enable`] set up.
#[derive(Debug)]
pub(crate) struct Enabled {
    pub(crate) subreaper: io::Result<()>,
    pub(crate) tagging: Tagging,
}

/// Turns containment on. The first call decides; call it before starting anything.
pub(crate) fn enable(allow_cgroup: bool) -> Enabled {
    let subreaper = super::subreaper::become_subreaper();
    let tagging = *TAGGING.get_or_init(|| {
        if !cfg!(target_os = "linux") {
            // No /proc to search and no cgroups: process groups are all there is.
            Tagging::Off
        } else if allow_cgroup && enter_cgroup() {
            Tagging::Cgroup
        } else {
            start_token_keeper();
            Tagging::Environment
        }
    });
    Enabled { subreaper, tagging }
}

/// How this process's services are contained.
pub(crate) fn tagging() -> Tagging {
    TAGGING.get().copied().unwrap_or(Tagging::Off)
}

/// The `cgroup.procs` of the cgroup we started in, when we moved into our own: a process
/// that writes `0` to it leaves ours (and is not killed with it).
#[cfg(target_os = "linux")]
pub(crate) fn outside_procs() -> Option<i32> {
    use std::os::fd::AsRawFd;
    CONTAINED.get().map(|(cgroup, _)| cgroup.outside.as_raw_fd())
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn outside_procs() -> Option<i32> {
    None
}

/// SIGKILLs every process in our cgroup but this one, until none is left (for at most about
/// two seconds). Nothing without a cgroup.
pub(crate) fn kill_cgroup_members() {
    #[cfg(target_os = "linux")]
    if let Some((cgroup, _)) = CONTAINED.get() {
        let me = std::process::id();
        for _ in 0..200 {
            let Ok(members) = cgroup.members() else { return };
            let others: Vec<u32> = members.into_iter().filter(|&pid| pid != me).collect();
            if others.is_empty() {
                return;
            }
            for pid in others {
                let _ = super::signal_process(pid, libc::SIGKILL);
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

/// Creates our cgroup, forks its keeper (outside), and moves in. `false`, with everything
/// undone, if any step fails.
#[cfg(target_os = "linux")]
fn enter_cgroup() -> bool {
    super::cgroup::remove_stale();
    let cgroup = match super::cgroup::Cgroup::create() {
        Ok(cgroup) => cgroup,
        Err(error) => {
            tracing::debug!(%error, "no writable cgroup v2; tagging processes by environment");
            return false;
        }
    };
    let keeper = match super::Guardian::cgroup_keeper(&cgroup) {
        Ok(keeper) => keeper,
        Err(error) => {
            tracing::warn!(%error, "cannot fork the cgroup's keeper");
            // SAFETY: a NUL-terminated path we own; the directory is empty.
            unsafe { libc::rmdir(cgroup.dir.as_ptr()) };
            return false;
        }
    };
    if let Err(error) = cgroup.enter() {
        tracing::debug!(%error, "cannot move into our cgroup; tagging processes by environment");
        // Dropping the keeper makes it kill the (empty) cgroup and remove it.
        drop(keeper);
        return false;
    }
    CONTAINED.set((cgroup, keeper)).is_ok()
}

#[cfg(not(target_os = "linux"))]
fn enter_cgroup() -> bool {
    false
}
