//! [`ByteSize`]: a number of bytes written the way people write sizes (`512KiB`, `10MiB`).

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The units a size may have, largest first: binary (`KiB` = 1024 bytes) and decimal (`KB` =
/// 1000 bytes, as SI defines it), and `B`. [`Display`](fmt::Display) picks the first that
/// divides the size exactly.
const UNITS: [(&str, u64); 9] = [
    ("TiB", 1 << 40),
    ("TB", 1_000_000_000_000),
    ("GiB", 1 << 30),
    ("GB", 1_000_000_000),
    ("MiB", 1 << 20),
    ("MB", 1_000_000),
    ("KiB", 1 << 10),
    ("KB", 1_000),
    ("B", 1),
];

/// A size in bytes, as written in files and on the command line: a whole number, optionally
/// followed by a unit (spaces between them allowed).
///
/// | unit | bytes |
/// | --- | --- |
/// | none, `B` | 1 |
/// | `KiB`, `MiB`, `GiB`, `TiB` | 1024, 1024², 1024³, 1024⁴ |
/// | `KB`, `MB`, `GB`, `TB` | 1000, 1000², 1000³, 1000⁴ (decimal, as SI defines them) |
///
/// Units are case-sensitive (`mb` is refused rather than guessed); fractions (`1.5GiB`),
/// negative numbers, junk and sizes past `u64::MAX` bytes are refused with an error naming the
/// value. [`parse_positive`](Self::parse_positive) also refuses zero, for sizes that must be
/// positive (a log file's `log_max_size`). [`Display`](fmt::Display) writes the size back in
/// the largest unit that holds it exactly (`1048576` → `1MiB`, `1500` → `1500B`), so a size
/// round-trips through its text. With serde it is that text (an integer is read as bytes).
///
/// ```
/// use tend::ByteSize;
///
/// let size: ByteSize = "10MiB".parse().unwrap();
/// assert_eq!(size.bytes(), 10 * 1024 * 1024);
/// assert_eq!(size.to_string(), "10MiB");
/// assert_eq!("2 KB".parse::<ByteSize>().unwrap().bytes(), 2000);
/// assert!(ByteSize::parse_positive("0MiB").is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSize(u64);

impl ByteSize {
    /// `bytes` bytes.
    pub const fn new(bytes: u64) -> Self {
        Self(bytes)
    }

    /// `n` KiB (1024 bytes each), saturating at `u64::MAX`.
    pub const fn kib(n: u64) -> Self {
        Self(n.saturating_mul(1 << 10))
    }

    /// `n` MiB (1024² bytes each), saturating at `u64::MAX`.
    pub const fn mib(n: u64) -> Self {
        Self(n.saturating_mul(1 << 20))
    }

    /// `n` GiB (1024³ bytes each), saturating at `u64::MAX`.
    pub const fn gib(n: u64) -> Self {
        Self(n.saturating_mul(1 << 30))
    }

    /// The number of bytes.
    pub const fn bytes(self) -> u64 {
        self.0
    }

    /// Parses `text` like [`from_str`](FromStr::from_str), and also refuses zero.
    ///
    /// # Errors
    ///
    /// [`ByteSizeError`] naming `text`, as for `from_str`, or saying it must be more than 0.
    pub fn parse_positive(text: &str) -> Result<Self, ByteSizeError> {
        let size: Self = text.parse()?;
        if size.0 == 0 {
            return Err(ByteSizeError::new(text, "must be more than 0"));
        }
        Ok(size)
    }
}

impl From<u64> for ByteSize {
    fn from(bytes: u64) -> Self {
        Self(bytes)
    }
}

impl From<ByteSize> for u64 {
    fn from(size: ByteSize) -> Self {
        size.0
    }
}

/// A size that could not be parsed: the text and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid size {value:?}: {reason}")]
pub struct ByteSizeError {
    /// The text as given.
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
}

impl ByteSizeError {
    fn new(value: &str, reason: impl Into<String>) -> Self {
        Self { value: value.to_owned(), reason: reason.into() }
    }
}

impl FromStr for ByteSize {
    type Err = ByteSizeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        if trimmed.starts_with('-') {
            return Err(ByteSizeError::new(text, "a size cannot be negative"));
        }
        let digits_end = trimmed.find(|c: char| !c.is_ascii_digit()).unwrap_or(trimmed.len());
        let (digits, unit) = trimmed.split_at(digits_end);
        let unit = unit.trim_start();
        if digits.is_empty() || unit.starts_with(['.', ',']) {
            return Err(ByteSizeError::new(
                text,
                "expected a whole number of bytes with an optional unit \
                 (B, KiB, MiB, GiB, TiB, or decimal KB, MB, GB, TB), e.g. 10MiB",
            ));
        }
        let Some(&(_, factor)) = UNITS.iter().find(|(name, _)| *name == unit).or(match unit {
            "" => Some(&("B", 1)),
            _ => None,
        }) else {
            return Err(ByteSizeError::new(
                text,
                format!(
                    "unknown unit {unit:?} (units: B, KiB, MiB, GiB, TiB, or decimal KB, MB, GB, TB; \
                     case-sensitive)"
                ),
            ));
        };
        let too_large = || ByteSizeError::new(text, "too large (the most is 2^64 - 1 bytes)");
        let number: u64 = digits.parse().map_err(|_| too_large())?;
        number.checked_mul(factor).map(Self).ok_or_else(too_large)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0B");
        }
        let (name, factor) =
            UNITS.iter().find(|(_, factor)| self.0.is_multiple_of(*factor)).unwrap_or(&("B", 1));
        write!(f, "{}{name}", self.0 / factor)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SizeVisitor;
        impl Visitor<'_> for SizeVisitor {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size such as \"10MiB\", or a number of bytes")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<ByteSize, E> {
                text.parse().map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, bytes: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(bytes))
            }
            fn visit_i64<E: de::Error>(self, bytes: i64) -> Result<ByteSize, E> {
                u64::try_from(bytes).map(ByteSize).map_err(|_| {
                    E::custom(format!("invalid size {bytes}: a size cannot be negative"))
                })
            }
        }
        deserializer.deserialize_any(SizeVisitor)
    }
}

