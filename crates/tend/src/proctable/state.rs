//! [`ProcState`]: the scheduler state of a process, as the kernel reports it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The scheduler state of a process: field 3 of `/proc/PID/stat`.
///
/// Displays, serialises and parses as a snake_case name (`running`, `disk_sleep`, …). Parsing
/// is case-insensitive, accepts `-` for `_` (`disk-sleep`), and also accepts the kernel's
/// one-letter code (`R`, `S`, `D`, `Z`, `T`, `t`, `X`, `I`, and `W`, `K`, `P`, `N` of older
/// kernels). A state without a name here is kept as [`ProcState::Other`] and displays as its
/// letter, so nothing the kernel says is lost and what it says parses back to itself.
///
/// ```
/// use tend::proctable::ProcState;
/// let state: ProcState = "disk-sleep".parse().unwrap();
/// assert_eq!(state, ProcState::DiskSleep);
/// assert_eq!(state.to_string(), "disk_sleep");
/// assert_eq!("Z".parse::<ProcState>().unwrap(), ProcState::Zombie);
/// assert_eq!(ProcState::from_code('W'), ProcState::Other('W'));
/// assert!("asleep".parse::<ProcState>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProcState {
    /// `R`: running or runnable (on a run queue).
    Running,
    /// `S`: interruptible sleep, waiting for an event.
    Sleeping,
    /// `D`: uninterruptible sleep, usually waiting for I/O. Signals wait until it wakes.
    DiskSleep,
    /// `Z`: exited but not yet reaped by its parent.
    Zombie,
    /// `T`: stopped by a job-control signal such as `SIGSTOP`.
    Stopped,
    /// `t`: stopped by a debugger (ptrace).
    TracingStop,
    /// `I`: an idle kernel thread.
    Idle,
    /// `X` (or `x`): dead; almost never seen, the process is being torn down.
    Dead,
    /// Any other letter, e.g. `W` (paging) or `P` (parked) on older kernels.
    Other(char),
}

/// The names [`ProcState`] parses and displays, with the kernel letter for each.
const NAMED: &[(ProcState, &str, char)] = &[
    (ProcState::Running, "running", 'R'),
    (ProcState::Sleeping, "sleeping", 'S'),
    (ProcState::DiskSleep, "disk_sleep", 'D'),
    (ProcState::Zombie, "zombie", 'Z'),
    (ProcState::Stopped, "stopped", 'T'),
    (ProcState::TracingStop, "tracing_stop", 't'),
    (ProcState::Idle, "idle", 'I'),
    (ProcState::Dead, "dead", 'X'),
];

/// Every state letter Linux has printed: today's, plus `x`, `W`, `K`, `P` and `N` of older
/// kernels.
const KERNEL_CODES: &str = "RSDZTtXxIWKPN";

impl ProcState {
    /// The state for a kernel state letter (`R`, `S`, `D`, …).
    pub fn from_code(code: char) -> ProcState {
        match code {
            // Linux 2.6.33 to 3.13 printed a lower-case `x` for dead tasks.
            'x' => ProcState::Dead,
            _ => NAMED
                .iter()
                .find(|&&(_, _, letter)| letter == code)
                .map_or(ProcState::Other(code), |&(state, _, _)| state),
        }
    }

    /// The kernel's letter for this state.
    pub fn code(self) -> char {
        match self {
            ProcState::Other(code) => code,
            named => NAMED.iter().find(|&&(s, _, _)| s == named).map_or('?', |&(_, _, c)| c),
        }
    }

    /// The snake_case name, or `None` for [`ProcState::Other`].
    pub fn name(self) -> Option<&'static str> {
        NAMED.iter().find(|&&(s, _, _)| s == self).map(|&(_, name, _)| name)
    }

    /// Every named state, in the order they sort.
    pub fn named() -> impl Iterator<Item = ProcState> {
        NAMED.iter().map(|&(state, _, _)| state)
    }
}

impl fmt::Display for ProcState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.pad(name),
            None => f.pad(&self.code().to_string()),
        }
    }
}

/// The input to [`ProcState::from_str`] named no process state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown process state `{0}` (expected one of running, sleeping, disk_sleep, zombie, \
     stopped, tracing_stop, idle, dead, or a one-letter kernel code such as R)"
)]
pub struct UnknownProcState(pub String);

impl FromStr for ProcState {
    type Err = UnknownProcState;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let trimmed = input.trim();
        let mut chars = trimmed.chars();
        if let (Some(code), None) = (chars.next(), chars.next()) {
            // A single letter is a kernel code and is case-sensitive: `T` and `t` differ.
            // Only letters some kernel has used are accepted, so a typo is not a silent filter
            // that matches nothing.
            return if KERNEL_CODES.contains(code) {
                Ok(ProcState::from_code(code))
            } else {
                Err(UnknownProcState(input.to_owned()))
            };
        }
        let wanted = trimmed.to_ascii_lowercase().replace('-', "_");
        NAMED
            .iter()
            .find(|&&(_, name, _)| name == wanted)
            .map(|&(state, _, _)| state)
            .ok_or_else(|| UnknownProcState(input.to_owned()))
    }
}

impl Serialize for ProcState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ProcState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_round_trips_through_text_code_and_json() {
        let others = [ProcState::Other('W'), ProcState::Other('P')];
        for state in ProcState::named().chain(others) {
            assert_eq!(state.to_string().parse::<ProcState>().unwrap(), state);
            assert_eq!(ProcState::from_code(state.code()), state);
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(serde_json::from_str::<ProcState>(&json).unwrap(), state);
        }
    }

    #[test]
    fn names_are_snake_case_and_parsing_is_forgiving() {
        assert_eq!(serde_json::to_string(&ProcState::DiskSleep).unwrap(), "\"disk_sleep\"");
        assert_eq!(serde_json::to_string(&ProcState::TracingStop).unwrap(), "\"tracing_stop\"");
        assert_eq!("Disk-Sleep".parse::<ProcState>().unwrap(), ProcState::DiskSleep);
        assert_eq!(" ZOMBIE ".parse::<ProcState>().unwrap(), ProcState::Zombie);
        assert_eq!("t".parse::<ProcState>().unwrap(), ProcState::TracingStop);
        assert_eq!("T".parse::<ProcState>().unwrap(), ProcState::Stopped);
        assert_eq!("x".parse::<ProcState>().unwrap(), ProcState::Dead);
    }

    #[test]
    fn rejects_garbage_naming_it() {
        for bad in ["asleep", "", "7", "a", "running!"] {
            let err = bad.parse::<ProcState>().unwrap_err();
            assert!(err.to_string().contains(&format!("`{bad}`")), "{err}");
        }
    }

    #[test]
    fn sorts_in_declaration_order() {
        assert!(ProcState::Running < ProcState::Sleeping);
        assert!(ProcState::Dead < ProcState::Other('A'));
    }
}
