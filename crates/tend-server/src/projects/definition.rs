//! A [`ProjectRequest`] read and checked: its name, its directory, its steps and services
//! parsed by the stack file's own reader, each service's definition to compare on reload,
//! and the dependency order.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use tend::actions::ActionError;
use tend::runner::{Pipeline, ServiceSpec, Step};
use tend::wire::ProjectRequest;

/// The longest project (and service) name: it names directories in the state directory.
pub const MAX_NAME_LEN: usize = 64;

/// A project's definition, parsed and checked.
pub(super) struct Definition {
    pub(super) name: String,
    /// Its services by name, each with its log file filled in.
    pub(super) services: BTreeMap<String, ServiceSpec>,
    /// Its steps, in the order the reader gave them.
    pub(super) steps: Vec<Step>,
    /// Every step and service, dependencies first, ties by name.
    pub(super) order: Vec<String>,
    /// At most this many of its steps at once (0: no bound of its own).
    pub(super) jobs: usize,
}

impl Definition {
    /// Reads `request`; a service without a `log` key writes to
    /// `LOGS/PROJECT/NAME.log` when the daemon keeps logs (`logs` is `STATE_DIR/logs`), with
    /// its `log_max_size` and `log_keep` as for a `log` of its own.
    pub(super) fn read(request: &ProjectRequest, logs: Option<&Path>) -> Result<Self, ActionError> {
        check_name("name", &request.name)?;
        let dir = PathBuf::from(&request.dir);
        if !dir.is_absolute() {
            return Err(ActionError::invalid(
                "dir",
                format!("`{}` is not an absolute directory", request.dir),
            ));
        }
        let pipeline =
            tend::runner::from_json(stack_value(request, logs)?, &dir).map_err(|error| {
                let message = error.to_string();
                let key = if message.starts_with("step `") {
                    "steps"
                } else if message.starts_with("service `") {
                    "services"
                } else if message.contains("env_file") {
                    "env_file"
                } else {
                    "services"
                };
                ActionError::invalid(key, message)
            })?;
        let order = dependency_order(&pipeline);
        let mut services = BTreeMap::new();
        for spec in pipeline.services() {
            services.insert(spec.name.clone(), spec.clone());
        }
        let steps = pipeline.steps().to_vec();
        let jobs = request.jobs.unwrap_or(0);
        Ok(Self { name: request.name.clone(), services, steps, order, jobs })
    }

    /// The services in dependency order, ties by name.
    pub(super) fn service_order(&self) -> Vec<String> {
        self.order.iter().filter(|name| self.services.contains_key(*name)).cloned().collect()
    }

    /// The steps' definition, to tell whether a reload changed them.
    pub(super) fn steps_definition(&self) -> String {
        format!("{:?}", self.steps)
    }
}

/// What a service's definition is, for comparing two applies: everything the reader
/// resolved (command, env with env files read, probes, restart policy, log file).
pub(super) fn service_definition(spec: &ServiceSpec) -> String {
    format!("{spec:?}")
}

/// The stack part of the request, as a stack file's top level, with each service's default
/// log file (under `logs`) as its `log` when it names none.
fn stack_value(request: &ProjectRequest, logs: Option<&Path>) -> Result<Value, ActionError> {
    let mut stack = Map::new();
    if let Some(env) = &request.env {
        stack.insert("env".into(), Value::Object(env.clone()));
    }
    if let Some(env_file) = &request.env_file {
        stack.insert("env_file".into(), env_file.clone());
    }
    if let Some(steps) = &request.steps {
        stack.insert("steps".into(), Value::Object(steps.clone()));
    }
    if let Some(services) = &request.services {
        let mut services = services.clone();
        for (name, table) in services.iter_mut() {
            check_name("services", name)?;
            if let (Some(logs), Value::Object(table)) = (logs, table)
                && !table.contains_key("log")
            {
                let path = logs.join(&request.name).join(format!("{name}.log"));
                table.insert("log".into(), Value::String(path.to_string_lossy().into_owned()));
            }
        }
        stack.insert("services".into(), Value::Object(services));
    }
    Ok(Value::Object(stack))
}

/// A project or service name: 1 to [`MAX_NAME_LEN`] of `A-Z a-z 0-9 . _ -`, not starting
/// with `.`; else 400 naming `key`.
pub(super) fn check_name(key: &str, name: &str) -> Result<(), ActionError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty()
        || name.len() > MAX_NAME_LEN
        || name.starts_with('.')
        || !name.chars().all(allowed)
    {
        return Err(ActionError::invalid(
            key,
            format!(
                "`{name}` is not a valid name: 1 to {MAX_NAME_LEN} of A-Z a-z 0-9 . _ -, not \
                 starting with `.`"
            ),
        ));
    }
    Ok(())
}

/// Every step and service, each after what it runs `after`, ties by name (the pipeline has
/// been checked: no cycle, no unknown name).
fn dependency_order(pipeline: &Pipeline) -> Vec<String> {
    let mut after: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for step in pipeline.steps() {
        after.insert(step.name.clone(), step.after.iter().cloned().collect());
    }
    for service in pipeline.services() {
        after.insert(service.name.clone(), service.after.iter().cloned().collect());
    }
    let mut order = Vec::with_capacity(after.len());
    let mut done = BTreeSet::new();
    while done.len() < after.len() {
        let next = after
            .iter()
            .find(|(name, deps)| !done.contains(*name) && deps.iter().all(|d| done.contains(d)))
            .map(|(name, _)| name.clone());
        // A cycle cannot be here; stop rather than spin if one were.
        let Some(next) = next else { break };
        done.insert(next.clone());
        order.push(next);
    }
    order
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(services: Value) -> ProjectRequest {
        ProjectRequest {
            name: "shop".into(),
            dir: "/srv/shop".into(),
            services: services.as_object().cloned(),
            ..Default::default()
        }
    }

    #[test]
    fn services_come_in_dependency_order_with_their_log_files() {
        let definition = Definition::read(
            &request(json!({"web": {"run": "x", "after": ["db"], "log_keep": 2}, "db": {"run": "y"}, "a": {"run": "z"}})),
            Some(Path::new("/state/logs")),
        )
        .unwrap();
        assert_eq!(definition.service_order(), ["a", "db", "web"]);
        let log = definition.services["web"].log.as_ref().unwrap();
        assert_eq!((log.path.as_path(), log.keep), (Path::new("/state/logs/shop/web.log"), 2));
    }

    #[test]
    fn bad_names_and_dirs_name_their_key() {
        for bad in ["", ".hidden", "a/b", "é", &"x".repeat(65)] {
            let mut r = request(json!({"a": {"run": "x"}}));
            r.name = bad.into();
            let error = Definition::read(&r, None).err().unwrap();
            assert!(error.to_string().contains("`name`"), "{error}");
        }
        let mut r = request(json!({"a": {"run": "x"}}));
        r.dir = "relative".into();
        assert!(Definition::read(&r, None).err().unwrap().to_string().contains("`dir`"));
        let error = Definition::read(&request(json!({"a b": {"run": "x"}})), None).err().unwrap();
        assert!(error.to_string().contains("`services`"), "{error}");
        let error = Definition::read(&request(json!({"a": {"run": "x", "tiemout": 1}})), None)
            .err()
            .unwrap();
        assert!(error.to_string().contains("service `a`: unknown key `tiemout`"), "{error}");
    }
}
