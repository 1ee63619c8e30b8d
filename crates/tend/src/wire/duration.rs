//! The duration twin, the one implementation of it: a duration is a humantime string under
//! `KEY` (`"500ms"`, `"2s"`, `"1m30s"`) or a non-negative number of milliseconds under
//! `KEY_ms` (`1500`, `2.5`). A bare number under `KEY` is refused with a message naming
//! `KEY_ms` (go-process read it as nanoseconds, so `{"timeout": 5}` meant 5 ns); both forms
//! at once are refused too.
//!
//! Request types hold the two halves as [`DurationText`] and [`Millis`] and resolve them with
//! [`twin`]; the pipeline step schema (`tend::runner`) reads its `timeout`, `grace` and
//! `retry_delay` through [`parse_text`], [`parse_millis`], [`bare_number`] and [`both_given`],
//! so a file, a pipeline request and a process request accept and refuse the same values with
//! the same words.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::error::Invalid;

/// Reads a humantime duration: `"500ms"`, `"2s"`, `"1m30s"`, `"100years"`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(tend::wire::parse_text("1m30s"), Ok(Duration::from_secs(90)));
/// assert!(tend::wire::parse_text("soon").unwrap_err().contains("`soon`"));
/// ```
pub fn parse_text(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|error| format!("`{text}` is not a duration such as \"500ms\" or \"2s\": {error}"))
}

/// Reads a number of milliseconds: finite, from 0, and small enough for a [`Duration`].
///
/// ```
/// use std::time::Duration;
/// assert_eq!(tend::wire::parse_millis(2.5), Ok(Duration::from_micros(2500)));
/// assert!(tend::wire::parse_millis(-1.0).is_err());
/// ```
pub fn parse_millis(millis: f64) -> Result<Duration, String> {
    if millis < 0.0 || millis.is_nan() {
        return Err(format!("{millis} is not a usable number of milliseconds (from 0)"));
    }
    Duration::try_from_secs_f64(millis / 1000.0)
        .map_err(|_| format!("{millis} is not a usable number of milliseconds (too large)"))
}

/// The refusal of a bare number under `key`: it names `key_ms`.
///
/// ```
/// assert!(tend::wire::bare_number("timeout").contains("`timeout_ms`"));
/// ```
pub fn bare_number(key: &str) -> String {
    format!(
        "a bare number is ambiguous; give a duration string such as \"5s\" or \"500ms\", or milliseconds as `{key}_ms`"
    )
}

/// The refusal of `key` and `key_ms` given together.
pub fn both_given(key: &str) -> String {
    format!("give `{key}` or `{key}_ms`, not both")
}

/// Resolves the two halves of the twin under `key`: at most one may be given.
///
/// ```
/// use std::time::Duration;
/// use tend::wire::{DurationText, Millis, twin};
///
/// let text = Some(DurationText(Duration::from_secs(2)));
/// assert_eq!(twin("grace", text, None).unwrap(), Some(Duration::from_secs(2)));
/// let both = twin("grace", text, Some(Millis(Duration::from_millis(5)))).unwrap_err();
/// assert_eq!(both.key, "grace_ms");
/// ```
pub fn twin(
    key: &str,
    text: Option<DurationText>,
    millis: Option<Millis>,
) -> Result<Option<Duration>, Invalid> {
    match (text, millis) {
        (Some(_), Some(_)) => Err(Invalid::new(format!("{key}_ms"), both_given(key))),
        (Some(DurationText(duration)), None) | (None, Some(Millis(duration))) => Ok(Some(duration)),
        (None, None) => Ok(None),
    }
}

/// A duration written as a humantime string (`"2s"`); a number is refused, naming the `_ms`
/// key the field has beside it (so it must be read with one of the `deserialize_with`
/// functions of this module, which know the key). Serialized as humantime text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DurationText(pub Duration);

impl From<Duration> for DurationText {
    fn from(duration: Duration) -> Self {
        Self(duration)
    }
}

impl Serialize for DurationText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&humantime::format_duration(self.0))
    }
}

impl<'de> Deserialize<'de> for DurationText {
    /// Without a key to name: a bare number is refused naming `KEY_ms`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TextVisitor { key: "KEY" })
    }
}

struct TextVisitor {
    key: &'static str,
}

impl TextVisitor {
    fn bare<E: de::Error>(&self) -> Result<DurationText, E> {
        Err(E::custom(bare_number(self.key)))
    }
}

