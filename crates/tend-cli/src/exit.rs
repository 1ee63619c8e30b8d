//! Exit codes and how errors become them.

/// Exit code for usage and configuration errors.
pub(crate) const USAGE: i32 = 2;
/// Exit code for any other failure.
pub(crate) const FAILURE: i32 = 1;

/// A usage or configuration error: bad input the user can fix. Exits 2.
///
/// The message must name the bad input (flag, key, path or value).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Prints an error chain on stderr and picks the exit code.
pub(crate) fn report(error: &anyhow::Error) -> i32 {
    eprintln!("tend: {error:#}");
    if error.downcast_ref::<UsageError>().is_some() { USAGE } else { FAILURE }
}
