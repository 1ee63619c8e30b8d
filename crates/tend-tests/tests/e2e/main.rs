//! End-to-end tests: one integration-test binary for the package.

mod daemon_pidfile;
mod daemon_registry;
mod daemon_support;
