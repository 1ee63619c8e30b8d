//! Colours, the step and service name prefixes, and where lines go while a progress line is shown.

use std::io::{IsTerminal, Write};

use indicatif::ProgressBar;
use tend::runner::Pipeline;

use crate::terminal_safe;

/// Whether to colour and show the progress line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Look {
    /// ANSI colours and the progress line: stdout is a terminal and `NO_COLOR` is not set.
    pub(crate) fancy: bool,
}

impl Look {
    /// Decides from stdout and `NO_COLOR` (set and non-empty disables colour, as
    /// <https://no-color.org> says).
    pub(crate) fn detect() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self { fancy: std::io::stdout().is_terminal() && !no_color }
    }

    /// `text` in the SGR colour `code` when fancy, else as it is.
    pub(crate) fn paint(self, text: &str, code: &str) -> String {
        if self.fancy { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
    }
}

/// Step colours, chosen by declaration order: cyan, yellow, green, magenta, blue, red, in
/// bold so they stand apart from the steps' own colours.
const PALETTE: [&str; 6] = ["1;36", "1;33", "1;32", "1;35", "1;34", "1;31"];

/// The `name | ` prefix of each step, then of each service, padded to the longest name and
/// coloured, its control characters escaped.
#[derive(Debug, Clone)]
pub(crate) struct Prefixes {
    prefixes: Vec<String>,
}

impl Prefixes {
    pub(crate) fn new(pipeline: &Pipeline, look: Look) -> Self {
        // Names are shown terminal-safe: the output that follows is the process's own business,
        // but the prefix must not be able to move the cursor or start a fake line.
        let names: Vec<_> = node_names(pipeline).map(terminal_safe::escape).collect();
        let width = names.iter().map(|name| name.chars().count()).max().unwrap_or(0);
        let prefixes = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let padded = format!("{name:<width$}");
                format!("{} | ", look.paint(&padded, PALETTE[i % PALETTE.len()]))
            })
            .collect();
        Self { prefixes }
    }

    /// The prefix of node `index`: the steps in declaration order, then the services.
    pub(crate) fn get(&self, index: usize) -> &str {
        &self.prefixes[index]
    }
}

/// The names of the steps in declaration order, then of the services: node `i` of the run.
pub(crate) fn node_names(pipeline: &Pipeline) -> impl Iterator<Item = &str> {
    let steps = pipeline.steps().iter().map(|step| step.name.as_str());
    steps.chain(pipeline.services().iter().map(|service| service.name.as_str()))
}

/// Our stdout, shared with the progress line when there is one: text written while the bar
/// is shown goes above it instead of through it.
#[derive(Debug, Clone)]
pub(crate) enum Out {
    Plain,
    Above(ProgressBar),
    /// Kept in memory, for tests to read what would have been printed.
    #[cfg(test)]
    Captured(std::sync::Arc<std::sync::Mutex<String>>),
}

impl Out {
    /// Writes `text` (whole lines) to stdout at once. A closed stdout is ignored: the run goes
    /// on and its exit status still tells.
    pub(crate) fn write(&self, text: &str) {
        let write = || {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(text.as_bytes());
            let _ = stdout.flush();
        };
        match self {
            Out::Plain => write(),
            Out::Above(bar) => bar.suspend(write),
            #[cfg(test)]
            Out::Captured(text_so_far) => text_so_far.lock().unwrap().push_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use tend::runner::{ServiceSpec, Step};

    use super::*;

    #[test]
    fn services_are_prefixed_after_the_steps_with_one_width() {
        let steps = vec![Step::script("migrate", "true")];
        let services = vec![ServiceSpec::script("db", "true"), ServiceSpec::script("web", "true")];
        let pipeline = Pipeline::with_services(steps, services).unwrap();
        let prefixes = Prefixes::new(&pipeline, Look { fancy: false });
        assert_eq!(prefixes.get(0), "migrate | ");
        assert_eq!(prefixes.get(1), "db      | ");
        assert_eq!(prefixes.get(2), "web     | ");
    }
}
