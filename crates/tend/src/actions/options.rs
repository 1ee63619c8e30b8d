//! Reading an action's JSON option bag: each failure names the key it is about.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value};

use super::registry::ActionError;
use crate::Signal;

/// An action's options: a JSON object whose keys were all checked against the action's list.
/// A `null` value reads as an absent key. Every process action reads its options with this;
/// so can actions registered elsewhere, for the same errors.
///
/// ```
/// use tend::actions::json;
/// use tend::actions::Options;
///
/// let options = Options::parse(json!({"id": "web", "grace": "2s"}), &["id", "grace"]).unwrap();
/// assert_eq!(options.required_string("id").unwrap(), "web");
/// assert_eq!(options.duration("grace").unwrap(), Some(std::time::Duration::from_secs(2)));
/// let error = Options::parse(json!({"colour": 1}), &["id"]).err().unwrap();
/// assert_eq!(error.code(), "invalid_option");
/// ```
#[derive(Debug)]
pub struct Options {
    map: Map<String, Value>,
}

impl Options {
    /// Accepts a JSON object (or `null`, read as `{}`) whose keys are all in `allowed`.
    pub fn parse(options: Value, allowed: &[&str]) -> Result<Self, ActionError> {
        let map = match options {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => {
                return Err(ActionError::invalid(
                    "options",
                    format!("must be a JSON object, not {}", kind(&other)),
                ));
            }
        };
        if let Some(unknown) = map.keys().find(|key| !allowed.contains(&key.as_str())) {
            let expected = if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") };
            return Err(ActionError::invalid(
                unknown.clone(),
                format!("unknown option (expected: {expected})"),
            ));
        }
        Ok(Self { map })
    }

    /// The value under `key`, `None` when absent or `null`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|value| !value.is_null())
    }

    /// An optional string.
    pub fn string(&self, key: &str) -> Result<Option<String>, ActionError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(wrong_type(key, "a string", other)),
        }
    }

    /// A string that must be there.
    pub fn required_string(&self, key: &str) -> Result<String, ActionError> {
        self.string(key)?.ok_or_else(|| ActionError::invalid(key, "missing"))
    }

    /// An optional non-negative whole number.
    pub fn count(&self, key: &str) -> Result<Option<u64>, ActionError> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => value
                .as_u64()
                .map(Some)
                .ok_or_else(|| wrong_type(key, "a non-negative integer", value)),
        }
    }

    /// An optional boolean.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ActionError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(other) => Err(wrong_type(key, "true or false", other)),
        }
    }

    /// An optional array of strings.
    pub fn strings(&self, key: &str) -> Result<Option<Vec<String>>, ActionError> {
        let Some(value) = self.get(key) else { return Ok(None) };
        let not_strings = || wrong_type(key, "an array of strings", value);
        let Value::Array(items) = value else { return Err(not_strings()) };
        items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or_else(not_strings))
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// An optional object of strings.
    pub fn string_map(&self, key: &str) -> Result<Option<BTreeMap<String, String>>, ActionError> {
        let Some(value) = self.get(key) else { return Ok(None) };
        let not_strings = || wrong_type(key, "an object of strings", value);
        let Value::Object(entries) = value else { return Err(not_strings()) };
        entries
            .iter()
            .map(|(k, v)| Ok((k.clone(), v.as_str().ok_or_else(not_strings)?.to_owned())))
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// An optional duration, as a humantime string under `key` (`"500ms"`, `"2s"`) or a number
    /// of milliseconds under `key_ms`. A bare number under `key` is refused: go-process read
    /// it as nanoseconds, so `{"timeout": 5}` meant 5 ns.
    pub fn duration(&self, key: &str) -> Result<Option<Duration>, ActionError> {
        let ms_key = format!("{key}_ms");
        let text = match self.get(key) {
            None => None,
            Some(Value::String(text)) => Some(text),
            Some(Value::Number(_)) => {
                return Err(ActionError::invalid(
                    key,
                    format!(
                        "a bare number is ambiguous; give a duration string such as \"5s\" or \"500ms\", or milliseconds as `{ms_key}`"
                    ),
                ));
            }
            Some(other) => return Err(wrong_type(key, "a duration string such as \"5s\"", other)),
        };
        let millis = match self.get(&ms_key) {
            None => None,
            Some(Value::Number(number)) => number.as_f64(),
            Some(other) => return Err(wrong_type(&ms_key, "a number of milliseconds", other)),
        };
        match (text, millis) {
            (Some(_), Some(_)) => {
                Err(ActionError::invalid(ms_key, format!("give `{key}` or `{key}_ms`, not both")))
            }
            (Some(text), None) => humantime::parse_duration(text).map(Some).map_err(|error| {
                ActionError::invalid(
                    key,
                    format!("`{text}` is not a duration such as \"500ms\" or \"2s\": {error}"),
                )
            }),
            (None, Some(ms)) => Duration::try_from_secs_f64(ms / 1000.0).map(Some).map_err(|_| {
                ActionError::invalid(ms_key, format!("{ms} is not a usable number of milliseconds"))
            }),
            (None, None) => Ok(None),
        }
    }

    /// A signal that must be there: a name (`"TERM"`, `"SIGHUP"`) or a number.
    pub fn signal(&self, key: &str) -> Result<Signal, ActionError> {
        match self.get(key) {
            None => Err(ActionError::invalid(key, "missing")),
            Some(Value::String(name)) => {
                name.parse().map_err(|error| ActionError::invalid(key, format!("{error}")))
            }
            Some(Value::Number(number)) => number
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .and_then(Signal::from_number)
                .ok_or_else(|| ActionError::invalid(key, format!("no signal has number {number}"))),
            Some(other) => Err(wrong_type(key, "a signal name or number", other)),
        }
    }
}

