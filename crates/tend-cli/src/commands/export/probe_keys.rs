//! A service's `ready` and `alive` tables as the exporters need them: what the probe asks,
//! its timings with the library's defaults, and the `tend probe` command that waits for it.

use std::time::Duration;

use serde_json::Value;
use tend::probe::{
    DEFAULT_FAILURES, DEFAULT_INITIAL_DELAY, DEFAULT_LIVENESS_INTERVAL, DEFAULT_READY_INTERVAL,
    DEFAULT_READY_TIMEOUT, HttpProbe,
};

use crate::UsageError;
use crate::commands::up::project_file::duration;

/// A `ready` or `alive` table.
#[derive(Debug, Clone)]
pub(super) struct ProbeKeys {
    pub(super) target: Target,
    pub(super) interval: Duration,
    /// `ready` only; zero or [`tend::FOREVER`] and more: never.
    pub(super) timeout: Duration,
    pub(super) initial_delay: Duration,
    /// `alive` only.
    pub(super) failures: u32,
}

/// What a probe asks.
#[derive(Debug, Clone)]
pub(super) enum Target {
    Tcp {
        host: String,
        port: u16,
    },
    Http {
        url: String,
        port: u16,
        path: String,
    },
    Exec(String),
    /// A `log` probe, which only a supervisor reading the output can ask.
    Log,
}

impl Target {
    /// The port a tcp or http probe names.
    pub(super) fn port(&self) -> Option<u16> {
        match self {
            Target::Tcp { port, .. } | Target::Http { port, .. } => Some(*port),
            Target::Exec(_) | Target::Log => None,
        }
    }
}

impl ProbeKeys {
    /// `tend probe KIND TARGET --timeout T --interval I` after `tend` (`None` for `log`).
    /// `host` replaces the probe's own host for tcp and http (another pod's Service name).
    pub(super) fn probe_command(&self, tend: &str, host: Option<&str>) -> Option<Vec<String>> {
        let (kind, target) = match &self.target {
            Target::Tcp { host: own, port } => {
                ("tcp", format!("{}:{port}", host_text(host.unwrap_or(own))))
            }
            Target::Http { url, port, path, .. } => match host {
                Some(other) => ("http", format!("http://{}:{port}{path}", host_text(other))),
                None => ("http", url.clone()),
            },
            Target::Exec(command) => ("exec", command.clone()),
            Target::Log => return None,
        };
        let mut argv = vec![tend.to_owned(), "probe".into(), kind.into(), target];
        argv.extend([
            "--timeout".into(),
            span(self.timeout),
            "--interval".into(),
            span(self.interval),
        ]);
        Some(argv)
    }

    /// Whether the readiness wait never ends.
    pub(super) fn waits_for_ever(&self) -> bool {
        self.timeout.is_zero() || self.timeout >= tend::FOREVER
    }
}

/// An IPv6 host in brackets.
fn host_text(host: &str) -> String {
    if host.contains(':') { format!("[{host}]") } else { host.to_owned() }
}

/// A duration as `tend probe` and systemd both read it: `250ms`, `30s`.
pub(super) fn span(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms.is_multiple_of(1000) { format!("{}s", ms / 1000) } else { format!("{ms}ms") }
}

/// A `ready` (`alive`) table of service `name`, defaults filled in. The loader checked it.
pub(super) fn probe_keys(name: &str, key: &str, table: &Value) -> Result<ProbeKeys, UsageError> {
    let text = |kind: &str| table.get(kind).and_then(Value::as_str).map(str::to_owned);
    let bad = |what: String| UsageError(format!("service `{name}`: `{key}`: {what}"));
    let target = if let Some(address) = text("tcp") {
        let (host, port) = address
            .trim()
            .rsplit_once(':')
            .ok_or_else(|| bad(format!("`{address}` is not HOST:PORT")))?;
        let port = port.parse().map_err(|_| bad(format!("`{address}` has no valid port")))?;
        Target::Tcp { host: host.trim_matches(['[', ']']).to_owned(), port }
    } else if let Some(url) = text("http") {
        let probe = HttpProbe::new(&url).map_err(|e| bad(e.to_string()))?;
        let (_, port) =
            probe.address().rsplit_once(':').ok_or_else(|| bad(format!("`{url}` has no port")))?;
        let port = port.parse().map_err(|_| bad(format!("`{url}` has no valid port")))?;
        Target::Http { url: probe.url().to_owned(), port, path: probe.path().to_owned() }
    } else if let Some(command) = text("exec") {
        Target::Exec(command)
    } else if text("log").is_some() {
        Target::Log
    } else {
        return Err(bad("no probe kind".into()));
    };
    let ready = key == "ready";
    let default_interval = if ready { DEFAULT_READY_INTERVAL } else { DEFAULT_LIVENESS_INTERVAL };
    Ok(ProbeKeys {
        target,
        interval: duration(table, "interval").unwrap_or(default_interval),
        timeout: duration(table, "timeout").unwrap_or(DEFAULT_READY_TIMEOUT),
        initial_delay: duration(table, "initial_delay").unwrap_or(DEFAULT_INITIAL_DELAY),
        failures: table
            .get("failures")
            .and_then(Value::as_u64)
            .map_or(DEFAULT_FAILURES, |n| u32::try_from(n).unwrap_or(u32::MAX).max(1)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_systemd_and_tend_read_them() {
        assert_eq!(span(Duration::from_millis(250)), "250ms");
        assert_eq!(span(Duration::from_secs(30)), "30s");
    }

    #[test]
    fn a_wait_for_another_host_keeps_the_port_and_path() {
        let table =
            serde_json::json!({"http": "http://127.0.0.1:8080/health?x=1", "timeout": "5s"});
        let keys = probe_keys("api", "ready", &table).unwrap();
        let argv = keys.probe_command("tend", Some("api")).unwrap();
        assert_eq!(
            argv,
            [
                "tend",
                "probe",
                "http",
                "http://api:8080/health?x=1",
                "--timeout",
                "5s",
                "--interval",
                "250ms"
            ]
        );
        let table = serde_json::json!({"tcp": "[::1]:5432"});
        let argv = probe_keys("db", "ready", &table).unwrap().probe_command("tend", None).unwrap();
        assert_eq!(argv[3], "[::1]:5432");
    }
}
