//! The lines `tend up` writes into a service's prefixed stream when something happens to it,
//! in order with the service's own output:
//!
//! | when | line |
//! | --- | --- |
//! | a run starts | `db | started with pid 4242`, later runs `db | started with pid 4250 (restart 2)` |
//! | a run passes its `ready` probe | `db | ready after 1.2s (tcp 127.0.0.1:5432)` (nothing without a probe: started is ready) |
//! | its liveness checks fail | `web | not alive: http://127.0.0.1:8080/health: 500 (3 failures); stopping` |
//! | a run ended and another follows | `web | exited with code 1; restart 3 in 2s` |
//! | it is asked to stop | `db | stopping` (not again right after `not alive: …; stopping`) |
//! | its outcome is final | `db | stopped`, `db | exited with code 0`, `db | failed: not ready after 60s: …`, `web | skipped because `db` failed`, `web | cancelled before it started` |
//!
//! Times are as the summary shows them (`412ms`, `1.2s`, `2m05s`), delays as written in files
//! (`500ms`, `2s`, `1m30s`). The text after the prefix is made terminal-safe: probes, reasons
//! and errors quote addresses, commands and process output.

use std::time::Duration;

use tend::runner::{ServiceReport, ServiceStatus, StepEvent};

use crate::durations::human;
use crate::terminal_safe;

/// The line a run's start gets: `started with pid 4242`, and ` (restart N)` from the second.
pub(crate) fn started(pid: u32, run: u32) -> String {
    if run > 1 {
        format!("started with pid {pid} (restart {})", run - 1)
    } else {
        format!("started with pid {pid}")
    }
}

/// The line a runner event gets in its service's stream, and the service it belongs to; `None`
/// for the events of steps and for a ready without a probe. Starts are told from the
/// process events instead (see [`started`]): they come before the run's first output line.
pub(crate) fn line(event: &StepEvent) -> Option<(&str, String)> {
    let (service, text) = match event {
        StepEvent::Ready { service, after, probe: Some(probe), .. } => {
            (service, format!("ready after {} ({probe})", human(*after)))
        }
        StepEvent::NotAlive { service, reason } => {
            (service, format!("not alive: {reason}; stopping"))
        }
        StepEvent::Restarting { service, restart, delay, reason } => {
            (service, format!("{reason}; restart {restart} in {}", delay_text(*delay)))
        }
        StepEvent::Stopping { service } => (service, "stopping".to_owned()),
        StepEvent::ServiceFinished(report) => (&report.name, finished(report)),
        _ => return None,
    };
    Some((service.as_str(), terminal_safe::escape_owned(text)))
}

/// `stopped`, `exited with code 0`, `failed: REASON`; for a service that never ran, its
/// error, which already says `skipped because …` or `cancelled before it started`.
fn finished(report: &ServiceReport) -> String {
    let status = report.status.as_str();
    match (report.status, &report.error) {
        (ServiceStatus::Exited, None) => match report.exit_code {
            Some(code) => format!("exited with code {code}"),
            None => status.to_owned(),
        },
        (_, Some(error)) if error.starts_with(status) => error.clone(),
        (_, Some(error)) => format!("{status}: {error}"),
        (_, None) => status.to_owned(),
    }
}

