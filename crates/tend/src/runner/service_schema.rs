//! A pipeline file's `services` table: service name → `[services.NAME]` settings, read into
//! [`ServiceSpec`]s with the same rules and messages as the steps (`schema.rs`).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

use super::env_file::{EnvFileBase, EnvFileSeed};
use super::probe_schema::{ProbeDraft, ProbeSeed};
use super::schema::{CommandKeys, Keys, NamedTables};
use super::service_spec::{DEFAULT_LOG_KEEP, DEFAULT_LOG_MAX_SIZE, ServiceLog, ServiceSpec};
use super::service_values::{Budget, Policy, SignalValue, Size};
use super::values::{Count, EnvTable, Field, Millis, Owner, Span, Text, TextList};
use crate::{MaxRestarts, Restart, RestartPolicy};

/// The keys a service takes in a pipeline file's `[services.NAME]` table.
pub const SERVICE_KEYS: &[&str] = &[
    "command",
    "args",
    "run",
    "dir",
    "env",
    "env_file",
    "after",
    "ready",
    "alive",
    "restart",
    "max_restarts",
    "restart_delay",
    "restart_delay_ms",
    "restart_max_delay",
    "restart_max_delay_ms",
    "stop_signal",
    "grace",
    "grace_ms",
    "log",
    "log_max_size",
    "log_keep",
];

/// A service as read, its probes still tables: they are built by [`finish`](Self::finish)
/// once the service's directory and environment are final.
#[derive(Debug)]
pub(super) struct ServiceDraft {
    pub(super) spec: ServiceSpec,
    ready: Option<ProbeDraft>,
    alive: Option<ProbeDraft>,
}

impl ServiceDraft {
    /// The spec, an `exec` probe running in the service's directory and environment.
    pub(super) fn finish<E: de::Error>(self) -> Result<ServiceSpec, E> {
        let mut spec = self.spec;
        let (dir, env) = (spec.dir.as_deref(), &spec.env);
        let ready = self.ready.map(|ready| ready.readiness(dir, env));
        let alive = match self.alive {
            Some(alive) => Some(alive.liveness(dir, env).map_err(|error| {
                Field::new(Owner::Service(&spec.name), "alive").refuse::<E>(error)
            })?),
            None => None,
        };
        spec.ready = ready;
        spec.alive = alive;
        Ok(spec)
    }
}

/// The `services` table: service name → service, in declaration order.
pub(super) struct ServicesSeed<'a> {
    /// Where `env_file` paths are taken from; `None` refuses `env_file`.
    pub(super) base: EnvFileBase<'a>,
}

impl<'de> DeserializeSeed<'de> for ServicesSeed<'_> {
    type Value = Vec<ServiceDraft>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let entry = |name, base| ServiceSeed { name, base };
        deserializer.deserialize_map(NamedTables { kind: "service", base: self.base, entry })
    }
}

/// One service table.
struct ServiceSeed<'a> {
    name: String,
    base: EnvFileBase<'a>,
}

impl<'de> DeserializeSeed<'de> for ServiceSeed<'_> {
    type Value = ServiceDraft;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ServiceDraft, D::Error> {
        deserializer.deserialize_map(self)
    }
}

/// The restart keys, gathered into a [`Restart`] at the end of the table.
#[derive(Default)]
struct RestartKeys {
    policy: Option<RestartPolicy>,
    max: Option<MaxRestarts>,
    delay: Option<Duration>,
    max_delay: Option<Duration>,
}

impl RestartKeys {
    fn finish(self) -> Restart {
        let mut restart = Restart::new(self.policy.unwrap_or(RestartPolicy::OnFailure));
        if let Some(max) = self.max {
            restart = restart.max(max);
        }
        if let Some(delay) = self.delay {
            restart = restart.delay(delay);
        }
        if let Some(max_delay) = self.max_delay {
            restart = restart.max_delay(max_delay);
        }
        restart
    }
}

