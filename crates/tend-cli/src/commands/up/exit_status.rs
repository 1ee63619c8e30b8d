//! The exit status of `tend up`, from the report and how the run ended.
//!
//! | status | when |
//! | --- | --- |
//! | 0 | the run succeeded: every step passed (or was allowed to fail), no service `failed`, was `skipped` or `cancelled`; this includes Ctrl-C or SIGTERM once every step had finished |
//! | 1 | a step or a service failed (or was skipped or cancelled because of a failure) |
//! | 2 | usage or file error (decided before the run, elsewhere) |
//! | 130 | Ctrl-C or SIGTERM while steps were still running |
//! | the first ended process's | a Procfile: its exit code, or 128 + N when signal N ended it |

use tend::runner::Report;

/// Ctrl-C or SIGTERM while steps still ran (128 + SIGINT, as shells report it).
pub(crate) const INTERRUPTED: i32 = 130;
/// A step or a service failed.
pub(crate) const FAILED: i32 = 1;

/// How the run ended, besides its report.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ending {
    /// The first Ctrl-C or SIGTERM came while some step had no final outcome yet.
    pub(crate) interrupted_during_steps: bool,
    /// The file was a Procfile: the first process to end decides the status.
    pub(crate) procfile: bool,
}

/// The exit status for `report`; see the module docs.
pub(crate) fn exit_status(report: &Report, ending: Ending) -> i32 {
    if ending.interrupted_during_steps {
        return INTERRUPTED;
    }
    if ending.procfile {
        let first = report
            .ended_by
            .as_deref()
            .and_then(|name| report.services.iter().find(|service| service.name == name));
        if let Some(first) = first {
            match (first.exit_code, first.signal) {
                (Some(code), _) => return code,
                (None, Some(signal)) => return 128 + signal.number(),
                // It could not even start: no status of its own to pass on.
                (None, None) => return FAILED,
            }
        }
    }
    if report.success { 0 } else { FAILED }
}

#[cfg(test)]
mod tests {
    use tend::Signal;
    use tend::runner::{Mode, ServiceReport, ServiceStatus, Totals};

    use super::*;

    fn service(name: &str, status: ServiceStatus) -> ServiceReport {
        ServiceReport {
            name: name.to_owned(),
            status,
            restarts: 0,
            ready_after_ms: Some(1.0),
            exit_code: None,
            signal: None,
            error: None,
            blocked_by: None,
            process_id: None,
        }
    }

    fn report(success: bool, services: Vec<ServiceReport>, ended_by: Option<&str>) -> Report {
        Report {
            mode: Mode::Dag,
            success,
            duration_ms: 10.0,
            totals: Totals::default(),
            steps: Vec::new(),
            services,
            ended_by: ended_by.map(str::to_owned),
        }
    }

    const STACK: Ending = Ending { interrupted_during_steps: false, procfile: false };
    const PROCFILE: Ending = Ending { interrupted_during_steps: false, procfile: true };

    #[test]
    fn success_failure_and_an_interrupt_during_steps() {
        let stopped = vec![service("db", ServiceStatus::Stopped)];
        assert_eq!(exit_status(&report(true, stopped.clone(), None), STACK), 0);
        assert_eq!(exit_status(&report(false, stopped.clone(), None), STACK), 1);
        let during = Ending { interrupted_during_steps: true, ..STACK };
        assert_eq!(exit_status(&report(true, stopped.clone(), None), during), 130);
        assert_eq!(exit_status(&report(false, stopped, None), during), 130);
    }

    #[test]
    fn a_procfile_exits_with_the_status_of_the_process_that_ended_first() {
        let mut web = service("web", ServiceStatus::Failed);
        web.exit_code = Some(3);
        let mut worker = service("worker", ServiceStatus::Stopped);
        worker.signal = Some(Signal::TERM);
        let services = vec![worker.clone(), web.clone()];
        assert_eq!(exit_status(&report(false, services.clone(), Some("web")), PROCFILE), 3);
        // The same report from a stack file: the usual 1.
        assert_eq!(exit_status(&report(false, services, Some("web")), STACK), 1);

        let mut killed = service("web", ServiceStatus::Failed);
        killed.signal = Some(Signal::KILL);
        let services = vec![worker.clone(), killed];
        assert_eq!(exit_status(&report(false, services, Some("web")), PROCFILE), 128 + 9);

        let mut clean = service("web", ServiceStatus::Exited);
        clean.exit_code = Some(0);
        let services = vec![worker.clone(), clean];
        assert_eq!(exit_status(&report(true, services, Some("web")), PROCFILE), 0);

        let never_started = service("web", ServiceStatus::Failed);
        let services = vec![worker, never_started];
        assert_eq!(exit_status(&report(false, services, Some("web")), PROCFILE), 1);
    }

    #[test]
    fn a_procfile_stopped_by_ctrl_c_exits_like_a_stack() {
        let mut web = service("web", ServiceStatus::Stopped);
        web.signal = Some(Signal::TERM);
        assert_eq!(exit_status(&report(true, vec![web.clone()], None), PROCFILE), 0);
        assert_eq!(exit_status(&report(false, vec![web], None), PROCFILE), 1);
    }
}
