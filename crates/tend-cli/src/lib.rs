//! The `tend` command-line tool, as a library so tests and other binaries can drive it.
//!
//! `main.rs` only calls [`main_impl`]. Each subcommand lives in its own file under
//! `commands/`, with its clap arguments beside its implementation.

mod cli;
mod client;
mod commands;
mod containment;
mod durations;
mod events;
mod exit;
mod interrupt;
mod key_value;
mod pipeline_output;
mod table;

use clap::Parser;

pub use exit::UsageError;

/// Runs the command line in `std::env::args()` and returns the process exit code.
///
/// Usage and configuration errors (clap's, or a [`UsageError`] from a command) exit 2 with a
/// message naming the bad input; other failures exit 1.
pub fn main_impl() -> i32 {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { exit::USAGE } else { 0 };
            let _ = error.print();
            return code;
        }
    };
    match commands::dispatch(cli.command) {
        Ok(code) => code,
        Err(error) => exit::report(&error),
    }
}
