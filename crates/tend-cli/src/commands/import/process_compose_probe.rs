//! process-compose's `readiness_probe` and `liveness_probe` as tend's `ready` and `alive`
//! tables, and `ready_log_line` as a `log` probe.

use super::model::{Probe, Unmapped, seconds};
use super::node::{Node, Source, Value, number_text};
use crate::UsageError;

/// A readiness (`alive` false) or liveness probe; `None` when it has no `exec` or `http_get`.
pub(super) fn probe(
    source: Source<'_>,
    unmapped: &mut Vec<Unmapped>,
    node: &Node,
    path: &str,
    alive: bool,
) -> Result<Option<Probe>, UsageError> {
    let mut probe = Probe::default();
    for (key, value) in source.map(node, path)? {
        let path = format!("{path}.{key}");
        let number = || source.number(value, &path);
        match key.as_str() {
            "exec" => {
                for (key, value) in source.map(value, &path)? {
                    let path = format!("{path}.{key}");
                    match key.as_str() {
                        "command" => {
                            probe.kind = "exec";
                            probe.target = source.text(value, &path)?;
                        }
                        _ => unmapped.push(Unmapped::new(
                            value.line,
                            path,
                            "an exec probe runs in the service's `dir`",
                        )),
                    }
                }
            }
            "http_get" => {
                probe.kind = "http";
                probe.target = http_url(source, unmapped, value, &path)?;
            }
            "period_seconds" => probe.interval = seconds(number()?),
            "initial_delay_seconds" if !alive => probe.initial_delay = seconds(number()?),
            "failure_threshold" if alive => {
                probe.failures = Some(source.count(value, &path)?.max(1))
            }
            "success_threshold" if source.count(value, &path).ok() == Some(1) => {}
            _ => unmapped.push(Unmapped::new(value.line, path, probe_hint(key, alive))),
        }
    }
    if probe.kind.is_empty() {
        unmapped.push(Unmapped::new(node.line, path, "a probe without `exec` or `http_get`"));
        return Ok(None);
    }
    Ok(Some(probe))
}

fn probe_hint(key: &str, alive: bool) -> &'static str {
    match key {
        "timeout_seconds" => "tend gives each check no timeout of its own",
        "initial_delay_seconds" => "tend checks liveness from the moment the service is ready",
        "failure_threshold" if !alive => {
            "tend keeps checking readiness until `ready.timeout` (60s by default)"
        }
        "success_threshold" => "one passing check is enough for tend",
        _ => "no tend.toml equivalent",
    }
}

/// The URL of an `http_get` probe: `scheme://host:port/path`.
fn http_url(
    source: Source<'_>,
    unmapped: &mut Vec<Unmapped>,
    node: &Node,
    path: &str,
) -> Result<String, UsageError> {
    let (mut scheme, mut host, mut port, mut target) =
        ("http".to_owned(), "127.0.0.1".to_owned(), None, "/".to_owned());
    for (key, value) in source.map(node, path)? {
        let path = format!("{path}.{key}");
        match key.as_str() {
            "scheme" => scheme = source.text(value, &path)?.to_ascii_lowercase(),
            "host" => host = source.text(value, &path)?,
            "port" => {
                port = Some(match &value.value {
                    Value::Number(number) => number_text(*number),
                    _ => source.text(value, &path)?,
                })
            }
            "path" => target = source.text(value, &path)?,
            _ => unmapped.push(Unmapped::new(value.line, path, "no tend.toml equivalent")),
        }
    }
    if !target.starts_with('/') {
        target.insert(0, '/');
    }
    Ok(match port {
        Some(port) => format!("{scheme}://{host}:{port}{target}"),
        None => format!("{scheme}://{host}{target}"),
    })
}

/// `text` as a regex matching it literally.
pub(super) fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
