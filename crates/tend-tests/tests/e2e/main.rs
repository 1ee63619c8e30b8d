//! End-to-end tests: one integration-test binary for the package.
mod cli_run;
mod cli_run_signals;
mod fixture;
mod process_control;
mod process_cycles;
mod process_events;
mod process_groups;
mod process_lifecycle;
mod process_output;
mod process_table;
mod support;
