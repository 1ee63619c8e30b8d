//! The pipeline file's schema, as serde visitors that work for any format.
//!
//! Hand-written rather than derived so that every error names the step and the key, and is
//! raised while the deserializer is at the offending key or value: TOML then knows its byte
//! span and YAML its position, which become the line number of the error.
//!
//! Durations (`timeout`, `grace`, `retry_delay`) are the twin of [`crate::wire`]: a humantime
//! string under the key, or a number of milliseconds under `KEY_ms`, never both; a bare
//! number under the key is refused naming `KEY_ms`. Files and API requests read the same.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

use super::env_file::{EnvFileBase, EnvFileSeed};
use super::spec::{Step, StepCommand};
use super::values::{Count, EnvTable, Field, Flag, Millis, Span, Text, TextList};

/// Top-level keys.
#[cfg(feature = "files")]
const FILE_KEYS: &[&str] = &["steps", "env", "env_file"];
/// The keys a step takes: in a pipeline file's `[steps.NAME]` table, and in an API request.
pub const STEP_KEYS: &[&str] = &[
    "command",
    "args",
    "run",
    "dir",
    "env",
    "env_file",
    "after",
    "allow_failure",
    "timeout",
    "timeout_ms",
    "grace",
    "grace_ms",
    "retries",
    "retry_delay",
    "retry_delay_ms",
];

/// A whole pipeline file, read into its steps in declaration order. The top-level `env_file`
/// and `env` land in each step's `env`, under the step's own (precedence, lowest first: the
/// top-level `env_file`s in order, the top-level `env`, the step's `env_file`s, its `env`).
#[cfg(feature = "files")]
pub(crate) struct DocumentSeed<'a> {
    /// Where `env_file` paths are taken from.
    pub(crate) base: EnvFileBase<'a>,
}

#[cfg(feature = "files")]
impl<'de> DeserializeSeed<'de> for DocumentSeed<'_> {
    type Value = Vec<Step>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<Step>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

#[cfg(feature = "files")]
impl<'de> Visitor<'de> for DocumentSeed<'_> {
    type Value = Vec<Step>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table with a `steps` table in it")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<Step>, A::Error> {
        let mut steps: Option<Vec<Step>> = None;
        let mut env = BTreeMap::new();
        let mut file_env = BTreeMap::new();
        let mut seen: Vec<&str> = Vec::new();
        while let Some(key) = map.next_key_seed(Key { allowed: FILE_KEYS, owner: None })? {
            if seen.contains(&key) {
                return Err(de::Error::custom(format!("`{key}` is given twice")));
            }
            seen.push(key);
            let field = Field { step: None, key };
            match key {
                "steps" => steps = Some(map.next_value_seed(StepsSeed { base: self.base })?),
                "env" => env = map.next_value_seed(field.of::<EnvTable>())?,
                "env_file" => {
                    file_env = map.next_value_seed(EnvFileSeed { field, base: self.base })?
                }
                _ => unreachable!("Key only lets FILE_KEYS through"),
            }
        }
        let mut steps = steps.ok_or_else(|| {
            de::Error::custom("no steps: define each step as a `[steps.NAME]` table")
        })?;
        file_env.extend(env);
        if !file_env.is_empty() {
            for step in &mut steps {
                let own = std::mem::replace(&mut step.env, file_env.clone());
                step.env.extend(own);
            }
        }
        Ok(steps)
    }
}

/// The `steps` table: step name → step, in declaration order.
pub(crate) struct StepsSeed<'a> {
    /// Where `env_file` paths are taken from; `None` refuses `env_file`.
    pub(crate) base: EnvFileBase<'a>,
}

impl<'de> DeserializeSeed<'de> for StepsSeed<'_> {
    type Value = Vec<Step>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<Step>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for StepsSeed<'_> {
    type Value = Vec<Step>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("`steps` to be a table of step tables")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<Step>, A::Error> {
        let mut steps = Vec::new();
        while let Some(name) = map.next_key::<String>()? {
            if steps.iter().any(|s: &Step| s.name == name) {
                return Err(de::Error::custom(format!("step `{name}` is defined twice")));
            }
            steps.push(map.next_value_seed(StepSeed { name, base: self.base })?);
        }
        if steps.is_empty() {
            return Err(de::Error::custom("`steps` is empty: define at least one step"));
        }
        Ok(steps)
    }
}

/// One step table.
struct StepSeed<'a> {
    name: String,
    base: EnvFileBase<'a>,
}