impl Visitor<'_> for TextVisitor {
    type Value = DurationText;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration string such as \"5s\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<DurationText, E> {
        parse_text(text).map(DurationText).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<DurationText, E> {
        self.bare()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<DurationText, E> {
        self.bare()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<DurationText, E> {
        self.bare()
    }
}

/// Reads an optional [`DurationText`] under `key` (`null` is absent).
pub(crate) fn optional_text<'de, D: Deserializer<'de>>(
    key: &'static str,
    deserializer: D,
) -> Result<Option<DurationText>, D::Error> {
    struct Maybe(&'static str);
    impl<'de> Visitor<'de> for Maybe {
        type Value = Option<DurationText>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration string such as \"5s\"")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(TextVisitor { key: self.0 }).map(Some)
        }
    }
    deserializer.deserialize_option(Maybe(key))
}

/// `deserialize_with` functions for each duration key, naming it in the bare-number refusal.
pub(crate) mod keys {
    use serde::Deserializer;

    use super::{DurationText, optional_text};

    macro_rules! key {
        ($($name:ident),*) => {$(
            pub(crate) fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DurationText>, D::Error> {
                optional_text(stringify!($name), d)
            }
        )*};
    }
    key!(timeout, grace, restart_delay);
}

/// A duration written as a number of milliseconds (`1500`, `2.5`): finite, from 0, and small
/// enough for a [`Duration`]. Serialized as a number of milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Millis(pub Duration);

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.0.as_secs_f64() * 1000.0)
    }
}

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Number;
        impl Visitor<'_> for Number {
            type Value = Millis;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of milliseconds")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Millis, E> {
                parse_millis(v).map(Millis).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Millis, E> {
                Ok(Millis(Duration::from_millis(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Millis, E> {
                self.visit_f64(v as f64)
            }
        }
        deserializer.deserialize_any(Number)
    }
}

/// By hand, as the serde is: humantime text (a number is refused, naming `KEY_ms`).
#[cfg(feature = "schema")]
impl schemars::JsonSchema for DurationText {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DurationText".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "minLength": 1,
            "description": "A duration as humantime text, such as 500ms, 2s or 1m30s (a bare number is refused: use the KEY_ms twin).",
        })
    }
}

/// By hand, as the serde is: a number of milliseconds, from 0.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for Millis {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Millis".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "number",
            "minimum": 0,
            "description": "A duration in milliseconds (fractions allowed).",
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::wire::{StartRequest, decode};

    #[test]
    fn text_and_millis_round_trip() {
        let text = DurationText(Duration::from_millis(1500));
        let json = serde_json::to_value(text).unwrap();
        assert_eq!(json, json!("1s 500ms"));
        assert_eq!(serde_json::from_value::<DurationText>(json).unwrap(), text);
        let millis = Millis(Duration::from_micros(2500));
        let json = serde_json::to_value(millis).unwrap();
        assert_eq!(json, json!(2.5));
        assert_eq!(serde_json::from_value::<Millis>(json).unwrap(), millis);
        assert_eq!(
            serde_json::from_value::<Millis>(json!(u64::MAX)).unwrap().0,
            Duration::from_millis(u64::MAX)
        );
    }

    #[test]
    fn a_bare_number_under_the_key_is_refused_naming_the_ms_key() {
        for key in ["timeout", "grace", "restart_delay"] {
            let error = decode::<StartRequest>(json!({"command": "x", key: 5})).unwrap_err();
            assert_eq!(error.key, key);
            assert!(error.message.contains(&format!("`{key}_ms`")), "{error}");
            assert!(error.message.contains("\"5s\""), "{error}");
        }
    }

    #[test]
    fn bad_millis_and_bad_text_name_their_key() {
        for bad in [json!(-1), json!(-0.5), json!(1e300), json!(1.8446744073709552e22), json!("5")]
        {
            let error =
                decode::<StartRequest>(json!({"command": "x", "grace_ms": bad})).unwrap_err();
            assert_eq!(error.key, "grace_ms", "{bad}: {error}");
        }
        let error = decode::<StartRequest>(json!({"command": "x", "timeout": "soon"})).unwrap_err();
        assert_eq!(error.key, "timeout");
        assert!(error.message.contains("`soon`"), "{error}");
    }

    #[test]
    fn huge_text_durations_are_accepted() {
        for huge in ["18446744073709551615s", "100years", "584542046090years"] {
            assert!(parse_text(huge).is_ok(), "{huge}");
        }
    }
}
