//! `/metrics`: Prometheus text exposition of the supervisor's state and counters.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use tend::{ProcessInfo, Status};

use crate::state::ServerState;

/// Counters the server keeps itself (the event counters live in the event log).
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    /// WebSocket clients connected now.
    pub(crate) ws_clients: AtomicU64,
    /// Events WebSocket clients were told they missed (`lagged`), in total.
    pub(crate) ws_missed: AtomicU64,
    /// Requests refused by authentication or the Host/Origin checks.
    pub(crate) refused: AtomicU64,
}

const STATUSES: [Status; 6] = [
    Status::Queued,
    Status::Pending,
    Status::Running,
    Status::Exited,
    Status::Failed,
    Status::Killed,
];

/// Renders every metric in the Prometheus text format (version 0.0.4).
pub(crate) fn render(state: &ServerState) -> String {
    let mut by_status: BTreeMap<String, u64> =
        STATUSES.iter().map(|s| (s.to_string(), 0)).collect();
    let processes = state.service().list();
    for info in &processes {
        *by_status.entry(info.status.to_string()).or_default() += 1;
    }
    let totals = state.event_log().totals();
    let metrics = &state.inner.metrics;
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, u64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let labelled: Vec<(String, u64)> =
        by_status.iter().map(|(s, n)| (format!("{{status=\"{s}\"}}"), *n)).collect();
    let labelled: Vec<(&str, u64)> = labelled.iter().map(|(l, n)| (l.as_str(), *n)).collect();
    metric("tend_processes", "gauge", "Managed processes in the table, by status.", &labelled);
    metric("tend_process_starts_total", "counter", "Processes started.", &[("", totals.starts)]);
    metric("tend_process_exits_total", "counter", "Processes ended.", &[("", totals.exits)]);
    metric("tend_process_restarts_total", "counter", "Restarts.", &[("", totals.restarts)]);
    metric(
        "tend_output_bytes_total",
        "counter",
        "Bytes of output lines read from managed processes.",
        &[("", totals.output_bytes)],
    );
    metric(
        "tend_websocket_clients",
        "gauge",
        "WebSocket event clients connected.",
        &[("", metrics.ws_clients.load(Ordering::Relaxed))],
    );
    metric(
        "tend_websocket_missed_events_total",
        "counter",
        "Events WebSocket clients fell too far behind to receive (reported as lagged).",
        &[("", metrics.ws_missed.load(Ordering::Relaxed))],
    );
    metric("tend_event_log_events", "gauge", "Events held for replay.", &[("", totals.held)]);
    metric(
        "tend_event_log_bytes",
        "gauge",
        "Bytes the events held for replay cost (line bytes and bookkeeping).",
        &[("", totals.held_bytes)],
    );
    let backlog = state.service().event_backlog();
    metric(
        "tend_event_bus_events",
        "gauge",
        "Events the service's bus holds for subscribers that have not read them.",
        &[("", backlog.events)],
    );
    metric(
        "tend_event_bus_bytes",
        "gauge",
        "Bytes those events cost.",
        &[("", backlog.bytes as u64)],
    );
    metric(
        "tend_event_log_evicted_total",
        "counter",
        "Events evicted from the replay log.",
        &[("", totals.evicted)],
    );
    metric(
        "tend_event_log_missed_total",
        "counter",
        "Events the replay log missed because it fell behind the service (event lag).",
        &[("", totals.feeder_missed)],
    );
    metric(
        "tend_event_log_lag",
        "gauge",
        "Events the service has published that the replay log has not taken in yet.",
        &[("", state.service().last_seq().saturating_sub(totals.followed_seq))],
    );
    metric(
        "tend_requests_refused_total",
        "counter",
        "Requests refused by the token, Host or Origin checks.",
        &[("", metrics.refused.load(Ordering::Relaxed))],
    );
    metric(
        "tend_log_write_errors_total",
        "counter",
        "Writes to (or opens of) processes' log files that failed: full disk, no permission.",
        &[("", tend::logfile::write_errors_total())],
    );
    render_usage(&mut out, &processes);
    out
}

/// Per-process CPU and memory of each running, sampled process's group. Gauges: CPU time
/// goes back to zero when a process restarts, and can drop when a member exits unreaped.
fn render_usage(out: &mut String, processes: &[ProcessInfo]) {
    let sampled: Vec<(&ProcessInfo, f64, u64)> = processes
        .iter()
        .filter_map(|info| Some((info, info.cpu_seconds?, info.memory_bytes?)))
        .collect();
    let _ = writeln!(
        out,
        "# HELP tend_process_cpu_seconds_total CPU time of a running process's group in its \
         current run, in seconds.\n# TYPE tend_process_cpu_seconds_total gauge"
    );
    for (info, seconds, _) in &sampled {
        let _ = writeln!(out, "tend_process_cpu_seconds_total{} {seconds}", labels(info));
    }
    let _ = writeln!(
        out,
        "# HELP tend_process_memory_bytes Resident memory of a running process's group, in \
         bytes.\n# TYPE tend_process_memory_bytes gauge"
    );
    for (info, _, bytes) in &sampled {
        let _ = writeln!(out, "tend_process_memory_bytes{} {bytes}", labels(info));
    }
}

/// `{id="…",name="…",project="…"}`, values escaped as the text format requires.
fn labels(info: &ProcessInfo) -> String {
    let escape =
        |value: &str| value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    let name = info.name.as_deref().unwrap_or("");
    let project = info.labels.get("project").map_or("", String::as_str);
    format!("{{id=\"{}\",name=\"{}\",project=\"{}\"}}", info.id, escape(name), escape(project))
}