impl<'de> DeserializeSeed<'de> for StepSeed<'_> {
    type Value = Step;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Step, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for StepSeed<'_> {
    type Value = Step;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step `{}` to be a table of settings", self.name)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Step, A::Error> {
        let name = self.name;
        let mut step = Step::command(name.clone(), String::new());
        let mut command: Option<String> = None;
        let mut args: Option<Vec<String>> = None;
        let mut script: Option<String> = None;
        let mut file_env = BTreeMap::new();
        let mut seen: Vec<&str> = Vec::new();
        let owner = Some(name.as_str());
        while let Some(key) = map.next_key_seed(Key { allowed: STEP_KEYS, owner })? {
            let fail = |message: String| de::Error::custom(format!("step `{name}`: {message}"));
            if seen.contains(&key) {
                return Err(fail(format!("`{key}` is given twice")));
            }
            seen.push(key);
            // The duration twin: `KEY` or `KEY_ms`, never both.
            if let Some(twin) = duration_twin(key).filter(|twin| seen.contains(twin)) {
                let plain = if key.ends_with("_ms") { twin } else { key };
                return Err(fail(crate::wire::both_given(plain)));
            }
            let field = Field { step: Some(&name), key };
            match key {
                "command" | "run" if command.is_some() || script.is_some() => {
                    // Raised while at the value, so the error points at the second one.
                    map.next_value_seed(Conflict(field))?;
                }
                "command" => command = Some(map.next_value_seed(field.of::<Text>())?),
                "run" => script = Some(map.next_value_seed(field.of::<Text>())?),
                "args" => args = Some(map.next_value_seed(field.of::<TextList>())?),
                "dir" => step.dir = Some(map.next_value_seed(field.of::<Text>())?.into()),
                "env" => step.env = map.next_value_seed(field.of::<EnvTable>())?,
                "env_file" => {
                    file_env = map.next_value_seed(EnvFileSeed { field, base: self.base })?;
                }
                "after" => step.after = map.next_value_seed(field.of::<TextList>())?,
                "allow_failure" => step.allow_failure = map.next_value_seed(field.of::<Flag>())?,
                "timeout" => step.timeout = Some(map.next_value_seed(field.of::<Span>())?),
                "timeout_ms" => step.timeout = Some(map.next_value_seed(field.of::<Millis>())?),
                "grace" => step.grace = map.next_value_seed(field.of::<Span>())?,
                "grace_ms" => step.grace = map.next_value_seed(field.of::<Millis>())?,
                "retry_delay" => step.retry_delay = map.next_value_seed(field.of::<Span>())?,
                "retry_delay_ms" => {
                    step.retry_delay = map.next_value_seed(field.of::<Millis>())?;
                }
                "retries" => step.retries = map.next_value_seed(field.of::<Count>())?,
                _ => unreachable!("Key only lets STEP_KEYS through"),
            }
        }
        let fail = |message: &str| de::Error::custom(format!("step `{name}`: {message}"));
        step.command = match (command, script) {
            (Some(command), None) => {
                StepCommand::Program { command, args: args.unwrap_or_default() }
            }
            (None, Some(_)) if args.is_some() => {
                return Err(fail("`args` goes with `command`; a `run` script takes none"));
            }
            (None, Some(script)) => StepCommand::Script(script),
            _ => return Err(fail("needs `command` (a program) or `run` (a bash script)")),
        };
        // The step's `env` wins over its `env_file`.
        file_env.extend(std::mem::take(&mut step.env));
        step.env = file_env;
        Ok(step)
    }
}

/// The other half of a duration key's twin: `timeout` ↔ `timeout_ms`.
fn duration_twin(key: &str) -> Option<&'static str> {
    Some(match key {
        "timeout" => "timeout_ms",
        "timeout_ms" => "timeout",
        "grace" => "grace_ms",
        "grace_ms" => "grace",
        "retry_delay" => "retry_delay_ms",
        "retry_delay_ms" => "retry_delay",
        _ => return None,
    })
}

/// The second of `command` and `run`: always an error, raised at its value.
struct Conflict<'a>(Field<'a>);

impl<'de> DeserializeSeed<'de> for Conflict<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

// Errors are raised inside `visit_*`, while the deserializer still stands at the offending
// key or value: YAML marks an error with its position only there.
impl<'de> Visitor<'de> for Conflict<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a string for {}", self.0)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(format!("{}: has both `command` and `run`; give one", self.0.owner())))
    }
}

/// A key, checked against the keys allowed where it stands.
struct Key<'a> {
    allowed: &'static [&'static str],
    /// The step it belongs to; `None` at the top level.
    owner: Option<&'a str>,
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = &'static str;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = &'static str;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<&'static str, E> {
        if let Some(&known) = self.allowed.iter().find(|&&k| k == key) {
            return Ok(known);
        }
        let expected = self.allowed.join(", ");
        Err(E::custom(match self.owner {
            Some(step) => {
                format!("step `{step}`: unknown key `{key}` (expected one of: {expected})")
            }
            None => format!("unknown top-level key `{key}` (expected: {expected})"),
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde::de::DeserializeSeed;
    use serde_json::json;

    use super::*;

    fn read(steps: serde_json::Value) -> Result<Vec<Step>, String> {
        StepsSeed { base: None }.deserialize(steps).map_err(|error| error.to_string())
    }

    #[test]
    fn durations_take_the_twin_of_the_wire_model() {
        let steps = read(json!({ "a": { "command": "x", "timeout_ms": 1500, "grace_ms": 2.5,
            "retry_delay_ms": 0 } }))
        .unwrap();
        assert_eq!(steps[0].timeout, Some(Duration::from_millis(1500)));
        assert_eq!(steps[0].grace, Duration::from_micros(2500));
        assert_eq!(steps[0].retry_delay, Duration::ZERO);
        let both = read(json!({ "a": { "command": "x", "grace_ms": 5, "grace": "1s" } }));
        assert!(both.unwrap_err().contains("give `grace` or `grace_ms`, not both"));
        let bare = read(json!({ "a": { "command": "x", "retry_delay": 5 } })).unwrap_err();
        assert!(bare.contains("`retry_delay_ms`") && bare.contains("step `a`"), "{bare}");
        let negative = read(json!({ "a": { "command": "x", "timeout_ms": -1 } })).unwrap_err();
        assert!(negative.contains("`timeout_ms`") && negative.contains("step `a`"), "{negative}");
    }
}
