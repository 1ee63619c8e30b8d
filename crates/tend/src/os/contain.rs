//! The opt-in that makes services find the descendants that left their process group.
//!
//! Off by default: it changes process-wide state (the subreaper flag, a reaper thread,
//! cgroup directories), which only the program — not a library — may decide. The `tend`
//! binaries turn it on at start.

use std::io;
use std::sync::OnceLock;

/// How guardians forked from now on tag the processes of their service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tagging {
    /// Not enabled: only process groups are tracked.
    Off,
    /// A cgroup v2 directory per service, falling back to [`Tagging::Environment`] for a
    /// service whose directory cannot be created.
    Cgroup,
    /// A token in the environment ([`MARKER`]).
    Environment,
}

/// The variable carrying the tokens of the services a process belongs to, `:`-separated
/// (a tend run by a tend adds its own token to the one it inherited).
pub(crate) const MARKER: &str = "TEND_GUARD";

static TAGGING: OnceLock<Tagging> = OnceLock::new();

/// What [`enable`] set up.
#[derive(Debug)]
pub(crate) struct Enabled {
    pub(crate) subreaper: io::Result<()>,
    pub(crate) tagging: Tagging,
}

/// Turns containment on for every guardian forked from now on. The first call decides.
pub(crate) fn enable(allow_cgroup: bool) -> Enabled {
    let subreaper = super::subreaper::become_subreaper();
    let tagging = *TAGGING.get_or_init(|| {
        if !cfg!(target_os = "linux") {
            // No /proc to search and no cgroups: process groups are all there is.
            Tagging::Off
        } else if allow_cgroup && cgroup_works() {
            Tagging::Cgroup
        } else {
            Tagging::Environment
        }
    });
    Enabled { subreaper, tagging }
}

/// How a guardian forked now tags its service's processes.
pub(crate) fn tagging() -> Tagging {
    TAGGING.get().copied().unwrap_or(Tagging::Off)
}

/// Whether a cgroup directory can be made (and is removed again at once).
#[cfg(target_os = "linux")]
fn cgroup_works() -> bool {
    super::cgroup::remove_stale();
    match super::cgroup::Cgroup::create() {
        Ok(cgroup) => {
            // SAFETY: a NUL-terminated path we own; the directory is empty.
            unsafe { libc::rmdir(cgroup.dir.as_ptr()) };
            true
        }
        Err(error) => {
            tracing::debug!(%error, "no writable cgroup v2; tagging processes by environment");
            false
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn cgroup_works() -> bool {
    false
}
