//! The summary printed when a run is over (a table of the steps, then one of the services, and
//! a verdict line), and for `--quiet` the output of failed steps and the reasons of failed
//! services.

use std::fmt::Write as _;

use tend::runner::{Report, ServiceReport, ServiceStatus, StepStatus};

use super::lifecycle;
use super::style::{Look, Out, Prefixes};
use crate::durations::human;
use crate::table::Table;

/// Prints one row per step (declaration order), one per service, and a line of totals. A run
/// without services prints what it always did; a run without steps has no step table.
pub(crate) fn print_summary(report: &Report, look: Look, out: &Out) {
    out.write(&summary(report, look));
}

fn summary(report: &Report, look: Look) -> String {
    let mut text = String::from("\n");
    if !report.steps.is_empty() || report.services.is_empty() {
        push_table(&mut text, look, step_table(report), |row| colour(report.steps[row].status));
    }
    if !report.services.is_empty() {
        if !report.steps.is_empty() {
            text.push('\n');
        }
        push_table(&mut text, look, service_table(&report.services), |row| {
            service_colour(report.services[row].status)
        });
    }
    let totals = report.totals;
    let mut parts = Vec::new();
    if !report.steps.is_empty() || report.services.is_empty() {
        parts.push(format!("{} passed", totals.passed));
        parts.push(format!("{} failed", totals.failed));
        if totals.allowed_failures > 0 {
            parts.push(format!("{} allowed to fail", totals.allowed_failures));
        }
        parts.push(format!("{} skipped", totals.skipped));
        parts.push(format!("{} cancelled", totals.cancelled));
    }
    let mut counts = parts.join(", ");
    if let Some(services) = service_counts(&report.services) {
        if !counts.is_empty() {
            counts.push_str("; ");
        }
        counts.push_str(&services);
    }
    let verdict =
        if report.success { look.paint("ok", "1;32") } else { look.paint("FAILED", "1;31") };
    let _ = writeln!(text, "\n{verdict}: {counts} in {}", human(report.duration()));
    text
}

/// Appends the table's lines, its header bold and its STATUS column (the second) coloured.
fn push_table(text: &mut String, look: Look, table: Table, colour: impl Fn(usize) -> &'static str) {
    let (header, rows) = table
        .lines(|row, column, cell| if column == 1 { look.paint(&cell, colour(row)) } else { cell });
    let _ = writeln!(text, "{}", look.paint(&header, "1"));
    for row in rows {
        let _ = writeln!(text, "{row}");
    }
}

fn step_table(report: &Report) -> Table {
    // STATUS and TIME keep fixed minimum widths (the longest status, `allowed_failure`, and
    // `59m59s`-ish times) so summaries of different runs line up.
    let mut table = Table::new(&["STEP", "STATUS", "EXIT", "TIME", "NOTE"])
        .min_width(1, 15)
        .right(2)
        .right(3)
        .min_width(3, 8);
    for step in &report.steps {
        let exit = exit_cell(step.exit_code, step.signal);
        let time = step.duration().map_or_else(|| "-".to_owned(), human);
        let note = match &step.error {
            Some(error) => error.clone(),
            None if step.attempts > 1 => format!("passed on attempt {}", step.attempts),
            None => String::new(),
        };
        table.push(vec![step.name.clone(), step.status.as_str().to_owned(), exit, time, note]);
    }
    table
}

/// SERVICE, STATUS, RESTARTS, EXIT (of its last run), READY (time from its first start to its
/// first ready), NOTE (why it failed, was skipped or cancelled).
fn service_table(services: &[ServiceReport]) -> Table {
    // The same widths as the step table's STATUS and TIME columns, so the two line up.
    let mut table = Table::new(&["SERVICE", "STATUS", "RESTARTS", "EXIT", "READY", "NOTE"])
        .min_width(1, 15)
        .right(2)
        .right(3)
        .right(4)
        .min_width(4, 8);
    for service in services {
        table.push(service_row(service));
    }
    table
}

fn service_row(service: &ServiceReport) -> Vec<String> {
    vec![
        service.name.clone(),
        service.status.as_str().to_owned(),
        service.restarts.to_string(),
        exit_cell(service.exit_code, service.signal),
        service.ready_after().map_or_else(|| "-".to_owned(), human),
        service.error.clone().unwrap_or_default(),
    ]
}

/// An exit code, else the signal's short name (`TERM`), else `-`.
fn exit_cell(code: Option<i32>, signal: Option<tend::Signal>) -> String {
    match (code, signal) {
        (Some(code), _) => code.to_string(),
        (None, Some(signal)) => signal.short_name().to_owned(),
        (None, None) => "-".to_owned(),
    }
}

/// `services: 2 stopped, 1 failed` (the statuses that occurred, in a fixed order); `None`
/// without services.
fn service_counts(services: &[ServiceReport]) -> Option<String> {
    if services.is_empty() {
        return None;
    }
    let order = [
        ServiceStatus::Stopped,
        ServiceStatus::Exited,
        ServiceStatus::Failed,
        ServiceStatus::Skipped,
        ServiceStatus::Cancelled,
    ];
    let counts: Vec<String> = order
        .iter()
        .filter_map(|&status| {
            let n = services.iter().filter(|s| s.status == status).count();
            (n > 0).then(|| format!("{n} {status}"))
        })
        .collect();
    Some(format!("services: {}", counts.join(", ")))
}

