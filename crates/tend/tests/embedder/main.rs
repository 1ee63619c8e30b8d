//! The library as an embedder meets it (issue 12): each module is one topic, written from a
//! user's side with real processes and bounded waits.

mod durations;
mod papercuts;
mod script_options;

use std::future::Future;
use std::time::Duration;

/// Awaits `future`, failing the test if it takes longer than `limit` (generous: the machine
/// may be loaded).
pub async fn within<T>(limit: Duration, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, future).await.expect("took too long")
}

/// The bound every wait in these tests gets.
pub const LIMIT: Duration = Duration::from_secs(20);
