//! Exit statuses as a shell reports them: the numbers `tend run` and `tend wait` exit with,
//! and what [`ProcessInfo::shell_status`](crate::ProcessInfo::shell_status) returns.
//!
//! | the process | status |
//! | --- | --- |
//! | exited with code `c` | `c` |
//! | ended by tend's timeout | [`TIMED_OUT`] (124, as coreutils `timeout`) |
//! | died of signal N | [`SIGNAL_BASE`] + N (e.g. 137 for SIGKILL), see [`signalled`] |
//! | could not be started: program (or working directory) not found | [`NOT_FOUND`] (127, as bash) |
//! | could not be started for another reason (not executable, a directory, …) | [`CANNOT_EXECUTE`] (126, as bash) |
//! | failed with neither code nor signal for any other reason | [`FAILURE`] (1) |
//!
//! ```
//! use tend::process::exit_code;
//!
//! assert_eq!(exit_code::signalled(tend::Signal::KILL), 137);
//! assert_eq!((exit_code::TIMED_OUT, exit_code::CANNOT_EXECUTE, exit_code::NOT_FOUND), (124, 126, 127));
//! ```

use std::process::ExitStatus;

use crate::Signal;

/// The process was ended by its timeout (as coreutils `timeout` reports it).
pub const TIMED_OUT: i32 = 124;
/// The process could not be started although its program exists: not executable, a
/// directory, or any failure to start other than "not found" (as bash reports it).
pub const CANNOT_EXECUTE: i32 = 126;
/// The process could not be started because its program, or its working directory, does
/// not exist (as bash reports a command not found).
pub const NOT_FOUND: i32 = 127;
/// A death by signal N is reported as `SIGNAL_BASE + N`.
pub const SIGNAL_BASE: i32 = 128;
/// A process that failed with neither exit code nor signal, and not for want of starting:
/// its output file could not be opened, or the task supervising it failed.
pub const FAILURE: i32 = 1;

/// The status of a death by `signal`: [`SIGNAL_BASE`] + its number.
pub fn signalled(signal: Signal) -> i32 {
    SIGNAL_BASE + signal.number()
}

/// The signal that ended a process, from its wait status (`None` if it exited).
pub(crate) fn exit_signal(status: ExitStatus) -> Option<Signal> {
    use std::os::unix::process::ExitStatusExt;
    status.signal().and_then(Signal::from_number)
}
