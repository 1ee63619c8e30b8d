//! A stack file (or Procfile) as the daemon's project (`tend up -d`, `tend reload`, `tend
//! down`): the request sent, the project's name, and how long its services may take to be
//! ready.
//!
//! The file is read and checked here as `tend up` reads it (an invalid one exits 2 before
//! anything is sent), then its keys go to the daemon as JSON ([`tend::runner::load_json`]),
//! with `dir` = the file's absolute directory, where relative paths and the services run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};
use tend::wire::ProjectRequest;

use crate::UsageError;

/// The longest project name.
const MAX_NAME: usize = 64;
/// Time on top of the ready timeouts for starting processes, restart delays and polling.
const WAIT_MARGIN: Duration = Duration::from_secs(15);
/// A `ready` probe's own timeout when it sets none (the library's default).
const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A file read as a project.
#[derive(Debug)]
pub(crate) struct ProjectFile {
    /// What `POST /projects` (or `/projects/{name}/reload`) is sent.
    pub(crate) request: ProjectRequest,
    /// How long its services may take to settle (ready or failed): the longest chain of
    /// ready timeouts (and of the timeouts of steps services run after), plus a margin;
    /// `None` when a wait on such a chain is unbounded.
    pub(crate) deadline: Option<Duration>,
}

/// Reads `file` (else the current directory's `tend.toml`, `tend.yaml`, `tend.yml` or
/// `Procfile`) as project `name` (else named after the file's directory).
pub(crate) fn read(file: Option<&Path>, name: Option<&str>) -> Result<ProjectFile, UsageError> {
    let path = match file {
        Some(path) => path.to_owned(),
        None => super::file::look_up(&current_dir()?)?,
    };
    let (_, keys) = tend::runner::load_json(&path).map_err(|e| UsageError(e.to_string()))?;
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    let dir = parent.canonicalize().map_err(|e| {
        UsageError(format!("cannot resolve the directory of `{}`: {e}", path.display()))
    })?;
    let name = match name {
        Some(name) => check_name(name)?,
        None => name_from_dir(&dir)?,
    };
    let dir_text = dir.to_str().ok_or_else(|| {
        UsageError(format!("the directory `{}` is not valid UTF-8", dir.display()))
    })?;
    let deadline = settle_deadline(&keys);
    let object = |key: &str| keys.get(key).and_then(Value::as_object).cloned();
    let request = ProjectRequest {
        name,
        dir: dir_text.to_owned(),
        env: object("env"),
        env_file: keys.get("env_file").cloned(),
        steps: object("steps"),
        services: object("services"),
        jobs: None,
    };
    Ok(ProjectFile { request, deadline })
}

/// The project name of the current directory's file: the directory's name, made valid.
pub(crate) fn default_name() -> Result<String, UsageError> {
    let cwd = current_dir()?;
    name_from_dir(&cwd.canonicalize().unwrap_or(cwd))
}

/// `name` if it is a valid project name: 1 to 64 of `A-Z a-z 0-9 . _ -`, not starting with
/// `.`.
pub(crate) fn check_name(name: &str) -> Result<String, UsageError> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && name.chars().all(allowed);
    if valid {
        return Ok(name.to_owned());
    }
    Err(UsageError(format!(
        "-p `{name}`: a project name is 1 to {MAX_NAME} of A-Z a-z 0-9 . _ - and does not start \
         with `.`"
    )))
}

/// The name of `dir` as a project name: other characters become `-`, leading dots are
/// dropped, and it is cut at 64 characters.
pub(crate) fn name_from_dir(dir: &Path) -> Result<String, UsageError> {
    let base = dir.file_name().map(|name| name.to_string_lossy()).unwrap_or_default();
    let name: String = base
        .chars()
        .map(|c| if allowed(c) { c } else { '-' })
        .skip_while(|c| *c == '.')
        .take(MAX_NAME)
        .collect();
    if name.is_empty() {
        return Err(UsageError(format!(
            "cannot name a project after the directory `{}`; name it with -p NAME",
            dir.display()
        )));
    }
    Ok(name)
}

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

fn current_dir() -> Result<PathBuf, UsageError> {
    std::env::current_dir()
        .map_err(|e| UsageError(format!("the current directory is unreadable: {e}")))
}

/// The longest chain of waits before a service settles, plus [`WAIT_MARGIN`]: each
/// service's ready timeout and initial delay, after the longest chain of what it runs `after`
/// (services, and steps with their timeouts and retries). `None` when a wait on that path is
/// unbounded (a ready probe that never times out, a step without a timeout).
fn settle_deadline(keys: &Map<String, Value>) -> Option<Duration> {
    let table = |key: &str| keys.get(key).and_then(Value::as_object);
    let (services, steps) = (table("services"), table("steps"));
    let mut nodes: HashMap<&str, (&Value, bool)> = HashMap::new();
    for (name, step) in steps.into_iter().flatten() {
        nodes.insert(name, (step, false));
    }
    for (name, service) in services.into_iter().flatten() {
        nodes.insert(name, (service, true));
    }
    let mut memo = HashMap::new();
    let mut longest = Duration::ZERO;
    for name in services.into_iter().flatten().map(|(name, _)| name.as_str()) {
        longest = longest.max(chain(name, &nodes, &mut memo)?);
    }
    Some(longest + WAIT_MARGIN)
}

