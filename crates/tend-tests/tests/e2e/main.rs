//! End-to-end tests: one integration-test binary for the package.
mod exec;
mod fixture;
mod proctable;
mod program;

mod daemon_cli;
mod daemon_health;
mod daemon_lifecycle;
mod daemon_pidfile;
mod daemon_probe;
mod daemon_registry;
mod daemon_support;

mod cli_daemon;
mod server_api;
mod server_daemons;
mod server_events;
mod server_security;
mod server_support;