/// Prints the captured output of every step that failed or timed out, prefixed as live output
/// would have been, then the final line of every service that failed (`db | failed: …`).
pub(crate) fn print_failed_output(report: &Report, prefixes: &Prefixes, out: &Out) {
    let mut text = String::new();
    for (index, step) in report.steps.iter().enumerate() {
        if !step.status.is_failure() {
            continue;
        }
        for line in step.output.lines() {
            text.push_str(prefixes.get(index));
            text.push_str(line.strip_suffix('\r').unwrap_or(line));
            text.push('\n');
        }
    }
    let first_service = report.steps.len();
    for (index, service) in report.services.iter().enumerate() {
        if !service.status.is_failure() {
            continue;
        }
        let finished = tend::runner::StepEvent::ServiceFinished(service.clone());
        if let Some((_, line)) = lifecycle::line(&finished) {
            text.push_str(prefixes.get(first_service + index));
            text.push_str(&line);
            text.push('\n');
        }
    }
    out.write(&text);
}

fn colour(status: StepStatus) -> &'static str {
    match status {
        StepStatus::Passed => "32",
        StepStatus::Failed | StepStatus::TimedOut => "31",
        StepStatus::AllowedFailure => "33",
        StepStatus::Skipped | StepStatus::Cancelled => "2",
    }
}

fn service_colour(status: ServiceStatus) -> &'static str {
    match status {
        ServiceStatus::Stopped | ServiceStatus::Exited => "32",
        ServiceStatus::Failed => "31",
        ServiceStatus::Skipped | ServiceStatus::Cancelled => "2",
    }
}

#[cfg(test)]
mod tests {
    use tend::Signal;
    use tend::runner::{Mode, StepReport, Totals};

    use super::*;

    const PLAIN: Look = Look { fancy: false };

    fn report(steps: Vec<StepReport>, services: Vec<ServiceReport>, success: bool) -> Report {
        let mut totals = Totals::default();
        for step in &steps {
            match step.status {
                StepStatus::Passed => totals.passed += 1,
                _ => totals.failed += 1,
            }
        }
        Report {
            mode: Mode::Dag,
            success,
            duration_ms: 3200.0,
            totals,
            steps,
            services,
            ended_by: None,
        }
    }

    fn step(name: &str, status: StepStatus, exit_code: Option<i32>) -> StepReport {
        StepReport {
            name: name.to_owned(),
            status,
            exit_code,
            signal: None,
            duration_ms: Some(412.0),
            output: String::new(),
            error: None,
            attempts: 1,
            blocked_by: None,
            process_id: None,
            started_at: None,
        }
    }

    fn service(name: &str, status: ServiceStatus) -> ServiceReport {
        ServiceReport {
            name: name.to_owned(),
            status,
            restarts: 0,
            ready_after_ms: None,
            exit_code: None,
            signal: None,
            error: None,
            blocked_by: None,
            process_id: None,
        }
    }

    #[test]
    fn a_run_of_steps_only_is_summed_up_as_before() {
        let text =
            summary(&report(vec![step("build", StepStatus::Passed, Some(0))], vec![], true), PLAIN);
        assert_eq!(
            text,
            "\nSTEP   STATUS           EXIT      TIME  NOTE\n\
             build  passed              0     412ms\n\
             \nok: 1 passed, 0 failed, 0 skipped, 0 cancelled in 3.2s\n"
        );
    }

    #[test]
    fn services_get_a_row_each_after_the_steps() {
        let mut db = service("db", ServiceStatus::Stopped);
        db.ready_after_ms = Some(1234.0);
        db.signal = Some(Signal::TERM);
        let mut web = service("web", ServiceStatus::Failed);
        web.restarts = 3;
        web.exit_code = Some(1);
        web.error = Some("exited with code 1; out of restarts".into());
        let mut api = service("api", ServiceStatus::Skipped);
        api.error = Some("skipped because `web` failed".into());
        let steps = vec![step("migrate", StepStatus::Passed, Some(0))];
        let text = summary(&report(steps, vec![db, web, api], false), PLAIN);
        assert_eq!(
            text,
            "\nSTEP     STATUS           EXIT      TIME  NOTE\n\
             migrate  passed              0     412ms\n\
             \n\
             SERVICE  STATUS           RESTARTS  EXIT     READY  NOTE\n\
             db       stopped                 0  TERM      1.2s\n\
             web      failed                  3     1         -  exited with code 1; out of restarts\n\
             api      skipped                 0     -         -  skipped because `web` failed\n\
             \nFAILED: 1 passed, 0 failed, 0 skipped, 0 cancelled; services: 1 stopped, 1 failed, 1 skipped in 3.2s\n"
        );
    }

    #[test]
    fn a_procfile_run_has_no_step_table() {
        let text =
            summary(&report(vec![], vec![service("web", ServiceStatus::Exited)], true), PLAIN);
        assert!(!text.contains("STEP"), "{text}");
        assert!(text.contains("\nSERVICE  STATUS"), "{text}");
        assert!(text.ends_with("\nok: services: 1 exited in 3.2s\n"), "{text}");
    }

    #[test]
    fn statuses_are_coloured_on_a_terminal() {
        let fancy = Look { fancy: true };
        let text =
            summary(&report(vec![], vec![service("db", ServiceStatus::Failed)], false), fancy);
        assert!(text.contains("\x1b[31mfailed"), "{text:?}");
        let text =
            summary(&report(vec![], vec![service("db", ServiceStatus::Stopped)], true), fancy);
        assert!(text.contains("\x1b[32mstopped"), "{text:?}");
    }
}
