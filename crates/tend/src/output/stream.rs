//! [`Stream`]: which output pipe bytes came from.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One of a child's two output streams.
///
/// Displays and serialises in lower case, as the JSON contract spells it (`"stdout"`), and
/// pads to a width like any string:
///
/// ```
/// use tend::Stream;
/// assert_eq!(Stream::Stderr.to_string(), "stderr");
/// assert_eq!(format!("{:<7}|", Stream::Stdout), "stdout |");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// Standard output (file descriptor 1).
    Stdout,
    /// Standard error (file descriptor 2).
    Stderr,
}

impl Stream {
    /// The lower-case name: `"stdout"` or `"stderr"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` honours width and alignment (`{:<6}`).
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_json() {
        for (stream, name) in [(Stream::Stdout, "stdout"), (Stream::Stderr, "stderr")] {
            assert_eq!(stream.to_string(), name);
            let json = serde_json::to_string(&stream).unwrap();
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<Stream>(&json).unwrap(), stream);
        }
        assert!(serde_json::from_str::<Stream>("\"Stdout\"").is_err());
    }
}