/// A pause as a file would write it: `500ms`, `2s`, `1.5s`, `1m30s`.
pub(crate) fn delay_text(delay: Duration) -> String {
    let ms = delay.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 && !ms.is_multiple_of(1000) {
        format!("{:.1}s", delay.as_secs_f64())
    } else {
        // Whole seconds: humantime's `1m 30s`, without its spaces.
        let seconds = Duration::from_secs(delay.as_secs());
        humantime::format_duration(seconds).to_string().replace(' ', "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(status: ServiceStatus, exit_code: Option<i32>, error: Option<&str>) -> ServiceReport {
        ServiceReport {
            name: "db".to_owned(),
            status,
            restarts: 0,
            ready_after_ms: None,
            exit_code,
            signal: None,
            error: error.map(str::to_owned),
            blocked_by: None,
            process_id: None,
        }
    }

    fn text(event: StepEvent) -> Option<String> {
        line(&event).map(|(service, text)| format!("{service} | {text}"))
    }

    #[test]
    fn the_lines_of_the_issue() {
        let ready = StepEvent::Ready {
            service: "db".into(),
            run: 1,
            after: Duration::from_millis(1234),
            probe: Some("tcp 127.0.0.1:5432".into()),
        };
        assert_eq!(text(ready).unwrap(), "db | ready after 1.2s (tcp 127.0.0.1:5432)");
        let restarting = StepEvent::Restarting {
            service: "web".into(),
            restart: 3,
            delay: Duration::from_secs(2),
            reason: "exited with code 1".into(),
        };
        assert_eq!(text(restarting).unwrap(), "web | exited with code 1; restart 3 in 2s");
        let not_alive = StepEvent::NotAlive {
            service: "web".into(),
            reason: "http://127.0.0.1:8080/health: 500 (3 failures)".into(),
        };
        assert_eq!(
            text(not_alive).unwrap(),
            "web | not alive: http://127.0.0.1:8080/health: 500 (3 failures); stopping"
        );
        let stopped = StepEvent::ServiceFinished(report(ServiceStatus::Stopped, None, None));
        assert_eq!(text(stopped).unwrap(), "db | stopped");
        let failed = StepEvent::ServiceFinished(report(
            ServiceStatus::Failed,
            None,
            Some("not ready after 60s: tcp 127.0.0.1:5432: connection refused"),
        ));
        assert_eq!(
            text(failed).unwrap(),
            "db | failed: not ready after 60s: tcp 127.0.0.1:5432: connection refused"
        );
        assert_eq!(text(StepEvent::Stopping { service: "db".into() }).unwrap(), "db | stopping");
    }

    #[test]
    fn starts_count_restarts_and_a_ready_without_probe_says_nothing() {
        assert_eq!(started(4242, 1), "started with pid 4242");
        assert_eq!(started(4250, 3), "started with pid 4250 (restart 2)");
        let bare = StepEvent::Ready {
            service: "db".into(),
            run: 1,
            after: Duration::from_millis(3),
            probe: None,
        };
        assert_eq!(text(bare), None);
        let step = StepEvent::Started {
            step: "build".into(),
            attempt: 1,
            process: "00000000-0000-0000-0000-000000000007".parse().unwrap(),
        };
        assert_eq!(text(step), None);
    }

    #[test]
    fn final_outcomes_read_as_sentences() {
        let exited = report(ServiceStatus::Exited, Some(0), None);
        assert_eq!(finished(&exited), "exited with code 0");
        let skipped = report(ServiceStatus::Skipped, None, Some("skipped because `db` failed"));
        assert_eq!(finished(&skipped), "skipped because `db` failed");
        let cancelled = report(ServiceStatus::Cancelled, None, Some("cancelled before it started"));
        assert_eq!(finished(&cancelled), "cancelled before it started");
        let out_of_restarts = report(ServiceStatus::Failed, Some(1), Some("exited with code 1"));
        assert_eq!(finished(&out_of_restarts), "failed: exited with code 1");
        assert_eq!(finished(&report(ServiceStatus::Failed, None, None)), "failed");
    }

    #[test]
    fn reasons_cannot_drive_the_terminal() {
        let not_alive = StepEvent::NotAlive {
            service: "web".into(),
            reason: "exec `printf '\x1b[2J'`: exit 1\nFAKE | line".into(),
        };
        let (_, text) = line(&not_alive).unwrap();
        assert!(!text.contains('\x1b') && !text.contains('\n'), "{text:?}");
    }

    #[test]
    fn delays_read_as_written() {
        assert_eq!(delay_text(Duration::from_millis(500)), "500ms");
        assert_eq!(delay_text(Duration::from_secs(2)), "2s");
        assert_eq!(delay_text(Duration::from_millis(1500)), "1.5s");
        assert_eq!(delay_text(Duration::from_secs(90)), "1m30s");
        assert_eq!(delay_text(Duration::from_millis(90_400)), "1m30s");
    }
}
