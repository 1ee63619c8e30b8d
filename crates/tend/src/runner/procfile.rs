//! Procfiles, as foreman and honcho read them: one `NAME: COMMAND` line per process, each run
//! as a service of its own. See [`load`](super::load) and [`is_procfile`](super::is_procfile).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

use super::file::FileError;
use super::graph::Pipeline;
use super::service_spec::ServiceSpec;
use crate::Restart;
use crate::dotenv::DotenvError;

/// The `PORT` of the first process; each next one gets 100 more (foreman's convention).
pub const PROCFILE_BASE_PORT: u16 = 5000;

/// Reads the Procfile at `path` (its text, and `base` its directory) into services: each a
/// bash script, restart `never`, run in `base`, with the variables of `base/.env` when that
/// file exists, and `PORT` = 5000 + 100 × its index unless `.env` sets `PORT`.
pub(super) fn parse(path: &Path, text: &str, base: &Path) -> Result<Pipeline, FileError> {
    let services = processes(path, text, base)?
        .into_iter()
        .map(|process| {
            let mut service = ServiceSpec::script(process.name, process.command)
                .dir(base)
                .restart(Restart::never());
            service.env = process.env;
            service
        })
        .collect();
    Pipeline::with_services(Vec::new(), services)
        .map_err(|source| FileError::Invalid { path: Some(path.to_owned()), source })
}

/// The Procfile's keys as a stack file's, as JSON: `{"services": {NAME: {"run": COMMAND,
/// "env": {…}}}}`, each `env` holding the `.env` variables and `PORT` as [`parse`] gives
/// them. The restart policy is left to the reader (a daemon keeps its default, `on_failure`).
pub(super) fn keys(path: &Path, text: &str, base: &Path) -> Result<Map<String, Value>, FileError> {
    let services: Map<String, Value> = processes(path, text, base)?
        .into_iter()
        .map(|process| {
            let env: Map<String, Value> =
                process.env.into_iter().map(|(key, value)| (key, Value::String(value))).collect();
            let service = serde_json::json!({"run": process.command, "env": env});
            (process.name, service)
        })
        .collect();
    Ok(Map::from_iter([("services".to_owned(), Value::Object(services))]))
}

/// One `NAME: COMMAND` line of a Procfile with the variables it runs with.
struct ProcfileProcess {
    name: String,
    command: String,
    env: BTreeMap<String, String>,
}

/// The Procfile's processes in file order, each with the variables of `base/.env` and its
/// `PORT`; or the first malformed line.
fn processes(path: &Path, text: &str, base: &Path) -> Result<Vec<ProcfileProcess>, FileError> {
    let error = |line: Option<usize>, message: String| FileError::Parse {
        path: Some(path.to_owned()),
        line,
        column: None,
        message,
    };
    // Name, command, and the line it is on.
    let mut processes: Vec<(&str, &str, usize)> = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let number = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, command) = process_line(line).map_err(|message| error(Some(number), message))?;
        if let Some(&(_, _, first)) = processes.iter().find(|(known, ..)| *known == name) {
            let message = format!("process `{name}` is defined twice (first on line {first})");
            return Err(error(Some(number), message));
        }
        processes.push((name, command, number));
    }
    if processes.is_empty() {
        return Err(error(None, "no processes: a Procfile holds `NAME: COMMAND` lines".into()));
    }
    let dotenv = read_dotenv(&base.join(".env")).map_err(|e| error(None, e.to_string()))?;
    Ok(processes
        .into_iter()
        .zip(0u32..)
        .map(|((name, command, _), index)| {
            let mut env = dotenv.clone();
            if !env.contains_key("PORT") {
                let port = u32::from(PROCFILE_BASE_PORT) + 100 * index;
                env.insert("PORT".to_owned(), port.to_string());
            }
            ProcfileProcess { name: name.to_owned(), command: command.to_owned(), env }
        })
        .collect())
}

/// A `NAME: COMMAND` line, trimmed: the name and the command, or what is wrong with it.
fn process_line(line: &str) -> Result<(&str, &str), String> {
    let Some((name, command)) = line.split_once(':') else {
        return Err(format!("expected `NAME: COMMAND`, found `{line}`"));
    };
    if name.is_empty() {
        return Err(format!("the process name is empty: expected `NAME: COMMAND`, found `{line}`"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(format!(
            "process name `{name}` may hold only ASCII letters, digits, `_` and `-`"
        ));
    }
    let command = command.trim();
    if command.is_empty() {
        return Err(format!("process `{name}` has no command"));
    }
    crate::process::check_no_nul(command)
        .map_err(|message| format!("process `{name}`: {message}"))?;
    Ok((name, command))
}

/// The variables of the `.env` file at `path`, none when there is no such file.
fn read_dotenv(path: &Path) -> Result<BTreeMap<String, String>, DotenvError> {
    match crate::dotenv::read(path) {
        Ok(vars) => Ok(vars.into_iter().collect()),
        Err(DotenvError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(BTreeMap::new())
        }
        Err(error) => Err(error),
    }
}
