//! The pipeline file's schema, as serde visitors that work for any format.
//!
//! Hand-written rather than derived so that every error names the step and the key, and is
//! raised while the deserializer is at the offending key or value: TOML then knows its byte
//! span and YAML its position, which become the line number of the error.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::spec::{Step, StepCommand};

/// Top-level keys.
const FILE_KEYS: &[&str] = &["steps"];
/// Keys of a step table.
const STEP_KEYS: &[&str] = &[
    "command",
    "args",
    "run",
    "dir",
    "env",
    "after",
    "allow_failure",
    "timeout",
    "grace",
    "retries",
    "retry_delay",
];

/// A whole pipeline file: its steps in declaration order.
pub(crate) struct Document(pub(crate) Vec<Step>);

impl<'de> de::Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(DocumentVisitor)
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = Document;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table with a `steps` table in it")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
        let mut steps = None;
        while let Some(_key) = map.next_key_seed(Key { allowed: FILE_KEYS, owner: None })? {
            if steps.is_some() {
                return Err(de::Error::custom("`steps` is given twice"));
            }
            steps = Some(map.next_value_seed(StepsSeed)?);
        }
        steps.map(Document).ok_or_else(|| {
            de::Error::custom("no steps: define each step as a `[steps.NAME]` table")
        })
    }
}

/// The `steps` table: step name → step, in declaration order.
struct StepsSeed;

impl<'de> DeserializeSeed<'de> for StepsSeed {
    type Value = Vec<Step>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<Step>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for StepsSeed {
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
            steps.push(map.next_value_seed(StepSeed { name })?);
        }
        if steps.is_empty() {
            return Err(de::Error::custom("`steps` is empty: define at least one step"));
        }
        Ok(steps)
    }
}

/// One step table.
struct StepSeed {
    name: String,
}

impl<'de> DeserializeSeed<'de> for StepSeed {
    type Value = Step;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Step, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for StepSeed {
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
        let mut seen: Vec<&str> = Vec::new();
        let owner = Some(name.as_str());
        while let Some(key) = map.next_key_seed(Key { allowed: STEP_KEYS, owner })? {
            let fail = |message: String| de::Error::custom(format!("step `{name}`: {message}"));
            if seen.contains(&key) {
                return Err(fail(format!("`{key}` is given twice")));
            }
            seen.push(key);
            let field = Field { step: &name, key };
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
                "after" => step.after = map.next_value_seed(field.of::<TextList>())?,
                "allow_failure" => step.allow_failure = map.next_value_seed(field.of::<Flag>())?,
                "timeout" => step.timeout = Some(map.next_value_seed(field.of::<Span>())?),
                "grace" => step.grace = map.next_value_seed(field.of::<Span>())?,
                "retry_delay" => step.retry_delay = map.next_value_seed(field.of::<Span>())?,
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
        Ok(step)
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
        Err(E::custom(format!("step `{}`: has both `command` and `run`; give one", self.0.step)))
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

/// Where a value stands, for its error messages.
#[derive(Clone, Copy)]
struct Field<'a> {
    step: &'a str,
    key: &'static str,
}

impl<'a> Field<'a> {
    fn of<K: Kind>(self) -> Typed<'a, K> {
        Typed { field: self, kind: PhantomData }
    }
}

impl Field<'_> {
    fn out_of_range<E: de::Error>(&self, value: impl fmt::Display) -> E {
        E::custom(format!(
            "step `{}`: `{}` must be a whole number from 0 to {}, not {value}",
            self.step,
            self.key,
            u32::MAX
        ))
    }
}