fn wrong_type(key: &str, expected: &str, got: &Value) -> ActionError {
    ActionError::invalid(key, format!("must be {expected}, not {}", kind(got)))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn option_of(error: ActionError) -> String {
        match error {
            ActionError::InvalidOption { option, .. } => option,
            other => panic!("not invalid_option: {other:?}"),
        }
    }

    #[test]
    fn unknown_keys_and_non_objects_are_named() {
        assert_eq!(
            option_of(Options::parse(json!({"a": 1, "zz": 2}), &["a"]).err().unwrap()),
            "zz"
        );
        assert_eq!(option_of(Options::parse(json!([1]), &["a"]).err().unwrap()), "options");
        assert!(Options::parse(Value::Null, &[]).is_ok());
    }

    #[test]
    fn durations_are_strings_or_milliseconds_never_bare_numbers() {
        let read = |v: Value| Options::parse(v, &["timeout", "timeout_ms"])?.duration("timeout");
        assert_eq!(read(json!({"timeout": "1m30s"})).unwrap(), Some(Duration::from_secs(90)));
        assert_eq!(read(json!({"timeout_ms": 2.5})).unwrap(), Some(Duration::from_micros(2500)));
        assert_eq!(read(json!({})).unwrap(), None);
        let bare = read(json!({"timeout": 5})).unwrap_err();
        assert!(bare.to_string().contains("timeout_ms"), "{bare}");
        assert_eq!(option_of(bare), "timeout");
        assert_eq!(option_of(read(json!({"timeout": "soon"})).unwrap_err()), "timeout");
        assert_eq!(option_of(read(json!({"timeout_ms": -1})).unwrap_err()), "timeout_ms");
        assert_eq!(option_of(read(json!({"timeout_ms": "5"})).unwrap_err()), "timeout_ms");
        let both = read(json!({"timeout": "1s", "timeout_ms": 5})).unwrap_err();
        assert_eq!(option_of(both), "timeout_ms");
    }

    #[test]
    fn typed_values_name_their_key() {
        let options = Options::parse(
            json!({"args": ["a", 1], "env": {"K": 2}, "flag": "yes", "sig": "NOPE", "n": 0}),
            &["args", "env", "flag", "sig", "n"],
        )
        .unwrap();
        assert_eq!(option_of(options.strings("args").unwrap_err()), "args");
        assert_eq!(option_of(options.string_map("env").unwrap_err()), "env");
        assert_eq!(option_of(options.bool("flag").unwrap_err()), "flag");
        assert_eq!(option_of(options.signal("sig").unwrap_err()), "sig");
        assert_eq!(option_of(options.signal("n").unwrap_err()), "n");
        assert_eq!(option_of(options.required_string("missing").unwrap_err()), "missing");
    }
}
