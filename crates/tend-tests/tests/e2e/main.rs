//! End-to-end tests: one integration-test binary for the package.
mod fixture;

mod cli_up;
mod runner_cancel;
mod runner_dag_prop;
mod runner_failure;
mod runner_report;
mod runner_schedule;
mod runner_support;
mod runner_validation;