/// By hand, as the serde is: size text (`10MiB`) or a number of bytes.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for ByteSize {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ByteSize".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": ["string", "integer"],
            "minimum": 0,
            "pattern": "^\\s*[0-9]+\\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\\s*$",
            "description": "A size: a whole number of bytes with an optional unit, binary (KiB, MiB, GiB, TiB) or decimal (KB, MB, GB, TB), such as 10MiB; or a number of bytes.",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_binary_decimal_and_plain_sizes() {
        let cases = [
            ("4096", 4096),
            ("4096B", 4096),
            ("512KiB", 512 * 1024),
            ("10MiB", 10 << 20),
            ("1GiB", 1 << 30),
            ("2TiB", 2 << 40),
            ("3KB", 3000),
            ("10MB", 10_000_000),
            ("1GB", 1_000_000_000),
            ("1TB", 1_000_000_000_000),
            (" 10 MiB ", 10 << 20),
            ("0", 0),
        ];
        for (text, bytes) in cases {
            assert_eq!(text.parse::<ByteSize>(), Ok(ByteSize(bytes)), "{text}");
        }
    }

    #[test]
    fn refuses_junk_negative_fractions_overflow_and_zero_naming_the_value() {
        for (text, reason) in [
            ("", "whole number"),
            ("MiB", "whole number"),
            ("ten", "whole number"),
            ("1.5GiB", "whole number"),
            ("10mb", "unknown unit \"mb\""),
            ("10MiBs", "unknown unit"),
            ("10 Mi B", "unknown unit"),
            ("-1MiB", "negative"),
            ("18446744073709551616", "too large"),
            ("16777216TiB", "too large"),
        ] {
            let error = text.parse::<ByteSize>().unwrap_err();
            assert_eq!(error.value, text);
            let message = error.to_string();
            assert!(message.contains(reason), "{text}: {message}");
            assert!(message.contains(&format!("{text:?}")), "{message}");
        }
        let zero = ByteSize::parse_positive("0KiB").unwrap_err();
        assert_eq!(zero.to_string(), "invalid size \"0KiB\": must be more than 0");
        assert_eq!(ByteSize::parse_positive("1").unwrap().bytes(), 1);
    }

    #[test]
    fn displays_the_largest_exact_unit_and_round_trips() {
        for (bytes, text) in [
            (0, "0B"),
            (1, "1B"),
            (1500, "1500B"),
            (2000, "2KB"),
            (1024, "1KiB"),
            (1024 * 1000, "1000KiB"),
            (10 << 20, "10MiB"),
            (10_000_000, "10MB"),
            (1 << 30, "1GiB"),
            (u64::MAX, "18446744073709551615B"),
        ] {
            let size = ByteSize(bytes);
            assert_eq!(size.to_string(), text);
            assert_eq!(text.parse::<ByteSize>(), Ok(size));
        }
    }

    #[test]
    fn serde_reads_text_or_bytes_and_writes_text() {
        let size: ByteSize = serde_json::from_str("\"512KiB\"").unwrap();
        assert_eq!(size, ByteSize::kib(512));
        assert_eq!(serde_json::to_string(&size).unwrap(), "\"512KiB\"");
        assert_eq!(serde_json::from_str::<ByteSize>("4096").unwrap(), ByteSize(4096));
        let error = serde_json::from_str::<ByteSize>("\"12 parsecs\"").unwrap_err().to_string();
        assert!(error.contains("\"12 parsecs\""), "{error}");
        let error = serde_json::from_str::<ByteSize>("-5").unwrap_err().to_string();
        assert!(error.contains("negative"), "{error}");
    }
}
