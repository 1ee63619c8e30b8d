//! The live progress line: how many steps run, are done, and failed (step names escaped).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tend::runner::StepEvent;

use crate::terminal_safe;

/// How many running step names the line shows before it says "+N".
const NAMES_SHOWN: usize = 3;

/// The progress line, updated from the runner's events (from any thread).
#[derive(Debug, Clone)]
pub(crate) struct Progress {
    bar: ProgressBar,
    state: Arc<Mutex<Counts>>,
}

#[derive(Debug, Default)]
struct Counts {
    /// Running steps, in the order they started.
    running: Vec<String>,
    done: usize,
    failed: usize,
}

impl Progress {
    /// A progress line for `total` steps, drawn on stdout.
    pub(crate) fn new(total: usize) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stdout());
        let style = ProgressStyle::with_template(
            "{spinner:.cyan} [{elapsed}] {bar:24.cyan/blue} {pos}/{len} {wide_msg}",
        )
        .expect("the template is valid")
        .progress_chars("=> ");
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(100));
        let progress = Self { bar, state: Arc::default() };
        progress.render(&Counts::default());
        progress
    }

    /// The bar, for printing above it.
    pub(crate) fn bar(&self) -> ProgressBar {
        self.bar.clone()
    }

    /// Takes one runner event into account.
    pub(crate) fn observe(&self, event: &StepEvent) {
        let mut counts = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            // A retry starts the same step again.
            StepEvent::Started { step, .. } if !counts.running.contains(step) => {
                counts.running.push(step.clone());
            }
            StepEvent::Finished(report) => {
                counts.running.retain(|name| *name != report.name);
                counts.done += 1;
                if report.status.is_failure() {
                    counts.failed += 1;
                }
                self.bar.inc(1);
            }
            _ => {}
        }
        self.render(&counts);
    }

    fn render(&self, counts: &Counts) {
        self.bar.set_message(message(counts));
    }

    /// Removes the line, before the summary is printed.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// `running 2 (a, b) · done 1 · failed 0`, the step names terminal-safe.
fn message(counts: &Counts) -> String {
    let mut names = counts
        .running
        .iter()
        .take(NAMES_SHOWN)
        .map(|name| terminal_safe::escape_owned(name.clone()))
        .collect::<Vec<_>>();
    if counts.running.len() > NAMES_SHOWN {
        names.push(format!("+{}", counts.running.len() - NAMES_SHOWN));
    }
    let running = if names.is_empty() { String::new() } else { format!(" ({})", names.join(", ")) };
    format!(
        "running {}{running} · done {} · failed {}",
        counts.running.len(),
        counts.done,
        counts.failed
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_names_are_shown_terminal_safe() {
        let counts = Counts {
            running: vec!["evil\x1b[2J\nFAKE".into(), "b".into(), "c".into(), "d".into()],
            done: 1,
            failed: 0,
        };
        assert_eq!(message(&counts), "running 4 (evil\\e[2J\\nFAKE, b, c, +1) · done 1 · failed 0");
    }
}
