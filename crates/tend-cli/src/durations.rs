//! Humantime durations (`500ms`, `2s`, `1m30s`) for clap.

use std::time::Duration;

/// Parses a humantime duration; the error names the value.
pub(crate) fn parse_duration(value: &str) -> Result<Duration, String> {
    humantime::parse_duration(value)
        .map_err(|e| format!("`{value}` is not a duration like 500ms, 2s or 1m30s ({e})"))
}