impl fmt::Display for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` in step `{}`", self.key, self.step)
    }
}

/// A kind of value a key takes: what it is called in errors and how it is read.
trait Kind: Sized {
    type Output;
    /// "a string", "a list of strings", …
    const WHAT: &'static str;
    fn read<'de, D: Deserializer<'de>>(field: Field<'_>, d: D) -> Result<Self::Output, D::Error>;
}

/// A value of kind `K` at `field`.
struct Typed<'a, K> {
    field: Field<'a>,
    kind: PhantomData<K>,
}

impl<'de, K: Kind> DeserializeSeed<'de> for Typed<'_, K> {
    type Value = K::Output;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<K::Output, D::Error> {
        K::read(self.field, deserializer)
    }
}

/// Visits one value of kind `K`, naming the field in type errors.
struct Expect<'a, K>(Field<'a>, PhantomData<K>);

impl<K: Kind> Expect<'_, K> {
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} for {}", K::WHAT, self.0)
    }
}

struct Text;
struct TextList;
struct Flag;
struct Count;
struct Span;
struct EnvTable;

macro_rules! expecting {
    () => {
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.describe(f)
        }
    };
}

impl Kind for Text {
    type Output = String;
    const WHAT: &'static str = "a string";
    fn read<'de, D: Deserializer<'de>>(field: Field<'_>, d: D) -> Result<String, D::Error> {
        d.deserialize_str(Expect::<Self>(field, PhantomData))
    }
}

impl<'de> Visitor<'de> for Expect<'_, Text> {
    type Value = String;
    expecting!();
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
}

impl Kind for TextList {
    type Output = Vec<String>;
    const WHAT: &'static str = "a list of strings";
    fn read<'de, D: Deserializer<'de>>(field: Field<'_>, d: D) -> Result<Vec<String>, D::Error> {
        d.deserialize_seq(Expect::<Self>(field, PhantomData))
    }
}

impl<'de> Visitor<'de> for Expect<'_, TextList> {
    type Value = Vec<String>;
    expecting!();
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.0.of::<Text>())? {
            items.push(item);
        }
        Ok(items)
    }
}

impl Kind for Flag {
    type Output = bool;
    const WHAT: &'static str = "true or false";
    fn read<'de, D: Deserializer<'de>>(field: Field<'_>, d: D) -> Result<bool, D::Error> {
        d.deserialize_bool(Expect::<Self>(field, PhantomData))
    }
}

impl<'de> Visitor<'de> for Expect<'_, Flag> {
    type Value = bool;
    expecting!();
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }
}

impl Kind for Count {
    type Output = u32;
    const WHAT: &'static str = "a whole number from 0";
    fn read<'de, D: Deserializer<'de>>(field: Field<'_>, d: D) -> Result<u32, D::Error> {
        d.deserialize_any(Expect::<Self>(field, PhantomData))
    }
}

impl<'de> Visitor<'de> for Expect<'_, Count> {
    type Value = u32;
    expecting!();
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u32, E> {
        u32::try_from(v).map_err(|_| self.0.out_of_range(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u32, E> {
        u32::try_from(v).map_err(|_| self.0.out_of_range(v))
    }
}

impl Kind for Span {
    type Output = Duration;
    const WHAT: &'static str = "a duration such as \"500ms\", \"2s\" or \"1m30s\"";
    fn read<'de, D: Deserializer<'de>>(field: Field<'_>, d: D) -> Result<Duration, D::Error> {
        d.deserialize_str(Expect::<Self>(field, PhantomData))
    }
}

impl<'de> Visitor<'de> for Expect<'_, Span> {
    type Value = Duration;
    expecting!();
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        humantime::parse_duration(v).map_err(|e| {
            E::custom(format!(
                "step `{}`: `{}` is not a duration like 500ms, 2s or 1m30s: `{v}` ({e})",
                self.0.step, self.0.key
            ))
        })
    }
}

impl Kind for EnvTable {
    type Output = BTreeMap<String, String>;
    const WHAT: &'static str = "a table of NAME = \"value\"";
    fn read<'de, D: Deserializer<'de>>(field: Field<'_>, d: D) -> Result<Self::Output, D::Error> {
        d.deserialize_map(Expect::<Self>(field, PhantomData))
    }
}

impl<'de> Visitor<'de> for Expect<'_, EnvTable> {
    type Value = BTreeMap<String, String>;
    expecting!();
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut env = BTreeMap::new();
        while let Some(name) = map.next_key::<String>()? {
            // Numbers and booleans are written as they read: `PORT = 8080` is natural.
            let value = map.next_value_seed(self.0.of::<Scalar>())?;
            env.insert(name, value);
        }
        Ok(env)
    }
}

/// A string, number or boolean, as text (environment values).
struct Scalar;

impl Kind for Scalar {
    type Output = String;
    const WHAT: &'static str = "a string, number or boolean";
    fn read<'de, D: Deserializer<'de>>(field: Field<'_>, d: D) -> Result<String, D::Error> {
        d.deserialize_any(Expect::<Self>(field, PhantomData))
    }
}

impl<'de> Visitor<'de> for Expect<'_, Scalar> {
    type Value = String;
    expecting!();
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
}
