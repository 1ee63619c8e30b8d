//! The pipeline file's schema, as serde visitors that work for any format: the steps, and
//! what steps and services share (the checked keys of a table, `command`/`args`/`run`, tables
//! of named tables). The services are in `service_schema.rs`, the whole file in
//! `document.rs`.
//!
//! Hand-written rather than derived so that every error names the step or service and the
//! key, and is raised while the deserializer is at the offending key or value: TOML then knows
//! its byte span and YAML its position, which become the line number of the error.
//!
//! Durations (`timeout`, `grace`, `retry_delay`, a service's `restart_delay`, …) are the twin
//! of [`crate::wire`]: a humantime string under the key, or a number of milliseconds under
//! `KEY_ms`, never both; a bare number under the key is refused naming `KEY_ms`. Files and API
//! requests read the same.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

use super::env_file::{EnvFileBase, EnvFileSeed};
use super::spec::{Step, StepCommand};
use super::values::{Count, EnvTable, Field, Flag, Millis, Owner, Span, Text, TextList};

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

/// The `steps` table: step name → step, in declaration order.
pub(crate) struct StepsSeed<'a> {
    /// Where `env_file` paths are taken from; `None` refuses `env_file`.
    pub(crate) base: EnvFileBase<'a>,
}

impl<'de> DeserializeSeed<'de> for StepsSeed<'_> {
    type Value = Vec<Step>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<Step>, D::Error> {
        let entry = |name, base| StepSeed { name, base };
        deserializer.deserialize_map(NamedTables { kind: "step", base: self.base, entry })
    }
}

/// A table of named tables (`steps`, `services`): name → `entry(name, base)`'s value, in
/// declaration order; at least one, each name once.
pub(super) struct NamedTables<'a, F> {
    /// `step` or `service`, for the messages.
    pub(super) kind: &'static str,
    pub(super) base: EnvFileBase<'a>,
    pub(super) entry: F,
}

