//! The library as an embedder meets it (issue 12): tests written from a user's side, against
//! the public API only, with real processes and bounded waits. One module per topic.

mod durations;
mod failure_rule;
mod merge_stderr;
mod papercuts;
mod process_lines;
mod ring;
mod script_options;
mod stop_signal;

use std::future::Future;
use std::time::Duration;

/// Awaits `future`, failing the test if it takes longer than `limit` (generous: the machine
/// may be loaded).
pub async fn within<T>(limit: Duration, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, future).await.expect("took too long")
}

/// The bound every wait in these tests gets.
pub const LIMIT: Duration = Duration::from_secs(20);
