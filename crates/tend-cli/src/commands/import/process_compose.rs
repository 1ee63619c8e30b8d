//! process-compose.yaml → tend.toml.
//!
//! Each process becomes a service run with bash (process-compose runs `command` with a shell),
//! or a step when it does not restart (`availability.restart: no`, the default) and another
//! process waits for it to complete (`process_completed*`). `depends_on` becomes `after`
//! (every condition waits for the dependency to be ready, or to have passed for a step), the
//! probes `ready`/`alive`, `availability` the restart keys, `shutdown` the stop keys.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{Command, Imported, Item, Probe, Unmapped, seconds, signal_name};
use super::node::{Node, Source};
use super::process_compose_probe::{probe, regex_escape};
use crate::UsageError;

/// The conditions of `depends_on` that wait for the dependency to have ended.
const COMPLETED: [&str; 2] = ["process_completed", "process_completed_successfully"];

/// Reads the process-compose file `root` (already parsed) into an import.
pub(super) fn convert(source: Source<'_>, root: &Node) -> Result<Imported, UsageError> {
    let mut imported = Imported::default();
    let mut processes = None;
    for (key, node) in source.map(root, "the file")? {
        match key.as_str() {
            "processes" => processes = Some(node),
            "environment" => imported.env = source.env(node, key)?,
            "version" => {}
            "log_location" => imported.unmapped.push(Unmapped::new(
                node.line,
                key,
                "one log of every process; tend writes a log per service (`log`) and prefixes the \
                 lines of all of them on its own output",
            )),
            _ => imported.unmapped.push(Unmapped::new(node.line, key, "no tend.toml equivalent")),
        }
    }
    let Some(processes) = processes else {
        return Err(source.error(
            root.line,
            "processes",
            "a process-compose file needs `processes`",
        ));
    };
    let entries = source.map(processes, "processes")?;
    if entries.is_empty() {
        return Err(source.error(processes.line, "processes", "no process is defined"));
    }
    let disabled = disabled(source, entries)?;
    let steps = steps(source, entries, &disabled)?;
    for (name, node) in entries {
        if disabled.contains(name.as_str()) {
            imported.unmapped.push(Unmapped::new(
                node.line,
                format!("processes.{name}.disabled"),
                "the process is disabled: left out",
            ));
            continue;
        }
        let step = steps.get(name.as_str()).copied();
        imported.items.push(process(source, name, node, step, &disabled)?);
    }
    Ok(imported)
}

/// The processes with `disabled: true`.
fn disabled<'a>(
    source: Source<'_>,
    entries: &'a [(String, Node)],
) -> Result<BTreeSet<&'a str>, UsageError> {
    let mut disabled = BTreeSet::new();
    for (name, node) in entries {
        let found =
            source.map(node, &format!("processes.{name}"))?.iter().find(|(k, _)| k == "disabled");
        if let Some((_, flag)) = found
            && source.flag(flag, &format!("processes.{name}.disabled"))?
        {
            disabled.insert(name.as_str());
        }
    }
    Ok(disabled)
}

/// The processes that become steps: never restarted, and waited for with `process_completed*`;
/// each with `allow_failure` when every wait on it is `process_completed` (any exit will do).
fn steps<'a>(
    source: Source<'_>,
    entries: &'a [(String, Node)],
    disabled: &BTreeSet<&str>,
) -> Result<BTreeMap<&'a str, bool>, UsageError> {
    let mut waits: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, node) in entries {
        let path = format!("processes.{name}.depends_on");
        let Some((_, depends)) = source.map(node, &path)?.iter().find(|(k, _)| k == "depends_on")
        else {
            continue;
        };
        for (dependency, entry) in source.map(depends, &path)? {
            let condition = condition_of(source, entry, &format!("{path}.{dependency}"))?;
            let known = entries.iter().find(|(other, _)| other == dependency);
            let Some((dependency, _)) = known else {
                return Err(source.error(
                    entry.line,
                    &path,
                    format!("no process is named `{dependency}`"),
                ));
            };
            if COMPLETED.contains(&condition) && !disabled.contains(dependency.as_str()) {
                waits.entry(dependency.as_str()).or_default().push(condition);
            }
        }
    }
    let mut steps = BTreeMap::new();
    for (name, conditions) in waits {
        let node = &entries.iter().find(|(other, _)| other == name).expect("a known process").1;
        if restart_policy(source, name, node)? == "no" {
            steps.insert(name, conditions.iter().all(|c| *c == "process_completed"));
        }
    }
    Ok(steps)
}

