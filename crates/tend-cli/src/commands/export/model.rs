//! The stack file as the exporters see it: each step and service with its exact argv, its
//! absolute directory, its final environment, and the keys it was written with (probes,
//! restart policy, log), defaults filled in.
//!
//! The file is read by the loader `tend up` uses ([`tend::runner::load_json`]): a file `tend
//! up` refuses is refused here with the same message, and the values are those `tend up`
//! would run with. The written keys come along for what the library does not keep in a form
//! an exporter can read (probe intervals, restart delays).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};
use tend::runner::{SCRIPT_SHELL, ServiceSpec, Step, StepCommand};
use tend::{ByteSize, MaxRestarts, RestartPolicy, Signal};

use super::probe_keys::probe_keys;
pub(super) use super::probe_keys::{ProbeKeys, Target, span};
use crate::UsageError;
use crate::commands::up::project_file::duration;

/// Where the exported units find bash for `run` scripts.
pub(super) const BASH: &str = "/bin/bash";

/// A stack file, ready to export.
#[derive(Debug)]
pub(super) struct Stack {
    /// The project name (`-p`, else the file's directory).
    pub(super) project: String,
    /// The file as named on the command line (for messages and headers).
    pub(super) file: PathBuf,
    /// Steps first, then services, each in declaration order.
    pub(super) units: Vec<Unit>,
    /// Whether the file has a top-level `env_file`.
    pub(super) top_env_file: bool,
}

/// One step or service.
#[derive(Debug)]
pub(super) struct Unit {
    pub(super) name: String,
    /// The exact argv: the program and its arguments, or `/bin/bash -c SCRIPT NAME`.
    pub(super) argv: Vec<String>,
    /// The directory it runs in, absolute (the file's own without `dir`).
    pub(super) dir: PathBuf,
    /// `dir` as written, when it was.
    pub(super) dir_written: Option<String>,
    /// The final environment: env files and `env` tables merged as `tend up` merges them.
    pub(super) env: BTreeMap<String, String>,
    /// Whether it has its own `env_file`.
    pub(super) env_file: bool,
    /// The keys its table was written with (`restart_delay_ms` as `restart_delay`).
    pub(super) written: Vec<String>,
    /// The steps and services it runs after.
    pub(super) after: Vec<String>,
    /// Time between the stop signal and SIGKILL.
    pub(super) grace: Duration,
    pub(super) role: Role,
}

/// What only a step or only a service has.
#[derive(Debug)]
pub(super) enum Role {
    Step(StepKeys),
    Service(Box<ServiceKeys>),
}

/// A step's own keys.
#[derive(Debug)]
pub(super) struct StepKeys {
    pub(super) allow_failure: bool,
    /// Per attempt; `None` for none (zero or [`tend::FOREVER`] and more included).
    pub(super) timeout: Option<Duration>,
    pub(super) retries: u32,
    pub(super) retry_delay: Duration,
}

/// A service's own keys.
#[derive(Debug)]
pub(super) struct ServiceKeys {
    pub(super) ready: Option<ProbeKeys>,
    pub(super) alive: Option<ProbeKeys>,
    pub(super) restart: RestartPolicy,
    pub(super) max_restarts: MaxRestarts,
    pub(super) restart_delay: Duration,
    pub(super) restart_max_delay: Duration,
    pub(super) stop_signal: Signal,
    pub(super) log: Option<LogKeys>,
}

/// A service's log file.
#[derive(Debug)]
pub(super) struct LogKeys {
    /// Absolute.
    pub(super) path: PathBuf,
    pub(super) max_size: ByteSize,
    pub(super) keep: u32,
}

