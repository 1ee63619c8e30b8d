//! The `env_file` key of a pipeline file (top level and step): one path or a list of paths,
//! relative to the file's directory, each read with [`crate::dotenv`] while the deserializer
//! stands at the value, so an error carries the line of the `env_file` key as well as the line
//! of the env file.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};

use super::values::{Field, Text};

/// Where `env_file` paths are taken from: the directory of the pipeline file, or nowhere
/// (steps given as data, such as an API request, which name no file on the machine that
/// reads them; `env_file` is refused there).
pub(crate) type EnvFileBase<'a> = Option<&'a Path>;

/// An `env_file` value: the variables of its files, later files overriding earlier ones.
pub(super) struct EnvFileSeed<'a> {
    pub(super) field: Field<'a>,
    pub(super) base: EnvFileBase<'a>,
}

impl EnvFileSeed<'_> {
    /// Reads `paths` in order into one table.
    fn load<E: de::Error>(&self, paths: &[String]) -> Result<BTreeMap<String, String>, E> {
        let Some(base) = self.base else {
            return Err(self.field.refuse(
                "not accepted here: an env file is read when a pipeline file is loaded \
                 (`tend up FILE`, `tend::runner::load`), relative to its directory; give the \
                 variables in `env`"
                    .to_owned(),
            ));
        };
        let mut env = BTreeMap::new();
        for path in paths {
            if path.is_empty() {
                return Err(self.field.refuse("a path is empty".to_owned()));
            }
            let vars = crate::dotenv::read(base.join(path))
                .map_err(|error| self.field.refuse(error.to_string()))?;
            env.extend(vars);
        }
        Ok(env)
    }
}

impl<'de> DeserializeSeed<'de> for EnvFileSeed<'_> {
    type Value = BTreeMap<String, String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EnvFileSeed<'_> {
    type Value = BTreeMap<String, String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a path or a list of paths for {}", self.field)
    }

    fn visit_str<E: de::Error>(self, path: &str) -> Result<Self::Value, E> {
        crate::process::check_no_nul(path).map_err(|message| self.field.refuse(message))?;
        self.load(&[path.to_owned()])
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut paths = Vec::new();
        while let Some(path) = seq.next_element_seed(self.field.of::<Text>())? {
            paths.push(path);
        }
        self.load(&paths)
    }
}
