//! [`Signal`]: a Unix signal by number, parsed from and printed as its name.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::os::SIGNAL_NAMES;

/// A Unix signal.
///
/// Parses from a name with or without the `SIG` prefix in any case (`TERM`, `sigterm`,
/// `SIGTERM`) or from a number (`15`), and displays as the full name (`SIGTERM`). Serialises
/// as that name, so JSON never carries platform-specific numbers.
///
/// ```
/// use tend::Signal;
/// let sig: Signal = "term".parse().unwrap();
/// assert_eq!(sig, Signal::TERM);
/// assert_eq!(sig.to_string(), "SIGTERM");
/// assert_eq!("9".parse::<Signal>().unwrap(), Signal::KILL);
/// assert!("SIGNOPE".parse::<Signal>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signal(i32);

impl Signal {
    /// `SIGHUP`: hang-up; many daemons reload their configuration on it.
    pub const HUP: Signal = Signal(libc::SIGHUP);
    /// `SIGINT`: interrupt, as from Ctrl-C.
    pub const INT: Signal = Signal(libc::SIGINT);
    /// `SIGQUIT`: quit with a core dump.
    pub const QUIT: Signal = Signal(libc::SIGQUIT);
    /// `SIGKILL`: cannot be caught or ignored.
    pub const KILL: Signal = Signal(libc::SIGKILL);
    /// `SIGTERM`: polite request to terminate.
    pub const TERM: Signal = Signal(libc::SIGTERM);
    /// `SIGUSR1`: user-defined.
    pub const USR1: Signal = Signal(libc::SIGUSR1);
    /// `SIGUSR2`: user-defined.
    pub const USR2: Signal = Signal(libc::SIGUSR2);
    /// `SIGSTOP`: stop (pause); cannot be caught.
    pub const STOP: Signal = Signal(libc::SIGSTOP);
    /// `SIGCONT`: continue after a stop.
    pub const CONT: Signal = Signal(libc::SIGCONT);

    /// The signal with this number, if this platform knows it by name.
    pub fn from_number(number: i32) -> Option<Signal> {
        SIGNAL_NAMES.iter().any(|&(_, n)| n == number).then_some(Signal(number))
    }

    /// The platform's number for this signal.
    pub fn number(self) -> i32 {
        self.0
    }

    /// The name without the `SIG` prefix, e.g. `TERM`.
    pub fn short_name(self) -> &'static str {
        SIGNAL_NAMES.iter().find(|&&(_, n)| n == self.0).map_or("UNKNOWN", |&(name, _)| name)
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One `pad` of the whole name, so `{:<8}` pads `SIGTERM` in a table.
        f.pad(&format!("SIG{}", self.short_name()))
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The input to [`Signal::from_str`] named no known signal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown signal `{0}` (expected a name such as TERM or SIGHUP, or a number such as 15)")]
pub struct UnknownSignal(pub String);

impl FromStr for Signal {
    type Err = UnknownSignal;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let trimmed = input.trim();
        if let Ok(number) = trimmed.parse::<i32>() {
            return Signal::from_number(number).ok_or_else(|| UnknownSignal(input.to_owned()));
        }
        let upper = trimmed.to_ascii_uppercase();
        let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
        SIGNAL_NAMES
            .iter()
            .find(|&&(name, _)| name == bare)
            .map(|&(_, n)| Signal(n))
            .ok_or_else(|| UnknownSignal(input.to_owned()))
    }
}

impl Serialize for Signal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Signal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i32),
            Name(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(n) => Signal::from_number(n)
                .ok_or_else(|| serde::de::Error::custom(UnknownSignal(n.to_string()))),
            Raw::Name(name) => name.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// Written by hand because the serde is: answers carry the full name (`SIGTERM`); requests
/// also take it without `SIG`, in any case, or as a number. The JSON Schema of an answer
/// (serialising contract) says the former, of a request the latter.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for Signal {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Signal".into()
    }

    fn inline_schema() -> bool {
        // Two shapes under one name would collide among an OpenAPI document's components.
        true
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        if generator.contract().is_serialize() {
            schemars::json_schema!({
                "type": "string",
                "pattern": "^SIG[A-Z0-9]+$",
                "description": "A signal by its full name, such as SIGTERM.",
            })
        } else {
            schemars::json_schema!({
                "description": "A signal by name, with or without SIG, in any case (TERM, sigterm, SIGTERM), or by number (15).",
                "anyOf": [
                    { "type": "string", "minLength": 1 },
                    { "type": "integer", "minimum": 1 },
                ],
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_name_round_trips() {
        for &(name, number) in SIGNAL_NAMES {
            let sig: Signal = name.parse().unwrap();
            assert_eq!(sig.number(), number);
            assert_eq!(sig.to_string().parse::<Signal>().unwrap(), sig);
            assert_eq!(number.to_string().parse::<Signal>().unwrap(), sig);
        }
    }

    #[test]
    fn rejects_garbage_naming_it() {
        let err = "SIGFOO".parse::<Signal>().unwrap_err();
        assert!(err.to_string().contains("SIGFOO"));
        assert!("0".parse::<Signal>().is_err());
        assert!("".parse::<Signal>().is_err());
    }

    #[test]
    fn serialises_as_name_and_reads_names_or_numbers() {
        assert_eq!(serde_json::to_string(&Signal::TERM).unwrap(), "\"SIGTERM\"");
        assert_eq!(serde_json::from_str::<Signal>("\"hup\"").unwrap(), Signal::HUP);
        assert_eq!(serde_json::from_str::<Signal>("9").unwrap(), Signal::KILL);
    }
}