impl<'de> Visitor<'de> for ServiceSeed<'_> {
    type Value = ServiceDraft;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "service `{}` to be a table of settings", self.name)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ServiceDraft, A::Error> {
        let name = self.name;
        let owner = Owner::Service(&name);
        let mut spec = ServiceSpec::command(name.clone(), String::new());
        let (mut ready, mut alive) = (None, None);
        let mut command = CommandKeys::default();
        let mut restart = RestartKeys::default();
        let mut file_env = BTreeMap::new();
        let (mut log, mut max_size, mut keep) = (None, None, None);
        let mut keys = Keys::new(SERVICE_KEYS, owner);
        while let Some(key) = map.next_key_seed(keys.next())? {
            let field = Field::new(owner, key);
            if command.read(field, &mut map)? {
                continue;
            }
            let probe = |table| ProbeSeed { service: &name, table };
            match key {
                "dir" => spec.dir = Some(map.next_value_seed(field.of::<Text>())?.into()),
                "env" => spec.env = map.next_value_seed(field.of::<EnvTable>())?,
                "env_file" => {
                    file_env = map.next_value_seed(EnvFileSeed { field, base: self.base })?;
                }
                "after" => spec.after = map.next_value_seed(field.of::<TextList>())?,
                "ready" => ready = Some(map.next_value_seed(probe("ready"))?),
                "alive" => alive = Some(map.next_value_seed(probe("alive"))?),
                "restart" => restart.policy = Some(map.next_value_seed(field.of::<Policy>())?),
                "max_restarts" => restart.max = Some(map.next_value_seed(field.of::<Budget>())?),
                "restart_delay" => restart.delay = Some(map.next_value_seed(field.of::<Span>())?),
                "restart_delay_ms" => {
                    restart.delay = Some(map.next_value_seed(field.of::<Millis>())?);
                }
                "restart_max_delay" => {
                    restart.max_delay = Some(map.next_value_seed(field.of::<Span>())?);
                }
                "restart_max_delay_ms" => {
                    restart.max_delay = Some(map.next_value_seed(field.of::<Millis>())?);
                }
                "stop_signal" => {
                    spec.stop_signal = map.next_value_seed(field.of::<SignalValue>())?
                }
                "grace" => spec.grace = map.next_value_seed(field.of::<Span>())?,
                "grace_ms" => spec.grace = map.next_value_seed(field.of::<Millis>())?,
                "log" => log = Some(map.next_value_seed(LogPath(field))?),
                "log_max_size" => max_size = Some(map.next_value_seed(field.of::<Size>())?),
                "log_keep" => keep = Some(map.next_value_seed(field.of::<Count>())?),
                _ => unreachable!("Keys let only SERVICE_KEYS through"),
            }
        }
        let fail = |message: &str| de::Error::custom(format!("{owner}: {message}"));
        spec.command = command.finish(owner)?;
        spec.restart = restart.finish();
        spec.log = match log {
            Some(path) => Some(ServiceLog {
                path,
                max_size: max_size.unwrap_or(DEFAULT_LOG_MAX_SIZE),
                keep: keep.unwrap_or(DEFAULT_LOG_KEEP),
            }),
            None if max_size.is_some() || keep.is_some() => {
                return Err(fail(
                    "`log_max_size` and `log_keep` go with `log`, the path of the log file",
                ));
            }
            None => None,
        };
        // The service's `env` wins over its `env_file`.
        file_env.extend(std::mem::take(&mut spec.env));
        spec.env = file_env;
        Ok(ServiceDraft { spec, ready, alive })
    }
}

/// The `log` key: a non-empty path.
struct LogPath<'a>(Field<'a>);

impl<'de> DeserializeSeed<'de> for LogPath<'_> {
    type Value = std::path::PathBuf;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for LogPath<'_> {
    type Value = std::path::PathBuf;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a file path for {}", self.0)
    }

    fn visit_str<E: de::Error>(self, path: &str) -> Result<Self::Value, E> {
        crate::process::check_no_nul(path).map_err(|message| self.0.refuse(message))?;
        if path.is_empty() {
            return Err(self.0.refuse("the path is empty"));
        }
        Ok(path.into())
    }
}
