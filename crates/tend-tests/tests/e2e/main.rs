//! End-to-end tests: one integration-test binary for the package.
mod exec;
mod fixture;
mod output_file;
mod proctable;
mod program;
mod restart;
mod restart_cli;

mod daemon_cli;
mod daemon_health;
mod daemon_lifecycle;
mod daemon_pidfile;
mod daemon_probe;
mod daemon_registry;
mod daemon_support;
