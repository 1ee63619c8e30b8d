//! Managed processes against the raw baseline. (Benchmarks arrive with the core.)
fn main() {}