impl Stack {
    /// Reads `path` as `tend up` does, for project `project` (else named after the file's
    /// directory).
    pub(super) fn read(path: &Path, project: Option<&str>) -> Result<Stack, UsageError> {
        let (pipeline, keys) =
            tend::runner::load_json(path).map_err(|e| UsageError(e.to_string()))?;
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
            _ => PathBuf::from("."),
        };
        let base = parent.canonicalize().map_err(|e| {
            UsageError(format!("cannot resolve the directory of `{}`: {e}", path.display()))
        })?;
        let project = match project {
            Some(name) => crate::commands::up::project_file::check_name(name)?,
            None => crate::commands::up::project_file::name_from_dir(&base)?,
        };
        let table = |kind: &str, name: &str| {
            keys.get(kind).and_then(|t| t.get(name)).and_then(Value::as_object).cloned()
        };
        let mut units = Vec::new();
        for step in pipeline.steps() {
            let raw = table("steps", &step.name).unwrap_or_default();
            units.push(Unit::from_step(step, &raw, &base));
        }
        for service in pipeline.services() {
            let raw = table("services", &service.name).unwrap_or_default();
            units.push(Unit::from_service(service, &raw, &base)?);
        }
        Ok(Stack {
            project,
            file: path.to_owned(),
            units,
            top_env_file: keys.contains_key("env_file"),
        })
    }

    /// The unit named `name`.
    pub(super) fn unit(&self, name: &str) -> Option<&Unit> {
        self.units.iter().find(|unit| unit.name == name)
    }

    /// Everything `unit` runs after, directly or not, each before what runs after it.
    pub(super) fn closure<'a>(&'a self, unit: &'a Unit) -> Vec<&'a Unit> {
        fn visit<'a>(
            stack: &'a Stack,
            unit: &'a Unit,
            seen: &mut HashSet<&'a str>,
            out: &mut Vec<&'a Unit>,
        ) {
            for dep in &unit.after {
                let Some(dep) = stack.unit(dep) else { continue };
                if seen.insert(&dep.name) {
                    visit(stack, dep, seen, out);
                    out.push(dep);
                }
            }
        }
        let mut out = Vec::new();
        visit(self, unit, &mut HashSet::new(), &mut out);
        out
    }

    /// The names of the steps some service runs after, directly or not.
    pub(super) fn steps_services_need(&self) -> HashSet<&str> {
        self.units
            .iter()
            .filter(|unit| unit.service().is_some())
            .flat_map(|unit| self.closure(unit))
            .filter(|dep| dep.service().is_none())
            .map(|dep| dep.name.as_str())
            .collect()
    }
}

impl Unit {
    fn from_step(step: &Step, raw: &Map<String, Value>, base: &Path) -> Unit {
        let timeout = step.timeout.filter(|t| !t.is_zero() && *t < tend::FOREVER);
        let keys = StepKeys {
            allow_failure: step.allow_failure,
            timeout,
            retries: step.retries,
            retry_delay: step.retry_delay,
        };
        Unit::new(&step.name, &step.command, step.dir.as_deref(), &step.env, raw, base).finish(
            &step.after,
            step.grace,
            Role::Step(keys),
        )
    }

    fn from_service(
        service: &ServiceSpec,
        raw: &Map<String, Value>,
        base: &Path,
    ) -> Result<Unit, UsageError> {
        let probe =
            |key: &str| raw.get(key).map(|table| probe_keys(&service.name, key, table)).transpose();
        let log = service.log.as_ref().map(|log| LogKeys {
            path: without_dots(&base.join(&log.path)),
            max_size: log.max_size,
            keep: log.keep,
        });
        let raw_value = Value::Object(raw.clone());
        let keys = ServiceKeys {
            ready: probe("ready")?,
            alive: probe("alive")?,
            restart: service.restart.policy(),
            max_restarts: service.restart.max_restarts(),
            restart_delay: duration(&raw_value, "restart_delay")
                .unwrap_or(tend::process::DEFAULT_RESTART_DELAY),
            restart_max_delay: duration(&raw_value, "restart_max_delay")
                .unwrap_or(tend::process::DEFAULT_MAX_RESTART_DELAY),
            stop_signal: service.stop_signal,
            log,
        };
        Ok(Unit::new(
            &service.name,
            &service.command,
            service.dir.as_deref(),
            &service.env,
            raw,
            base,
        )
        .finish(&service.after, service.grace, Role::Service(Box::new(keys))))
    }

    fn new(
        name: &str,
        command: &StepCommand,
        dir: Option<&Path>,
        env: &BTreeMap<String, String>,
        raw: &Map<String, Value>,
        base: &Path,
    ) -> Unit {
        let argv = match command {
            StepCommand::Program { command, args } => {
                std::iter::once(command.clone()).chain(args.iter().cloned()).collect()
            }
            StepCommand::Script(script) => {
                debug_assert_eq!(SCRIPT_SHELL, "bash");
                vec![BASH.to_owned(), "-c".into(), script.clone(), name.to_owned()]
            }
        };
        Unit {
            name: name.to_owned(),
            argv,
            dir: without_dots(&dir.map_or_else(|| base.to_owned(), |dir| base.join(dir))),
            dir_written: raw.get("dir").and_then(Value::as_str).map(str::to_owned),
            env: env.clone(),
            env_file: raw.contains_key("env_file"),
            written: raw
                .keys()
                .map(|key| key.strip_suffix("_ms").unwrap_or(key).to_owned())
                .collect(),
            after: Vec::new(),
            grace: Duration::ZERO,
            role: Role::Step(StepKeys {
                allow_failure: false,
                timeout: None,
                retries: 0,
                retry_delay: Duration::ZERO,
            }),
        }
    }

