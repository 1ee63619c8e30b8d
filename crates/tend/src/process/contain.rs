//! The opt-in that lets services find, and kill, what their processes started and that left
//! the process group: [`contain_descendants`].

use crate::os::{self, Tagging};

/// What [`contain_descendants`] set up in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Containment {
    /// This process is a child subreaper: orphaned descendants are re-parented to it (not to
    /// init), and a thread reaps those that exit.
    pub subreaper: bool,
    /// This process moved into a cgroup v2 directory of its own, `tend-<pid>` below the one
    /// it started in, so everything it starts is born inside; a keeper process outside kills
    /// the cgroup (and removes it) when this process dies.
    pub cgroup: bool,
    /// Without a cgroup, non-detached processes carry a random token in the `TEND_GUARD`
    /// environment variable, by which their service's guardian finds them in `/proc`.
    pub environment: bool,
}

/// Makes the [`Service`](crate::Service)s of this process able to kill the descendants of their
/// processes that left their process group (`setsid`, a daemon's double fork) when they shut
/// down ([`Service::shutdown`](crate::Service::shutdown)) and when this process dies, even by
/// SIGKILL. Linux only; elsewhere it changes nothing. Call it before starting anything.
///
/// It changes process-wide state, so only a program may call it, at start, never a library:
///
/// * this process becomes a child subreaper (`PR_SET_CHILD_SUBREAPER`), and a thread named
///   `tend-reaper` reaps the orphans it adopts (never a child spawned by a `Service`);
/// * with `cgroups` and a writable cgroup v2 hierarchy (root, or a delegated subtree), this
///   process moves into a cgroup of its own (see [`Containment::cgroup`]); its services'
///   detached processes and guardians step back out. `Service::shutdown` then kills every
///   other process left in it — also those of other services of this process;
/// * otherwise non-detached processes carry the `TEND_GUARD` environment variable, and are
///   spawned with a `pre_exec` hook (`fork` rather than `posix_spawn`, slower to start); a
///   descendant that clears its environment is then not found.
///
/// Children spawned outside a `Service` (`std::process`, [`exec`](crate::exec)) may have their
/// exit status taken by the reaper. The first call decides; later calls report the same.
///
/// ```no_run
/// let containment = tend::process::contain_descendants(true);
/// if !containment.subreaper {
///     eprintln!("escaped descendants are not adopted");
/// }
/// ```
pub fn contain_descendants(cgroups: bool) -> Containment {
    let enabled = os::enable_containment(cgroups);
    if let Err(error) = &enabled.subreaper {
        tracing::warn!(%error, "cannot become a child subreaper");
    }
    Containment {
        subreaper: enabled.subreaper.is_ok(),
        cgroup: enabled.tagging == Tagging::Cgroup,
        environment: enabled.tagging == Tagging::Environment,
    }
}