impl<'de, 'a, F, S> Visitor<'de> for NamedTables<'a, F>
where
    F: Fn(String, EnvFileBase<'a>) -> S,
    S: DeserializeSeed<'de>,
{
    type Value = Vec<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}s` to be a table of {} tables", self.kind, self.kind)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let kind = self.kind;
        // A set, not a scan of the names so far: a file of 20,000 steps took seconds to load.
        let (mut names, mut items) = (HashSet::new(), Vec::new());
        while let Some(name) = map.next_key::<String>()? {
            if !names.insert(name.clone()) {
                return Err(de::Error::custom(format!("{kind} `{name}` is defined twice")));
            }
            items.push(map.next_value_seed((self.entry)(name, self.base))?);
        }
        if items.is_empty() {
            return Err(de::Error::custom(format!(
                "`{kind}s` is empty: define at least one {kind}"
            )));
        }
        Ok(items)
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
        let owner = Owner::Step(&name);
        let mut step = Step::command(name.clone(), String::new());
        let mut command = CommandKeys::default();
        let mut file_env = BTreeMap::new();
        let mut keys = Keys::new(STEP_KEYS, owner);
        while let Some(key) = map.next_key_seed(keys.next())? {
            let field = Field::new(owner, key);
            if command.read(field, &mut map)? {
                continue;
            }
            match key {
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
                _ => unreachable!("Keys let only STEP_KEYS through"),
            }
        }
        step.command = command.finish(owner)?;
        // The step's `env` wins over its `env_file`.
        file_env.extend(std::mem::take(&mut step.env));
        step.env = file_env;
        Ok(step)
    }
}

/// `command` + `args`, or `run`: what a step or service runs.
#[derive(Default)]
pub(super) struct CommandKeys {
    command: Option<String>,
    args: Option<Vec<String>>,
    script: Option<String>,
}

impl CommandKeys {
    /// Reads the value when `field` is `command`, `args` or `run` (`true`); `false` for any
    /// other key, whose value is left unread.
    pub(super) fn read<'de, A: MapAccess<'de>>(
        &mut self,
        field: Field<'_>,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        match field.key {
            "command" | "run" if self.command.is_some() || self.script.is_some() => {
                // Raised while at the value, so the error points at the second one.
                map.next_value_seed(Conflict(field))?;
            }
            "command" => self.command = Some(map.next_value_seed(field.of::<Text>())?),
            "run" => self.script = Some(map.next_value_seed(field.of::<Text>())?),
            "args" => self.args = Some(map.next_value_seed(field.of::<TextList>())?),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The command, once the whole table is read.
    pub(super) fn finish<E: de::Error>(self, owner: Owner<'_>) -> Result<StepCommand, E> {
        let fail = |message: &str| E::custom(format!("{owner}: {message}"));
        match (self.command, self.script) {
            (Some(command), None) => {
                Ok(StepCommand::Program { command, args: self.args.unwrap_or_default() })
            }
            (None, Some(_)) if self.args.is_some() => {
                Err(fail("`args` goes with `command`; a `run` script takes none"))
            }
            (None, Some(script)) => Ok(StepCommand::Script(script)),
            _ => Err(fail("needs `command` (a program) or `run` (a bash script)")),
        }
    }
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
        Err(self.0.fail("has both `command` and `run`; give one"))
    }
}

/// The keys of one table: each checked against the keys allowed there, and against those
/// seen before it (a key given twice, or a duration given as both `KEY` and `KEY_ms`). Every
/// error is raised while the deserializer stands at the key, so it points at its line.
pub(super) struct Keys<'a> {
    allowed: &'static [&'static str],
    owner: Owner<'a>,
    /// The inner table they stand in (`ready`), if any.
    table: Option<&'static str>,
    seen: Vec<&'static str>,
}

impl<'a> Keys<'a> {
    /// The keys `allowed` in `owner`'s own table.
    pub(super) fn new(allowed: &'static [&'static str], owner: Owner<'a>) -> Self {
        Keys { allowed, owner, table: None, seen: Vec::new() }
    }

    /// The keys `allowed` in the inner table `table` of `owner`.
    #[cfg(feature = "files")]
    pub(super) fn within(self, table: &'static str) -> Self {
        Keys { table: Some(table), ..self }
    }

    /// The seed of the next key: `map.next_key_seed(keys.next())`.
    pub(super) fn next(&mut self) -> NextKey<'_, 'a> {
        NextKey(self)
    }

    /// `key` (one of `allowed`), unless it was given before, or its duration twin was.
    fn note<E: de::Error>(&mut self, key: &'static str) -> Result<&'static str, E> {
        let field = Field { owner: self.owner, table: self.table, key };
        if self.seen.contains(&key) {
            return Err(field.fail(format!("`{}` is given twice", field.name())));
        }
        let plain = key.strip_suffix("_ms").unwrap_or(key);
        let twin = if plain == key { format!("{key}_ms") } else { plain.to_owned() };
        if self.seen.iter().any(|&seen| seen == twin) {
            let plain = match self.table {
                Some(table) => format!("{table}.{plain}"),
                None => plain.to_owned(),
            };
            return Err(field.fail(crate::wire::both_given(&plain)));
        }
        self.seen.push(key);
        Ok(key)
    }

    /// The refusal of a key not in `allowed`.
    fn unknown(&self, key: &str) -> String {
        let (owner, expected) = (self.owner, self.allowed.join(", "));
        match (owner, self.table) {
            (Owner::Top, _) => format!("unknown top-level key `{key}` (expected: {expected})"),
            // Named for what it is: the one probe kind `ready` takes and `alive` does not.
            (_, Some("alive")) if key == "log" => format!(
                "{owner}: `alive.log`: {}: a line that matched once matches for ever; use tcp, \
                 http or exec",
                crate::probe::InvalidProbe::NotFor { kind: "log", purpose: "liveness" }
            ),
            (_, Some(table)) => {
                format!("{owner}: unknown key `{key}` in `{table}` (expected one of: {expected})")
            }
            (_, None) => format!("{owner}: unknown key `{key}` (expected one of: {expected})"),
        }
    }
}

/// The next key of a table, checked by its [`Keys`].
pub(super) struct NextKey<'k, 'a>(&'k mut Keys<'a>);

impl<'de> DeserializeSeed<'de> for NextKey<'_, '_> {
    type Value = &'static str;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NextKey<'_, '_> {
    type Value = &'static str;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<&'static str, E> {
        match self.0.allowed.iter().find(|&&k| k == key) {
            Some(&known) => self.0.note(known),
            None => Err(E::custom(self.0.unknown(key))),
        }
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
