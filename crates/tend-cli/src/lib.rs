//! The `tend` command-line tool, as a library so tests and other binaries can drive it.
//!
//! `main.rs` only calls [`main_impl`]. Each subcommand lives in its own file under
//! `commands/`, with its clap arguments beside its implementation.

mod cli;
mod client;
mod closed_pipe;
mod commands;
mod containment;
mod daemon_log;
mod durations;
mod events;
mod exit;
mod interrupt;
mod json_output;
mod key_value;
mod pipeline_output;
mod restart_flag;
mod restart_notice;
mod state_dir;
mod table;
mod terminal_safe;

use clap::Parser;

pub use exit::UsageError;

/// Runs the command line in `std::env::args()` and returns the process exit code.
///
/// Usage and configuration errors (clap's, or a [`UsageError`] from a command) exit 2 with a
/// message naming the bad input; other failures exit 1.
///
/// A closed stdout (`tend logs X | head`) ends any command quietly with status 0.
pub fn main_impl() -> i32 {
    closed_pipe::quiet_on_closed_pipe();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => {
            // --help and --version.
            let _ = error.print();
            return 0;
        }
        Err(error) => return exit::report_usage(error),
    };
    // Every command may supervise thousands of processes (`run`, `up`, `daemon`), each
    // holding pipe descriptors: the usual soft limit of 1,024 is far too low for that.
    if let Err(error) = tend::raise_open_file_limit() {
        eprintln!("tend: warning: cannot raise the open-file limit: {error}");
    }
    match commands::dispatch(cli.command) {
        Ok(code) => code,
        Err(error) => exit::report(&error),
    }
}
