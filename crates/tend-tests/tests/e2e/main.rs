//! End-to-end tests: one integration-test binary for the package.
mod fixture;
mod process_output;
mod support;
