//! A service's `ready` and `alive` tables: exactly one probe kind and its timing.
//!
//! ```toml
//! ready = { tcp = "127.0.0.1:5432", interval = "100ms", timeout = "30s" }
//! alive = { http = "http://127.0.0.1:8080/health", interval = "5s", failures = 3 }
//! ```
//!
//! The table is read into a [`ProbeDraft`]; the [`Readiness`] or [`Liveness`] is built once
//! the whole file is read, when an `exec` probe can be given the service's final directory and
//! environment (the top-level `env` may come after the service in YAML).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

use super::schema::Keys;
use super::service_values::AtLeastOne;
use super::values::{Field, Millis, Owner, Span};
use crate::probe::{InvalidProbe, Liveness, Probe, Readiness};

/// The keys of a service's `ready` table.
pub const READY_KEYS: &[&str] = &[
    "tcp",
    "http",
    "exec",
    "log",
    "interval",
    "interval_ms",
    "timeout",
    "timeout_ms",
    "initial_delay",
    "initial_delay_ms",
];
/// The keys of a service's `alive` table (a `log` probe cannot tell that a service stopped
/// working, and is refused there).
pub const ALIVE_KEYS: &[&str] = &["tcp", "http", "exec", "interval", "interval_ms", "failures"];

/// A `ready` or `alive` table as read: the probe and the settings given.
#[derive(Debug)]
pub(super) struct ProbeDraft {
    probe: Probe,
    interval: Option<Duration>,
    timeout: Option<Duration>,
    initial_delay: Option<Duration>,
    failures: Option<u32>,
}

impl ProbeDraft {
    /// The probe, an `exec` one run in `dir` with `env` (on top of the supervisor's).
    fn probe_in(self, dir: Option<&Path>, env: &BTreeMap<String, String>) -> Probe {
        match self.probe {
            Probe::Exec(mut exec) => {
                if let Some(dir) = dir {
                    exec = exec.dir(dir);
                }
                Probe::Exec(exec.envs(env))
            }
            other => other,
        }
    }

    /// The readiness wait, with the defaults for what the table leaves out.
    pub(super) fn readiness(self, dir: Option<&Path>, env: &BTreeMap<String, String>) -> Readiness {
        let (interval, timeout, delay) = (self.interval, self.timeout, self.initial_delay);
        let mut ready = Readiness::new(self.probe_in(dir, env));
        if let Some(interval) = interval {
            ready = ready.interval(interval);
        }
        if let Some(timeout) = timeout {
            ready = ready.timeout(timeout);
        }
        if let Some(delay) = delay {
            ready = ready.initial_delay(delay);
        }
        ready
    }

    /// The liveness watch, with the defaults for what the table leaves out.
    ///
    /// # Errors
    ///
    /// Never for a table read by [`ProbeSeed`] (it refuses `log` in `alive`); kept as an
    /// error rather than a panic all the same.
    pub(super) fn liveness(
        self,
        dir: Option<&Path>,
        env: &BTreeMap<String, String>,
    ) -> Result<Liveness, InvalidProbe> {
        let (interval, failures) = (self.interval, self.failures);
        let mut alive = Liveness::new(self.probe_in(dir, env))?;
        if let Some(interval) = interval {
            alive = alive.interval(interval);
        }
        if let Some(failures) = failures {
            alive = alive.failures(failures);
        }
        Ok(alive)
    }
}

/// Reads a `ready` (`table` = `"ready"`) or `alive` table of a service.
pub(super) struct ProbeSeed<'a> {
    pub(super) service: &'a str,
    pub(super) table: &'static str,
}

impl ProbeSeed<'_> {
    fn keys(&self) -> &'static [&'static str] {
        if self.table == "alive" { ALIVE_KEYS } else { READY_KEYS }
    }

    /// The probe kinds the table takes, one of which it needs.
    fn kinds(&self) -> &'static [&'static str] {
        if self.table == "alive" {
            &["tcp", "http", "exec"]
        } else {
            &["tcp", "http", "exec", "log"]
        }
    }

    fn field(&self, key: &'static str) -> Field<'_> {
        Field { owner: Owner::Service(self.service), table: Some(self.table), key }
    }
}

impl<'de> DeserializeSeed<'de> for ProbeSeed<'_> {
    type Value = ProbeDraft;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ProbeDraft, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ProbeSeed<'_> {
    type Value = ProbeDraft;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a table for `{}` in service `{}` with one of {}",
            self.table,
            self.service,
            self.kinds().join(", ")
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ProbeDraft, A::Error> {
        let owner = Owner::Service(self.service);
        let mut kinds: Vec<(&str, Probe)> = Vec::new();
        let (mut interval, mut timeout, mut initial_delay, mut failures) = (None, None, None, None);
        let mut keys = Keys::new(self.keys(), owner).within(self.table);
        while let Some(key) = map.next_key_seed(keys.next())? {
            let field = self.field(key);
            match key {
                "tcp" | "http" | "exec" | "log" => {
                    kinds.push((key, map.next_value_seed(Target(field))?));
                }
                "interval" => interval = Some(map.next_value_seed(field.of::<Span>())?),
                "interval_ms" => interval = Some(map.next_value_seed(field.of::<Millis>())?),
                "timeout" => timeout = Some(map.next_value_seed(field.of::<Span>())?),
                "timeout_ms" => timeout = Some(map.next_value_seed(field.of::<Millis>())?),
                "initial_delay" => initial_delay = Some(map.next_value_seed(field.of::<Span>())?),
                "initial_delay_ms" => {
                    initial_delay = Some(map.next_value_seed(field.of::<Millis>())?);
                }
                "failures" => failures = Some(map.next_value_seed(field.of::<AtLeastOne>())?),
                _ => unreachable!("Keys let only the table's keys through"),
            }
        }
        if kinds.len() != 1 {
            let found: Vec<&str> = kinds.iter().map(|(kind, _)| *kind).collect();
            return Err(Field::new(owner, self.table).refuse(format!(
                "exactly one of {} is needed, found {}",
                self.kinds().join(", "),
                listed(&found)
            )));
        }
        let (_, probe) = kinds.remove(0);
        Ok(ProbeDraft { probe, interval, timeout, initial_delay, failures })
    }
}

/// `none`, `tcp`, `tcp and http`, `tcp, http and exec`.
fn listed(items: &[&str]) -> String {
    match items {
        [] => "none".to_owned(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The target of one probe kind (its key): an address, URL, command or regex, checked by the
/// probe's own constructor.
struct Target<'a>(Field<'a>);

impl<'de> DeserializeSeed<'de> for Target<'_> {
    type Value = Probe;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Probe, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Target<'_> {
    type Value = Probe;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.0.key {
            "tcp" => "a \"HOST:PORT\" string",
            "http" => "an \"http://\" URL",
            "exec" => "a command string",
            _ => "a regex string",
        };
        write!(f, "{what} for {}", self.0)
    }

    fn visit_str<E: de::Error>(self, target: &str) -> Result<Probe, E> {
        let probe = match self.0.key {
            "tcp" => Probe::tcp(target),
            #[cfg(feature = "http")]
            "http" => Probe::http(target),
            #[cfg(not(feature = "http"))]
            "http" => Err(InvalidProbe::HttpDisabled),
            "exec" => Probe::exec(target),
            _ => Probe::log(target),
        };
        probe.map_err(|error| self.0.refuse(error))
    }
}