    fn finish(mut self, after: &[String], grace: Duration, role: Role) -> Unit {
        self.after = after.to_vec();
        self.grace = grace;
        self.role = role;
        self
    }

    /// `step` or `service`, for messages.
    pub(super) fn kind(&self) -> &'static str {
        match self.role {
            Role::Step(_) => "step",
            Role::Service(_) => "service",
        }
    }

    pub(super) fn service(&self) -> Option<&ServiceKeys> {
        match &self.role {
            Role::Service(keys) => Some(keys),
            Role::Step(_) => None,
        }
    }

    pub(super) fn step(&self) -> Option<&StepKeys> {
        match &self.role {
            Role::Step(keys) => Some(keys),
            Role::Service(_) => None,
        }
    }

    /// The program as an absolute path when it is a relative one (`./worker`, `bin/x`),
    /// which tend finds from the unit's directory; `None` for an absolute path or a bare
    /// name looked up on `PATH`.
    pub(super) fn relative_program(&self) -> Option<PathBuf> {
        let program = Path::new(&self.argv[0]);
        (self.argv[0].contains('/') && program.is_relative())
            .then(|| without_dots(&self.dir.join(program)))
    }

    /// The first of `keys` its table was written with.
    pub(super) fn wrote<'k>(&self, keys: &[&'k str]) -> Option<&'k str> {
        keys.iter().copied().find(|key| self.written.iter().any(|written| written == key))
    }

    /// The ports its probes name, in order, once each.
    pub(super) fn probe_ports(&self) -> Vec<u16> {
        let mut ports = Vec::new();
        let service = self.service();
        let probes = service.into_iter().flat_map(|s| s.ready.iter().chain(s.alive.iter()));
        for port in probes.filter_map(|probe| probe.target.port()) {
            if !ports.contains(&port) {
                ports.push(port);
            }
        }
        ports
    }
}

/// `path` without its `.` components (`/srv/app/./logs` is `/srv/app/logs`).
fn without_dots(path: &Path) -> PathBuf {
    path.components().filter(|part| *part != std::path::Component::CurDir).collect()
}

/// Names a unit by its kind and name for messages: "service `web`".
pub(super) fn described(unit: &Unit) -> String {
    format!("{} `{}`", unit.kind(), unit.name)
}

/// Checks that sanitising names for a format keeps them apart: two units that would get the
/// same name are a usage error naming both.
pub(super) fn distinct_names<'a>(
    stack: &'a Stack,
    what: &str,
    sanitise: impl Fn(&str) -> String,
) -> Result<HashMap<&'a str, String>, UsageError> {
    let mut names = HashMap::new();
    let mut taken: HashMap<String, &str> = HashMap::new();
    for unit in &stack.units {
        let name = sanitise(&unit.name);
        if let Some(other) = taken.insert(name.clone(), &unit.name) {
            return Err(UsageError(format!(
                "`{other}` and `{}` both become the {what} `{name}`; rename one",
                unit.name
            )));
        }
        names.insert(unit.name.as_str(), name);
    }
    Ok(names)
}

/// A DNS-1123 label: lower case letters, digits and `-`, starting and ending with a letter or
/// digit, at most 58 characters (so `wait-NAME` and `NAME-env` stay within 63).
pub(super) fn dns_label(name: &str) -> String {
    let lower: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect();
    let trimmed: String = lower.trim_matches('-').chars().take(58).collect();
    let trimmed = trimmed.trim_end_matches('-');
    if trimmed.is_empty() { "unit".to_owned() } else { trimmed.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_dns_labels() {
        assert_eq!(dns_label("Web_API"), "web-api");
        assert_eq!(dns_label("--x--"), "x");
        assert_eq!(dns_label("é"), "unit");
        assert_eq!(dns_label(&"a".repeat(80)).len(), 58);
    }
}