/// The `condition` of one `depends_on` entry (`process_started` when absent).
fn condition_of(source: Source<'_>, node: &Node, path: &str) -> Result<&'static str, UsageError> {
    let given = match source.map(node, path)?.iter().find(|(k, _)| k == "condition") {
        Some((_, condition)) => source.text(condition, &format!("{path}.condition"))?,
        None => return Ok("process_started"),
    };
    const KNOWN: [&str; 5] = [
        "process_started",
        "process_healthy",
        "process_log_ready",
        "process_completed",
        "process_completed_successfully",
    ];
    KNOWN.into_iter().find(|known| *known == given).ok_or_else(|| {
        source.error(
            node.line,
            &format!("{path}.condition"),
            format!("unknown condition `{given}` (expected one of: {})", KNOWN.join(", ")),
        )
    })
}

/// `availability.restart` of a process (`no` when absent, process-compose's default).
fn restart_policy(source: Source<'_>, name: &str, node: &Node) -> Result<String, UsageError> {
    let path = format!("processes.{name}.availability");
    let Some((_, availability)) =
        source.map(node, &path)?.iter().find(|(k, _)| k == "availability")
    else {
        return Ok("no".to_owned());
    };
    match source.map(availability, &path)?.iter().find(|(k, _)| k == "restart") {
        Some((_, restart)) => source.text(restart, &format!("{path}.restart")),
        None => Ok("no".to_owned()),
    }
}

/// One process; `step` is `Some(allow_failure)` when it becomes a step.
fn process(
    source: Source<'_>,
    name: &str,
    node: &Node,
    step: Option<bool>,
    disabled: &BTreeSet<&str>,
) -> Result<Item, UsageError> {
    let mut item = Item {
        name: name.to_owned(),
        step: step.is_some(),
        allow_failure: step == Some(true),
        origin: format!("process `{name}` (line {})", node.line),
        ..Item::default()
    };
    if step.is_some() {
        item.notes.push(
            "a step: it does not restart, and another process waits for it to complete".to_owned(),
        );
    } else {
        item.restart = Some("never");
    }
    let mut command = None;
    let entries = source.map(node, &format!("processes.{name}"))?;
    for (key, value) in entries {
        let path = format!("processes.{name}.{key}");
        let only_services = step.is_some()
            && matches!(
                key.as_str(),
                "readiness_probe"
                    | "liveness_probe"
                    | "log_location"
                    | "ready_log_line"
                    | "log_configuration"
            );
        if only_services {
            item.unmapped.push(Unmapped::new(
                value.line,
                &path,
                "a step has no such key (it runs once, to completion)",
            ));
            continue;
        }
        match key.as_str() {
            "command" => command = Some(source.text(value, &path)?),
            "working_dir" => item.dir = Some(source.text(value, &path)?),
            "environment" => item.env = source.env(value, &path)?,
            "log_location" => item.log = Some(source.text(value, &path)?),
            "description" => item.notes.push(source.text(value, &path)?),
            "disabled" => {}
            "depends_on" => depends_on(source, &mut item, value, &path, disabled)?,
            "availability" => availability(source, &mut item, value, &path, step.is_some())?,
            "shutdown" => shutdown(source, &mut item, value, &path, step.is_some())?,
            "readiness_probe" => {
                item.ready = probe(source, &mut item.unmapped, value, &path, false)?
            }
            "liveness_probe" => item.alive = probe(source, &mut item.unmapped, value, &path, true)?,
            // tend has one `ready` probe: the readiness probe, when there is one, wins.
            "ready_log_line" if entries.iter().any(|(key, _)| key == "readiness_probe") => {
                item.unmapped.push(Unmapped::new(
                    value.line,
                    &path,
                    "a service has one `ready` probe in tend: the readiness_probe is kept",
                ));
            }
            "ready_log_line" => {
                let line = source.text(value, &path)?;
                item.ready =
                    Some(Probe { kind: "log", target: regex_escape(&line), ..Probe::default() });
            }
            "log_configuration" => log_configuration(source, &mut item, value, &path)?,
            "replicas" if source.count(value, &path).ok() == Some(1) => {}
            "replicas" => item.unmapped.push(Unmapped::new(
                value.line,
                &path,
                "tend runs one process per service; define more services for more",
            )),
            "namespace" => item.unmapped.push(Unmapped::new(
                value.line,
                &path,
                "tend has no namespaces: every service is started by `tend up`",
            )),
            _ => item.unmapped.push(Unmapped::new(value.line, &path, "no tend.toml equivalent")),
        }
    }
    let Some(command) = command else {
        return Err(source.error(
            node.line,
            &format!("processes.{name}"),
            "the process has no `command`",
        ));
    };
    item.command = Command::Script(command);
    if item.log.is_none() && (item.log_max_size.is_some() || item.log_keep.is_some()) {
        item.log_max_size = None;
        item.log_keep = None;
        let path = format!("processes.{name}.log_configuration.rotation");
        item.unmapped.push(Unmapped::new(
            node.line,
            path,
            "rotation without `log_location`: no log file to rotate",
        ));
    }
    Ok(item)
}

fn depends_on(
    source: Source<'_>,
    item: &mut Item,
    node: &Node,
    path: &str,
    disabled: &BTreeSet<&str>,
) -> Result<(), UsageError> {
    for (dependency, entry) in source.map(node, path)? {
        let key = format!("{path}.{dependency}");
        if disabled.contains(dependency.as_str()) {
            item.unmapped.push(Unmapped::new(
                entry.line,
                key,
                "the dependency is disabled and left out",
            ));
            continue;
        }
        let condition = condition_of(source, entry, &key)?;
        if condition == "process_started" {
            item.notes.push(format!(
                "after `{dependency}`: started (with a `ready` probe on it, once it is ready)"
            ));
        }
        item.after.push(dependency.clone());
    }
    Ok(())
}

fn availability(
    source: Source<'_>,
    item: &mut Item,
    node: &Node,
    path: &str,
    step: bool,
) -> Result<(), UsageError> {
    for (key, value) in source.map(node, path)? {
        let path = format!("{path}.{key}");
        if step && key != "restart" {
            item.unmapped.push(Unmapped::new(value.line, path, "a step does not restart"));
            continue;
        }
        match key.as_str() {
            "restart" => {
                let policy = source.text(value, &path)?;
                let mapped = match policy.as_str() {
                    "always" => "always",
                    "on_failure" | "on-failure" => "on_failure",
                    "no" => "never",
                    "exit_on_failure" => {
                        item.unmapped.push(Unmapped::new(
                            value.line,
                            &path,
                            "`exit_on_failure` ends every process when this one fails; tend does \
                             not restart it (`restart = \"never\"`) and runs the others on",
                        ));
                        "never"
                    }
                    other => {
                        return Err(source.error(value.line, &path, format!(
                            "unknown restart policy `{other}` (expected always, on_failure, exit_on_failure or no)"
                        )));
                    }
                };
                if !step {
                    item.restart = Some(mapped);
                }
            }
            "backoff_seconds" => {
                // A fixed delay: tend doubles its delay up to `restart_max_delay`.
                let delay = seconds(source.number(value, &path)?);
                item.restart_delay = delay;
                item.restart_max_delay = delay;
            }
            "max_restarts" => {
                let max = source.count(value, &path)?;
                // process-compose: 0 is no limit, tend's default.
                if max > 0 {
                    item.max_restarts = Some(max);
                }
            }
            _ => item.unmapped.push(Unmapped::new(value.line, path, "no tend.toml equivalent")),
        }
    }
    Ok(())
}

fn shutdown(
    source: Source<'_>,
    item: &mut Item,
    node: &Node,
    path: &str,
    step: bool,
) -> Result<(), UsageError> {
    for (key, value) in source.map(node, path)? {
        let path = format!("{path}.{key}");
        match key.as_str() {
            "timeout_seconds" => item.grace = seconds(source.number(value, &path)?),
            "signal" if step => item.unmapped.push(Unmapped::new(value.line, path, "a step is stopped with TERM")),
            "signal" => {
                let given = source.text(value, &path)?;
                let name = signal_name(&given)
                    .ok_or_else(|| source.error(value.line, &path, format!("unknown signal `{given}`")))?;
                item.stop_signal = Some(name);
            }
            "command" => item.unmapped.push(Unmapped::new(
                value.line,
                path,
                "tend stops a service with `stop_signal`; run the command from the service itself on that signal",
            )),
            _ => item.unmapped.push(Unmapped::new(value.line, path, "no tend.toml equivalent")),
        }
    }
    Ok(())
}

fn log_configuration(
    source: Source<'_>,
    item: &mut Item,
    node: &Node,
    path: &str,
) -> Result<(), UsageError> {
    for (key, value) in source.map(node, path)? {
        let path = format!("{path}.{key}");
        if key != "rotation" {
            item.unmapped.push(Unmapped::new(value.line, path, "no tend.toml equivalent"));
            continue;
        }
        for (key, value) in source.map(value, &path)? {
            let path = format!("{path}.{key}");
            match key.as_str() {
                "max_size_mb" => {
                    item.log_max_size = Some(source.count(value, &path)? * 1024 * 1024)
                }
                "max_backups" => item.log_keep = Some(source.count(value, &path)?),
                _ => {
                    item.unmapped.push(Unmapped::new(value.line, path, "tend rotates by size only"))
                }
            }
        }
    }
    Ok(())
}
