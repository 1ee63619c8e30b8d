//! The live progress line: how many steps run, are done, and failed (step names escaped),
//! and how many services are ready.
//!
//! The bar counts steps only, so it fills when the last step ends even while services keep
//! running; with no steps there is no bar, only the spinner, the time and the message. A bar
//! that could never fill is never shown.

use std::collections::HashSet;
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
    /// Whether there are steps at all (without, the message is about services only).
    steps: bool,
    /// The services' names: their runs start with the same event as a step's attempt.
    services: HashSet<String>,
    /// Services whose current run is ready.
    ready: HashSet<String>,
}

impl Progress {
    /// A progress line for `steps` steps and these services, drawn on stdout.
    pub(crate) fn new(steps: usize, services: impl IntoIterator<Item = String>) -> Self {
        let counts = Counts {
            steps: steps > 0,
            services: services.into_iter().collect(),
            ..Counts::default()
        };
        let (bar, template) = if counts.steps || counts.services.is_empty() {
            let bar =
                ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stdout());
            (bar, "{spinner:.cyan} [{elapsed}] {bar:24.cyan/blue} {pos}/{len} {wide_msg}")
        } else {
            (
                ProgressBar::with_draw_target(None, ProgressDrawTarget::stdout()),
                "{spinner:.cyan} [{elapsed}] {wide_msg}",
            )
        };
        let style = ProgressStyle::with_template(template)
            .expect("the template is valid")
            .progress_chars("=> ");
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(100));
        let progress = Self { bar, state: Arc::new(Mutex::new(counts)) };
        progress.render(&progress.state.lock().unwrap_or_else(|e| e.into_inner()));
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
            StepEvent::Started { step, .. } if counts.services.contains(step) => {}
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
            StepEvent::Ready { service, .. } => {
                counts.ready.insert(service.clone());
            }
            StepEvent::NotAlive { service, .. }
            | StepEvent::Restarting { service, .. }
            | StepEvent::Stopping { service } => {
                counts.ready.remove(service);
            }
            StepEvent::ServiceFinished(report) => {
                counts.ready.remove(&report.name);
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

/// `running 2 (a, b) · done 1 · failed 0`, the step names terminal-safe; with services
/// `2/3 services ready · ` before it (first: a narrow terminal cuts the end of the line), or
/// alone when there are no steps.
fn message(counts: &Counts) -> String {
    let services = (!counts.services.is_empty())
        .then(|| format!("{}/{} services ready", counts.ready.len(), counts.services.len()));
    match services {
        None => steps_message(counts),
        Some(services) if !counts.steps => services,
        Some(services) => format!("{services} · {}", steps_message(counts)),
    }
}

fn steps_message(counts: &Counts) -> String {
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
            steps: true,
            ..Counts::default()
        };
        assert_eq!(message(&counts), "running 4 (evil\\e[2J\\nFAKE, b, c, +1) · done 1 · failed 0");
    }

    fn ready(service: &str) -> StepEvent {
        StepEvent::Ready {
            service: service.into(),
            run: 1,
            after: Duration::from_millis(5),
            probe: None,
        }
    }

    #[test]
    fn services_are_counted_ready_and_never_as_running_steps() {
        let names = ["db", "web", "worker"].map(String::from);
        let progress = Progress::new(1, names.clone());
        let pid = "00000000-0000-0000-0000-000000000001".parse().unwrap();
        progress.observe(&StepEvent::Started { step: "db".into(), attempt: 1, process: pid });
        progress.observe(&StepEvent::Started { step: "test".into(), attempt: 1, process: pid });
        progress.observe(&ready("db"));
        progress.observe(&ready("web"));
        let message = || progress.bar.message();
        assert_eq!(message(), "2/3 services ready · running 1 (test) · done 0 · failed 0");
        progress.observe(&StepEvent::Restarting {
            service: "web".into(),
            restart: 1,
            delay: Duration::from_secs(1),
            reason: "exited with code 1".into(),
        });
        assert_eq!(message(), "1/3 services ready · running 1 (test) · done 0 · failed 0");
        progress.observe(&ready("web"));
        progress.observe(&ready("web"));
        assert_eq!(message(), "2/3 services ready · running 1 (test) · done 0 · failed 0");
        // The bar counts the one step: it can fill.
        assert_eq!(progress.bar.length(), Some(1));
    }

    #[test]
    fn without_steps_the_line_is_about_services_and_has_no_bar() {
        let progress = Progress::new(0, ["web".to_owned()]);
        assert_eq!(progress.bar.message(), "0/1 services ready");
        progress.observe(&ready("web"));
        assert_eq!(progress.bar.message(), "1/1 services ready");
        assert_eq!(progress.bar.length(), None);
        progress.observe(&StepEvent::Stopping { service: "web".into() });
        assert_eq!(progress.bar.message(), "0/1 services ready");
    }
}
