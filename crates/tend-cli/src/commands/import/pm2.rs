//! PM2 ecosystem file → tend.toml.
//!
//! Each of `apps[]` becomes a service. PM2 runs a `.js` script with node (and `.py`, `.sh`, …
//! with their interpreters, or `interpreter` when given), and stops an app with SIGINT, then
//! SIGKILL after `kill_timeout`; it restarts an app whenever it ends (`autorestart`).

use std::time::Duration;

use super::model::{Command, Imported, Item, Unmapped};
use super::node::{Node, Source, Value};
use super::words;
use crate::UsageError;

/// PM2's cap on `exp_backoff_restart_delay`'s growth.
const PM2_MAX_BACKOFF: Duration = Duration::from_secs(15);

/// The interpreter PM2 picks from a script's extension.
const INTERPRETERS: &[(&str, &str)] = &[
    (".js", "node"),
    (".cjs", "node"),
    (".mjs", "node"),
    (".ts", "node"),
    (".py", "python3"),
    (".sh", "bash"),
    (".rb", "ruby"),
    (".php", "php"),
    (".pl", "perl"),
];

/// Reads the ecosystem file `root` (already parsed) into an import.
pub(super) fn convert(source: Source<'_>, root: &Node) -> Result<Imported, UsageError> {
    let mut imported = Imported::default();
    // A bare list of apps is accepted too (an old PM2 form).
    let apps = match &root.value {
        Value::List(_) => Some(root),
        _ => {
            let mut apps = None;
            for (key, node) in source.map(root, "the file")? {
                match key.as_str() {
                    "apps" => apps = Some(node),
                    "deploy" => imported.unmapped.push(Unmapped::new(
                        node.line,
                        key,
                        "tend does not deploy",
                    )),
                    _ => imported.unmapped.push(Unmapped::new(
                        node.line,
                        key,
                        "no tend.toml equivalent",
                    )),
                }
            }
            apps
        }
    };
    let Some(apps) = apps else {
        return Err(source.error(
            root.line,
            "apps",
            "an ecosystem file needs `apps`, a list of apps",
        ));
    };
    let Value::List(list) = &apps.value else {
        return Err(source.error(apps.line, "apps", "expected a list of apps"));
    };
    if list.is_empty() {
        return Err(source.error(apps.line, "apps", "no app is defined"));
    }
    let mut names = std::collections::HashSet::new();
    for (index, app) in list.iter().enumerate() {
        let item = self::app(source, index, app)?;
        if !names.insert(item.name.clone()) {
            return Err(source.error(
                app.line,
                &format!("apps[{index}].name"),
                format!("a second app named `{}`", item.name),
            ));
        }
        imported.items.push(item);
    }
    Ok(imported)
}

fn app(source: Source<'_>, index: usize, node: &Node) -> Result<Item, UsageError> {
    let entries = source.map(node, &format!("apps[{index}]"))?;
    let find = |key: &str| entries.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    let path = |key: &str| format!("apps[{index}].{key}");
    let Some(script_node) = find("script") else {
        return Err(source.error(node.line, &format!("apps[{index}]"), "the app has no `script`"));
    };
    let script = source.text(script_node, &path("script"))?;
    let name = match find("name") {
        Some(name) => source.text(name, &path("name"))?,
        None => base_name(&script),
    };
    let mut item = Item {
        name: name.clone(),
        origin: format!("app `{name}` (line {})", node.line),
        restart: Some("always"),
        // PM2 stops an app with SIGINT, and kills it 1.6 s later by default.
        stop_signal: Some("INT".to_owned()),
        grace: Some(Duration::from_millis(1600)),
        ..Item::default()
    };
    let mut args = Vec::new();
    let mut interpreter = None;
    let mut interpreter_args = Vec::new();
    for (key, value) in entries {
        let path = path(key);
        let ms = || source.number(value, &path).map(|n| Duration::from_millis(n as u64));
        match key.as_str() {
            "name" | "script" => {}
            "args" => args = arguments(source, value, &path)?,
            "interpreter" | "exec_interpreter" => interpreter = Some(source.text(value, &path)?),
            "interpreter_args" | "node_args" => interpreter_args = arguments(source, value, &path)?,
            "cwd" => item.dir = Some(source.text(value, &path)?),
            "env" => item.env = source.env(value, &path)?,
            "autorestart" => {
                item.restart = Some(if source.flag(value, &path)? { "always" } else { "never" });
            }
            "max_restarts" => {
                item.max_restarts = Some(source.count(value, &path)?);
                item.notes.push("max_restarts: PM2 counts only quick (unstable) restarts; tend counts every one".to_owned());
            }
            "restart_delay" => {
                // A fixed delay: tend doubles its delay up to `restart_max_delay`.
                let delay = ms()?;
                item.restart_delay = Some(delay);
                item.restart_max_delay = Some(delay);
            }
            "exp_backoff_restart_delay" => {
                item.restart_delay = Some(ms()?);
                item.restart_max_delay = Some(PM2_MAX_BACKOFF);
            }
            "kill_timeout" => item.grace = Some(ms()?),
            "log_file" => item.log = Some(source.text(value, &path)?),
            "out_file" | "error_file" | "output" | "error" => item.unmapped.push(Unmapped::new(
                value.line,
                &path,
                "tend writes both streams into one file, `log` (PM2's `log_file`)",
            )),
            // The defaults: one process, forked.
            "instances" if source.count(value, &path).ok() == Some(1) => {}
            "exec_mode" if source.text(value, &path).is_ok_and(|mode| mode.contains("fork")) => {}
            "instances" | "exec_mode" => item.unmapped.push(Unmapped::new(
                value.line,
                &path,
                "tend runs one instance; define more services for more",
            )),
            key if key.starts_with("env_") => item.unmapped.push(Unmapped::new(
                value.line,
                &path,
                "an environment for `pm2 start --env`: tend.toml has one `env`; put it in its own file",
            )),
            _ => item.unmapped.push(Unmapped::new(value.line, &path, "no tend.toml equivalent")),
        }
    }
    let interpreter = match interpreter {
        Some(given) if given == "none" => None,
        Some(given) => Some(given),
        None => {
            INTERPRETERS.iter().find(|(ext, _)| script.ends_with(ext)).map(|(_, i)| (*i).to_owned())
        }
    };
    item.command = match interpreter {
        Some(interpreter) => {
            let mut all = interpreter_args;
            all.push(script);
            all.extend(args);
            Command::Program { command: interpreter, args: all }
        }
        None => Command::Program { command: script, args },
    };
    Ok(item)
}

/// `args`: a list, or a string split into words.
fn arguments(source: Source<'_>, node: &Node, path: &str) -> Result<Vec<String>, UsageError> {
    match &node.value {
        Value::List(_) => source.texts(node, path),
        _ => words::split(&source.text(node, path)?)
            .map_err(|message| source.error(node.line, path, message)),
    }
}

/// PM2's default name: the script's file name without its extension.
fn base_name(script: &str) -> String {
    let file = script.rsplit('/').next().unwrap_or(script);
    match file.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_owned(),
        _ => file.to_owned(),
    }
}
