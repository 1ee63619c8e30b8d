//! A controllable child process for tests.
fn main() {}
