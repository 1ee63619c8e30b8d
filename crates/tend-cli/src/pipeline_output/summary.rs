//! The summary table printed when a run is over, and the output of failed steps for `--quiet`.

use std::fmt::Write as _;

use tend::runner::{Report, StepStatus};

use super::style::{Look, Out, Prefixes};
use crate::durations::human;
use crate::table::Table;

/// Prints one row per step (declaration order) and a line of totals.
pub(crate) fn print_summary(report: &Report, look: Look, out: &Out) {
    // STATUS and TIME keep fixed minimum widths (the longest status, `allowed_failure`, and
    // `59m59s`-ish times) so summaries of different runs line up.
    let mut table = Table::new(&["STEP", "STATUS", "EXIT", "TIME", "NOTE"])
        .min_width(1, 15)
        .right(2)
        .right(3)
        .min_width(3, 8);
    for step in &report.steps {
        let exit = match (step.exit_code, step.signal) {
            (Some(code), _) => code.to_string(),
            (None, Some(signal)) => signal.short_name().to_owned(),
            (None, None) => "-".to_owned(),
        };
        let time = step.duration().map_or_else(|| "-".to_owned(), human);
        let note = match &step.error {
            Some(error) => error.clone(),
            None if step.attempts > 1 => format!("passed on attempt {}", step.attempts),
            None => String::new(),
        };
        table.push(vec![step.name.clone(), step.status.as_str().to_owned(), exit, time, note]);
    }
    let (header, rows) = table.lines(|row, column, cell| {
        if column == 1 { look.paint(&cell, colour(report.steps[row].status)) } else { cell }
    });
    let mut text = String::from("\n");
    let _ = writeln!(text, "{}", look.paint(&header, "1"));
    for row in rows {
        let _ = writeln!(text, "{row}");
    }
    let totals = report.totals;
    let mut parts = vec![format!("{} passed", totals.passed), format!("{} failed", totals.failed)];
    if totals.allowed_failures > 0 {
        parts.push(format!("{} allowed to fail", totals.allowed_failures));
    }
    parts.push(format!("{} skipped", totals.skipped));
    parts.push(format!("{} cancelled", totals.cancelled));
    let verdict =
        if report.success { look.paint("ok", "1;32") } else { look.paint("FAILED", "1;31") };
    let _ = writeln!(text, "\n{verdict}: {} in {}", parts.join(", "), human(report.duration()));
    out.write(&text);
}

/// Prints the captured output of every step that failed or timed out, prefixed as live output
/// would have been.
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
