//! The `tend` binary: everything lives in the `tend_cli` library.
fn main() {
    std::process::exit(tend_cli::main_impl());
}
