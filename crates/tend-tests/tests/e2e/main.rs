//! End-to-end tests: one integration-test binary for the package.
mod exec;
mod fixture;
mod proctable;
mod program;
