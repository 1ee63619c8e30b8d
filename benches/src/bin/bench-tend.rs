//! The `tend` binary, built by `cargo bench` for the `up_sequential` benchmark: the same one
//! line as `crates/tend-cli/src/main.rs`, so the benchmark measures the whole CLI without
//! building another package's binary itself.
fn main() {
    std::process::exit(tend_cli::main_impl());
}
