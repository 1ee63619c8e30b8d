//! The host's process table: every process, not just the ones `tend` manages.
//!
//! A snapshot of `/proc` answers the questions a supervisor asks about processes it did not
//! start: how many are there ([`count_pids`]), in which states ([`count_by_state`]), is one
//! with this name running ([`find_by_name`]), is this PID alive ([`is_alive`]), and what do we
//! know about it ([`get`], [`processes`]).
//!
//! ```
//! use tend::proctable;
//!
//! # fn main() -> Result<(), proctable::ProcTableError> {
//! if cfg!(target_os = "linux") {
//!     let me = proctable::get(std::process::id())?.expect("we are running");
//!     assert_eq!(me.pid, std::process::id());
//!     assert!(proctable::count_pids()? >= 1);
//!     for (state, count) in proctable::count_by_state()? {
//!         println!("{state}: {count}");
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Caveats
//!
//! * **Linux only.** Everything here reads `/proc`; other platforms get
//!   [`ProcTableError::Unsupported`] (except [`is_alive`], which needs only `kill(pid, 0)`).
//! * **Only `/proc/PID/stat` is read.** `cmdline` is never touched: reading it takes the
//!   target's memory-map lock and can hang behind a process in disk sleep. So the name is the
//!   kernel's `comm` — the executable's base name (or what the process set with
//!   `PR_SET_NAME`), cut to [`COMM_LEN`] bytes, though recent kernels show kernel threads'
//!   full names — never the arguments.
//! * **A table is a moment.** Processes come and go while `/proc` is read; one that vanishes
//!   mid-scan is skipped silently, and a PID in a result may already be gone or even reused by
//!   the time you act on it. Compare [`ProcessEntry::start_time`] to tell a reused PID apart.
//! * **Visibility.** With `/proc` mounted `hidepid=`, other users' processes are invisible and
//!   simply absent from every answer.

mod state;

use std::collections::BTreeMap;
use std::io;

use serde::{Deserialize, Serialize};

pub use state::{ProcState, UnknownProcState};

/// The longest process name the kernel keeps (`TASK_COMM_LEN` minus the terminating NUL).
pub const COMM_LEN: usize = 15;

/// One process, as `/proc/PID/stat` describes it.
///
/// Serialises with the keys `pid, ppid, pgid, name, state, start_time`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProcessEntry {
    /// Process ID.
    pub pid: u32,
    /// Parent's process ID; 0 for the processes the kernel starts itself (init, kthreadd).
    pub ppid: u32,
    /// Process group ID.
    pub pgid: u32,
    /// The kernel's name for the process (`comm`): at most [`COMM_LEN`] bytes, except that
    /// recent kernels show kernel threads' full names. Bytes that are not UTF-8 (a name cut
    /// inside a character) read as U+FFFD.
    pub name: String,
    /// Scheduler state at the moment of reading.
    pub state: ProcState,
    /// When the process started, in clock ticks since boot. Together with `pid` it identifies
    /// a process: a reused PID has a later start time.
    pub start_time: u64,
}

impl ProcessEntry {
    /// Whether this process goes by `name`, with the rule [`find_by_name`] uses: an exact
    /// match, except that a `name` longer than [`COMM_LEN`] bytes matches on its first
    /// [`COMM_LEN`] bytes, because that is all the kernel keeps.
    ///
    /// ```
    /// use tend::proctable::{ProcState, ProcessEntry};
    /// let entry = ProcessEntry {
    ///     pid: 42, ppid: 1, pgid: 42, name: "postgres-export".into(),
    ///     state: ProcState::Sleeping, start_time: 1000,
    /// };
    /// assert!(entry.has_name("postgres-export"));
    /// assert!(entry.has_name("postgres-exporter")); // longer than 15 bytes: prefix match
    /// assert!(!entry.has_name("postgres")); // short names must match exactly
    /// ```
    pub fn has_name(&self, name: &str) -> bool {
        // Recent kernels show kernel threads' full names, so a long name can match exactly.
        if self.name == name {
            return true;
        }
        if name.len() <= COMM_LEN {
            return false;
        }
        // The kernel cut the name at a byte count, possibly inside a character, and the read
        // turned the stray bytes into U+FFFD; cutting and converting the same way compares
        // like with like.
        self.name == String::from_utf8_lossy(&name.as_bytes()[..COMM_LEN])
    }
}

/// The process table could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcTableError {
    /// This platform has no `/proc` process table.
    #[error("the process table needs Linux /proc, which this platform does not have")]
    Unsupported,
    /// Reading `/proc` failed.
    #[error("reading the process table from /proc: {0}")]
    Io(#[source] io::Error),
}

/// Every process, sorted by PID.
///
/// ```
/// # fn main() -> Result<(), tend::proctable::ProcTableError> {
/// # if cfg!(target_os = "linux") {
/// let table = tend::proctable::processes()?;
/// assert!(table.iter().any(|p| p.pid == std::process::id()));
/// # }
/// # Ok(())
/// # }
/// ```
pub fn processes() -> Result<Vec<ProcessEntry>, ProcTableError> {
    let mut all = Vec::new();
    each(|entry| all.push(entry))?;
    all.sort_unstable_by_key(|entry| entry.pid);
    Ok(all)
}

