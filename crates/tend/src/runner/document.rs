//! A whole pipeline file: top-level `env` and `env_file`, `steps` and `services`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

use super::env_file::{EnvFileBase, EnvFileSeed};
use super::schema::{Keys, StepsSeed};
use super::service_schema::{ServiceDraft, ServicesSeed};
use super::service_spec::ServiceSpec;
use super::spec::Step;
use super::values::{EnvTable, Field, Owner};

/// Top-level keys.
const FILE_KEYS: &[&str] = &["steps", "services", "env", "env_file"];

/// What a pipeline file holds, in declaration order; not validated as a graph yet.
pub(super) struct Document {
    pub(super) steps: Vec<Step>,
    pub(super) services: Vec<ServiceSpec>,
    /// The `services` table came before the `steps` table in the file.
    pub(super) services_first: bool,
}

/// A whole pipeline file. The top-level `env_file` and `env` land in each step's and
/// service's `env`, under its own (precedence, lowest first: the top-level `env_file`s in
/// order, the top-level `env`, the step's or service's `env_file`s, its `env`). With a `base`
/// (the file's directory), relative `dir`s and `log` paths are taken from it, and steps and
/// services without a `dir` run there.
pub(super) struct DocumentSeed<'a> {
    /// The file's directory: where `env_file`, `dir` and `log` paths are taken from.
    pub(super) base: EnvFileBase<'a>,
}

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_> {
    type Value = Document;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Document, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_> {
    type Value = Document;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table with a `steps` or `services` table in it")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
        let (mut steps, mut services): (Option<Vec<Step>>, Option<Vec<ServiceDraft>>) =
            (None, None);
        let mut services_first = false;
        let mut env = BTreeMap::new();
        let mut file_env = BTreeMap::new();
        let mut keys = Keys::new(FILE_KEYS, Owner::Top);
        while let Some(key) = map.next_key_seed(keys.next())? {
            let field = Field::new(Owner::Top, key);
            match key {
                "steps" => {
                    services_first = services.is_some();
                    steps = Some(map.next_value_seed(StepsSeed { base: self.base })?);
                }
                "services" => {
                    services = Some(map.next_value_seed(ServicesSeed { base: self.base })?);
                }
                "env" => env = map.next_value_seed(field.of::<EnvTable>())?,
                "env_file" => {
                    file_env = map.next_value_seed(EnvFileSeed { field, base: self.base })?
                }
                _ => unreachable!("Keys let only FILE_KEYS through"),
            }
        }
        if steps.is_none() && services.is_none() {
            return Err(de::Error::custom(
                "no steps or services: define each step as a `[steps.NAME]` table and each \
                 service as a `[services.NAME]` table",
            ));
        }
        let (mut steps, mut services) = (steps.unwrap_or_default(), services.unwrap_or_default());
        file_env.extend(env);
        for step in &mut steps {
            under(&file_env, &mut step.env);
            if let Some(base) = self.base {
                step.dir = Some(resolve(base, step.dir.take()));
            }
        }
        for draft in &mut services {
            let spec = &mut draft.spec;
            under(&file_env, &mut spec.env);
            if let Some(base) = self.base {
                spec.dir = Some(resolve(base, spec.dir.take()));
                if let Some(log) = &mut spec.log {
                    log.path = base.join(&log.path);
                }
            }
        }
        let services =
            services.into_iter().map(ServiceDraft::finish::<A::Error>).collect::<Result<_, _>>()?;
        Ok(Document { steps, services, services_first })
    }
}

/// Puts `global` under `own`: `own`'s variables win.
fn under(global: &BTreeMap<String, String>, own: &mut BTreeMap<String, String>) {
    if !global.is_empty() {
        let mine = std::mem::replace(own, global.clone());
        own.extend(mine);
    }
}

/// `dir` taken from `base`; `base` itself without one.
fn resolve(base: &Path, dir: Option<PathBuf>) -> PathBuf {
    match dir {
        Some(dir) => base.join(dir),
        None => base.to_owned(),
    }
}
