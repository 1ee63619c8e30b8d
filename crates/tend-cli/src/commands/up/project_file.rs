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
    /// `after` dependencies' ready timeouts and initial delays, plus a margin; `None` when a
    /// ready probe waits for ever.
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
    let deadline = settle_deadline(keys.get("services").and_then(Value::as_object));
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
fn name_from_dir(dir: &Path) -> Result<String, UsageError> {
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

/// The longest chain of services' ready waits (each after those it runs `after`), plus
/// [`WAIT_MARGIN`]; `None` if a ready probe never times out.
fn settle_deadline(services: Option<&Map<String, Value>>) -> Option<Duration> {
    let Some(services) = services else { return Some(WAIT_MARGIN) };
    let mut own = HashMap::new();
    for (name, service) in services {
        own.insert(name.as_str(), ready_wait(service)?);
    }
    let mut memo = HashMap::new();
    let longest = services.keys().map(|name| chain(name, services, &own, &mut memo)).max();
    Some(longest.unwrap_or_default() + WAIT_MARGIN)
}

/// The ready wait of service `name` and of the longest chain of services before it. The
/// file was checked, so `after` has no cycle.
fn chain<'a>(
    name: &'a str,
    services: &'a Map<String, Value>,
    own: &HashMap<&str, Duration>,
    memo: &mut HashMap<&'a str, Duration>,
) -> Duration {
    if let Some(known) = memo.get(name) {
        return *known;
    }
    let after = services[name].get("after").and_then(Value::as_array);
    let before = after
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|dep| services.get_key_value(dep).map(|(key, _)| key.as_str()))
        .map(|dep| chain(dep, services, own, memo))
        .max()
        .unwrap_or_default();
    let total = before + own.get(name).copied().unwrap_or_default();
    memo.insert(name, total);
    total
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
fn duration(table: &Value, key: &str) -> Option<Duration> {
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
        let deadline = settle_deadline(services.as_object());
        assert_eq!(deadline, Some(Duration::from_secs(60) + WAIT_MARGIN));
        let services = json!({"db": {"run": "x", "ready": {"tcp": "h:1", "timeout": "5s"}},
                              "web": {"run": "x", "after": ["db"], "ready": {"tcp": "h:2", "timeout": "2s"}}});
        assert_eq!(
            settle_deadline(services.as_object()),
            Some(Duration::from_secs(7) + WAIT_MARGIN)
        );
        let forever = json!({"db": {"run": "x", "ready": {"tcp": "h:1", "timeout": "0s"}}});
        assert_eq!(settle_deadline(forever.as_object()), None);
    }
}
