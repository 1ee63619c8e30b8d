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
    /// Each [`Service`](crate::Service) puts its non-detached processes in a cgroup v2
    /// directory of its own, `tend-<pid>-<n>` below this process's cgroup, removed when the
    /// service is dropped.
    pub cgroup: bool,
    /// Without a cgroup, non-detached processes carry a random token in the `TEND_GUARD`
    /// environment variable, by which the guardian finds them in `/proc`.
    pub environment: bool,
}

/// Makes every [`Service`](crate::Service) created from now on able to kill the descendants of
/// its processes that left their process group (`setsid`, a daemon's double fork), when it
/// shuts down ([`Service::shutdown`](crate::Service::shutdown)), when it is dropped, and when
/// this process dies, even by SIGKILL. Linux only; elsewhere it changes nothing.
///
/// It changes process-wide state, so only a program may call it, at start, never a library:
///
/// * this process becomes a child subreaper (`PR_SET_CHILD_SUBREAPER`), and a thread named
///   `tend-reaper` reaps the orphans it adopts (never a child spawned by a `Service`);
/// * with `cgroups` and a writable cgroup v2 hierarchy (root, or a delegated subtree), each
///   service's processes go into a cgroup of their own, killed with `cgroup.kill`;
/// * otherwise they carry the `TEND_GUARD` environment variable; a descendant that clears its
///   environment is then not found.
///
/// Children spawned outside a `Service` (`std::process`, [`exec`](crate::exec)) may have their
/// exit status taken by the reaper once the subreaper is on. The first call decides; later
/// calls report the same.
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