/// The process with this PID, or `None` if there is none (a zombie is still listed, with
/// state [`ProcState::Zombie`]).
pub fn get(pid: u32) -> Result<Option<ProcessEntry>, ProcTableError> {
    #[cfg(target_os = "linux")]
    {
        crate::os::process_entry(pid).map_err(ProcTableError::Io)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        Err(ProcTableError::Unsupported)
    }
}

/// How many processes exist, zombies included. Cheaper than [`processes`]: it only lists
/// `/proc` and opens nothing.
pub fn count_pids() -> Result<usize, ProcTableError> {
    #[cfg(target_os = "linux")]
    {
        crate::os::count_pids().map_err(ProcTableError::Io)
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(ProcTableError::Unsupported)
    }
}

/// How many processes are in each state. States with no process are absent from the map.
pub fn count_by_state() -> Result<BTreeMap<ProcState, usize>, ProcTableError> {
    let mut counts = BTreeMap::new();
    each(|entry| *counts.entry(entry.state).or_insert(0) += 1)?;
    Ok(counts)
}

/// The processes named `name`, sorted by PID. See [`ProcessEntry::has_name`] for the rule:
/// exact, except that names longer than [`COMM_LEN`] bytes match on their prefix.
///
/// ```
/// # fn main() -> Result<(), tend::proctable::ProcTableError> {
/// # if cfg!(target_os = "linux") {
/// for process in tend::proctable::find_by_name("sshd")? {
///     println!("sshd is running as {} ({})", process.pid, process.state);
/// }
/// # }
/// # Ok(())
/// # }
/// ```
pub fn find_by_name(name: &str) -> Result<Vec<ProcessEntry>, ProcTableError> {
    let mut found = Vec::new();
    each(|entry| {
        if entry.has_name(name) {
            found.push(entry);
        }
    })?;
    found.sort_unstable_by_key(|entry| entry.pid);
    Ok(found)
}

/// Whether a live process has this PID.
///
/// Uses `kill(pid, 0)`: a process we may not signal (`EPERM`) is alive; a zombie is not (it
/// has exited and only waits to be reaped). Works on every Unix, not just Linux. It cannot
/// tell a reused PID from the original; compare [`get`]'s `start_time` for that.
///
/// ```
/// assert!(tend::proctable::is_alive(std::process::id()));
/// assert!(!tend::proctable::is_alive(0));
/// ```
pub fn is_alive(pid: u32) -> bool {
    crate::os::liveness(pid) == crate::os::Liveness::Alive
}

/// Calls `visit` with every process in one pass over `/proc`.
fn each(mut visit: impl FnMut(ProcessEntry)) -> Result<(), ProcTableError> {
    #[cfg(target_os = "linux")]
    {
        for entry in crate::os::scan_processes().map_err(ProcTableError::Io)? {
            visit(entry.map_err(ProcTableError::Io)?);
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = &mut visit;
        Err(ProcTableError::Unsupported)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn named(name: &str) -> ProcessEntry {
        ProcessEntry {
            pid: 1,
            ppid: 0,
            pgid: 1,
            name: name.to_owned(),
            state: ProcState::Sleeping,
            start_time: 0,
        }
    }

    #[test]
    fn short_names_match_exactly() {
        assert!(named("sleep").has_name("sleep"));
        assert!(!named("sleep").has_name("slee"));
        assert!(!named("sleep").has_name("sleeper"));
        assert!(!named("sleep").has_name("Sleep"));
    }

    #[test]
    fn long_names_match_on_the_kernels_prefix() {
        let comm = named("abcdefghijklmno");
        assert!(comm.has_name("abcdefghijklmno"));
        assert!(comm.has_name("abcdefghijklmnopqrstuvwxyz"));
        assert!(!comm.has_name("abcdefghijklmnXpqrstuvwxyz"));
        assert!(!named("abcdefghijklmn").has_name("abcdefghijklmnopqr"));
        // A kernel thread's full name, as Linux 6.x shows it.
        assert!(named("pool_workqueue_release").has_name("pool_workqueue_release"));
        assert!(!named("pool_workqueue_release").has_name("pool_workqueue_"));
    }

    #[test]
    fn a_name_cut_inside_a_character_still_matches() {
        // 14 ASCII bytes then `é` (2 bytes): the kernel keeps its first byte only.
        let long = "abcdefghijklmné-daemon";
        let comm = named(&String::from_utf8_lossy(&long.as_bytes()[..COMM_LEN]));
        assert!(comm.name.ends_with('\u{FFFD}'));
        assert!(comm.has_name(long));
    }

    #[test]
    fn we_are_in_the_table() {
        let me = get(std::process::id()).unwrap().unwrap();
        assert_eq!(me.pid, std::process::id());
        assert_ne!(me.state, ProcState::Zombie);
        assert_eq!(me.start_time, crate::os::start_time(me.pid).unwrap());
        assert!(processes().unwrap().iter().any(|entry| entry.pid == me.pid));
        assert!(count_by_state().unwrap().values().sum::<usize>() >= 1);
    }

    #[test]
    fn impossible_pids_are_absent_not_errors() {
        assert_eq!(get(0).unwrap(), None);
        assert_eq!(get(u32::MAX).unwrap(), None);
        assert!(!is_alive(u32::MAX));
    }
}