/// The wait of `name` (a service when its flag is set, else a step) after the longest chain
/// of what it runs after; `None` when unbounded. The file was checked: `after` has no cycle.
fn chain<'a>(
    name: &'a str,
    nodes: &HashMap<&'a str, (&'a Value, bool)>,
    memo: &mut HashMap<&'a str, Option<Duration>>,
) -> Option<Duration> {
    if let Some(known) = memo.get(name) {
        return *known;
    }
    let (node, service) = *nodes.get(name)?;
    let mut before = Duration::ZERO;
    for dep in node.get("after").and_then(Value::as_array).into_iter().flatten() {
        let Some((dep, _)) = dep.as_str().and_then(|dep| nodes.get_key_value(dep)) else {
            continue;
        };
        before = before.max(chain(dep, nodes, memo)?);
    }
    let own = if service { ready_wait(node) } else { step_wait(node) };
    let total = own.map(|own| before + own);
    memo.insert(name, total);
    total
}

/// A step's longest run: its timeout for each attempt and the delays between them; `None`
/// without a timeout.
fn step_wait(step: &Value) -> Option<Duration> {
    let timeout = duration(step, "timeout").filter(|t| !t.is_zero() && *t < tend::FOREVER)?;
    let retries = step.get("retries").and_then(Value::as_u64).unwrap_or(0).min(1000) as u32;
    let delay = duration(step, "retry_delay").unwrap_or(tend::runner::DEFAULT_RETRY_DELAY);
    Some(timeout * (retries + 1) + delay * retries)
}

/// A service's `ready` timeout plus its initial delay (zero without a probe); `None` for a
/// probe that waits for ever.
fn ready_wait(service: &Value) -> Option<Duration> {
    let Some(ready) = service.get("ready") else { return Some(Duration::ZERO) };
    let timeout = duration(ready, "timeout").unwrap_or(DEFAULT_READY_TIMEOUT);
    if timeout.is_zero() || timeout >= tend::FOREVER {
        return None;
    }
    Some(timeout + duration(ready, "initial_delay").unwrap_or_default())
}

/// The duration under `key` (humantime text) or `KEY_ms` (milliseconds) of `table`.
pub(crate) fn duration(table: &Value, key: &str) -> Option<Duration> {
    if let Some(text) = table.get(key).and_then(Value::as_str) {
        return crate::durations::parse_duration(text).ok();
    }
    table
        .get(format!("{key}_ms"))
        .and_then(Value::as_f64)
        .map(|ms| Duration::from_secs_f64(ms.max(0.0) / 1000.0))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_directory_name_is_made_a_valid_project_name() {
        let name = |dir: &str| name_from_dir(Path::new(dir));
        assert_eq!(name("/home/me/shop").unwrap(), "shop");
        assert_eq!(name("/home/me/my shop!").unwrap(), "my-shop-");
        assert_eq!(name("/home/me/..hidden.app").unwrap(), "hidden.app");
        assert_eq!(name(&format!("/x/{}", "a".repeat(80))).unwrap().len(), 64);
        assert!(name("/").unwrap_err().0.contains("-p NAME"));
    }

    #[test]
    fn a_given_name_is_checked() {
        assert_eq!(check_name("shop-2.x_y").unwrap(), "shop-2.x_y");
        for bad in ["", ".shop", "a/b", "a b", &"a".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_deadline_is_the_longest_chain_of_ready_waits() {
        let services = json!({
            "db": {"run": "x", "ready": {"tcp": "h:1", "timeout": "5s", "initial_delay": "1s"}},
            "web": {"run": "x", "after": ["db", "build"], "ready": {"tcp": "h:2", "timeout_ms": 2000}},
            "worker": {"run": "x", "after": ["db"]},
            "cache": {"run": "x", "ready": {"tcp": "h:3"}},
        });
        let keys = |services: Value| json!({"services": services}).as_object().unwrap().clone();
        let deadline = settle_deadline(&keys(services));
        assert_eq!(deadline, Some(Duration::from_secs(60) + WAIT_MARGIN));
        let services = json!({"db": {"run": "x", "ready": {"tcp": "h:1", "timeout": "5s"}},
                              "web": {"run": "x", "after": ["db"], "ready": {"tcp": "h:2", "timeout": "2s"}}});
        assert_eq!(settle_deadline(&keys(services)), Some(Duration::from_secs(7) + WAIT_MARGIN));
        let forever = json!({"db": {"run": "x", "ready": {"tcp": "h:1", "timeout": "0s"}}});
        assert_eq!(settle_deadline(&keys(forever)), None);
    }

    #[test]
    fn steps_before_a_service_count_with_their_timeouts_and_retries() {
        let stack = |build: Value| {
            json!({
                "steps": {"build": build, "lint": {"run": "x"}},
                "services": {"web": {"run": "x", "after": ["build"],
                                     "ready": {"tcp": "h:1", "timeout": "2s"}}},
            })
            .as_object()
            .unwrap()
            .clone()
        };
        let timed = json!({"run": "x", "timeout": "10s", "retries": 1, "retry_delay": "1s"});
        let deadline = settle_deadline(&stack(timed));
        assert_eq!(deadline, Some(Duration::from_secs(10 * 2 + 1 + 2) + WAIT_MARGIN));
        // `lint` has no timeout, and no service waits for it; `build` without one is unbounded.
        assert_eq!(settle_deadline(&stack(json!({"run": "x"}))), None);
    }
}
