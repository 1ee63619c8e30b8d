//! A child for the benchmarks that times itself.
//!
//! `bench-child lines N` prints `N` numbered lines through Rust's line-buffered stdout (one
//! write per line, like a logging program) and then reports its own wall time on stderr as
//! `elapsed_ns=<n>`, so the benchmark measures how much the supervisor slows the child down.

use std::io::Write;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let count: u64 = match args.as_slice() {
        [_, mode, n] if mode == "lines" => n.parse().unwrap_or_else(|_| usage()),
        _ => usage(),
    };
    let start = Instant::now();
    let mut stdout = std::io::stdout().lock();
    for i in 0..count {
        if writeln!(stdout, "line {i} of the benchmark child, about sixty bytes long").is_err() {
            std::process::exit(1);
        }
    }
    drop(stdout);
    eprintln!("elapsed_ns={}", start.elapsed().as_nanos());
}

fn usage() -> ! {
    eprintln!("usage: bench-child lines N");
    std::process::exit(2)
}
