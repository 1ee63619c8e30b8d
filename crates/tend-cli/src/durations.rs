//! Humantime durations (`500ms`, `2s`, `1m30s`) for clap, and for the API's `*_ms` numbers.
//!
//! Every duration is accepted: one of [`tend::FOREVER`] (100 years) or more means "never"
//! (no timeout, no SIGKILL after the grace period). A value humantime cannot represent (more
//! than about 584 billion years, or not a duration at all) is a usage error naming it.

use std::time::Duration;

use tend::wire::Millis;

/// Parses a humantime duration; the error names the value.
pub(crate) fn parse_duration(value: &str) -> Result<Duration, String> {
    humantime::parse_duration(value)
        .map_err(|e| format!("`{value}` is not a duration like 500ms, 2s or 1m30s ({e})"))
}

/// `duration` as the API's `*_ms` number. Anything from [`tend::FOREVER`] up means the same
/// ("never") and is sent as that, so the number always fits the daemon's [`Duration`].
pub(crate) fn millis(duration: Duration) -> Millis {
    Millis(duration.min(tend::FOREVER))
}

/// A run time as people read it in tables and summaries: `850ms`, `12.3s`, `2m05s` (never
/// the raw `606.7523030000001` of the wire's `duration_ms`).
pub(crate) fn human(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        format!("{ms:.0}ms")
    } else if ms < 60_000.0 {
        format!("{:.1}s", ms / 1000.0)
    } else {
        let seconds = duration.as_secs_f64().round() as u64;
        format!("{}m{:02}s", seconds / 60, seconds % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(human(Duration::from_nanos(606_752_303)), "607ms");
        assert_eq!(human(Duration::from_secs_f64(12.345)), "12.3s");
        assert_eq!(human(Duration::from_secs(125)), "2m05s");
    }

    #[test]
    fn the_largest_durations_parse_and_travel() {
        let max = parse_duration("18446744073709551615s").unwrap();
        assert_eq!(max.as_secs(), u64::MAX);
        assert_eq!(millis(max).0, tend::FOREVER);
        let sent = serde_json::to_value(millis(Duration::MAX)).unwrap().as_f64().unwrap();
        assert!(Duration::try_from_secs_f64(sent / 1000.0).is_ok());
        let error = parse_duration("18446744073709551616s").unwrap_err();
        assert!(error.contains("`18446744073709551616s`"), "{error}");
    }
}
