//! Typed values of the pipeline file's keys: each kind knows its name in error messages and
//! raises its errors while the deserializer stands at the value, so they carry its line.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::process::{check_env_name, check_no_nul};

/// What a key belongs to: the top level of a file, a step or a service.
#[derive(Clone, Copy)]
// Without pipeline files there are steps only (given as data).
#[cfg_attr(not(feature = "files"), allow(dead_code))]
pub(super) enum Owner<'a> {
    Top,
    Step(&'a str),
    Service(&'a str),
}

impl fmt::Display for Owner<'_> {
    /// `step `NAME``, `service `NAME``, or `top level`: how its messages begin.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Top => f.write_str("top level"),
            Owner::Step(name) => write!(f, "step `{name}`"),
            Owner::Service(name) => write!(f, "service `{name}`"),
        }
    }
}

/// Where a value stands, for its error messages.
#[derive(Clone, Copy)]
pub(super) struct Field<'a> {
    pub(super) owner: Owner<'a>,
    /// The table the key is in, within its owner (`ready` for `ready.interval`).
    pub(super) table: Option<&'static str>,
    pub(super) key: &'static str,
}

impl<'a> Field<'a> {
    /// `key` of `owner`, outside any inner table.
    pub(super) fn new(owner: Owner<'a>, key: &'static str) -> Self {
        Field { owner, table: None, key }
    }

    pub(super) fn of<K: Kind>(self) -> Typed<'a, K> {
        Typed { field: self, kind: PhantomData }
    }
}

impl Field<'_> {
    /// `step `NAME``, `service `NAME``, or `top level`: how its messages begin.
    pub(super) fn owner(&self) -> String {
        self.owner.to_string()
    }

    /// The key as written in messages: `interval`, or `ready.interval` in an inner table.
    pub(super) fn name(&self) -> String {
        match self.table {
            Some(table) => format!("{table}.{}", self.key),
            None => self.key.to_owned(),
        }
    }

    pub(super) fn out_of_range<E: de::Error>(&self, value: impl fmt::Display) -> E {
        E::custom(format!(
            "{}: `{}` must be a whole number from 0 to {}, not {value}",
            self.owner(),
            self.name(),
            u32::MAX
        ))
    }

    /// An error about this field's table: `step `NAME`: message` (just the message at the
    /// top level).
    pub(super) fn fail<E: de::Error>(&self, message: impl fmt::Display) -> E {
        match self.owner {
            Owner::Top => E::custom(message),
            owner => E::custom(format!("{owner}: {message}")),
        }
    }

    /// An error for this field with the library's own wording for unusable input.
    pub(super) fn refuse<E: de::Error>(&self, message: impl fmt::Display) -> E {
        E::custom(format!("{}: `{}`: {message}", self.owner(), self.name()))
    }
}

impl fmt::Display for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.owner {
            Owner::Top => write!(f, "the top-level `{}`", self.name()),
            owner => write!(f, "`{}` in {owner}", self.name()),
        }
    }
}

/// A kind of value a key takes: what it is called in errors and how it is read.
pub(super) trait Kind: Sized {
    /// What a value of this kind becomes.
    type Output;
    /// "a string", "a list of strings", …
    const WHAT: &'static str;
    fn read<'de, D: Deserializer<'de>>(field: Field<'_>, d: D) -> Result<Self::Output, D::Error>;
}

/// A value of kind `K` at `field`.
pub(super) struct Typed<'a, K> {
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
pub(super) struct Expect<'a, K>(pub(super) Field<'a>, pub(super) PhantomData<K>);

impl<K: Kind> Expect<'_, K> {
    pub(super) fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} for {}", K::WHAT, self.0)
    }
}

pub(super) struct Text;
pub(super) struct TextList;
pub(super) struct Flag;
pub(super) struct Count;
pub(super) struct Span;
pub(super) struct Millis;
pub(super) struct EnvTable;

macro_rules! expecting {
    () => {
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            self.describe(f)
        }
    };
}
#[cfg(feature = "files")]
pub(super) use expecting;

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
        // Every string of a step reaches a program (or names a step, which does not need one).
        check_no_nul(v).map_err(|message| self.0.refuse(message))?;
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
        // `any`, so that a bare number reaches the visitor and is refused naming `KEY_ms`.
        d.deserialize_any(Expect::<Self>(field, PhantomData))
    }
}

impl Expect<'_, Span> {
    fn bare<E: de::Error>(self) -> Result<Duration, E> {
        let bare = crate::wire::bare_number(&self.0.name());
        Err(E::custom(format!("expected {} for {}: {bare}", Span::WHAT, self.0)))
    }
}

impl<'de> Visitor<'de> for Expect<'_, Span> {
    type Value = Duration;
    expecting!();
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        humantime::parse_duration(v).map_err(|e| {
            E::custom(format!(
                "{}: `{}` is not a duration like 500ms, 2s or 1m30s: `{v}` ({e})",
                self.0.owner(),
                self.0.name()
            ))
        })
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Duration, E> {
        self.bare()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Duration, E> {
        self.bare()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Duration, E> {
        self.bare()
    }
}

/// A duration as a number of milliseconds, under a `*_ms` key.
impl Kind for Millis {
    type Output = Duration;
    const WHAT: &'static str = "a number of milliseconds";
    fn read<'de, D: Deserializer<'de>>(field: Field<'_>, d: D) -> Result<Duration, D::Error> {
        d.deserialize_any(Expect::<Self>(field, PhantomData))
    }
}

impl<'de> Visitor<'de> for Expect<'_, Millis> {
    type Value = Duration;
    expecting!();
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        Ok(Duration::from_millis(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        self.visit_f64(v as f64)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
        crate::wire::parse_millis(v).map_err(|message| self.0.refuse(message))
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
            check_env_name(&name).map_err(|message| self.0.refuse(message))?;
            // Numbers and booleans are written as they read: `PORT = 8080` is natural.
            let value = map.next_value_seed(self.0.of::<Scalar>())?;
            check_no_nul(&value).map_err(|message| self.0.refuse(message))?;
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
