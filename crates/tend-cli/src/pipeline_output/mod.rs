//! How `tend up` shows a run: the output of steps and services prefixed with their names,
//! the services' lifecycle lines in their streams, a live progress line on a terminal, and a
//! summary table at the end.
//!
//! On a terminal (stdout is one and `NO_COLOR` is unset or empty) names and statuses are
//! coloured and an indicatif progress line counts running, done and failed steps and ready
//! services. Otherwise the same lines come plain, without the progress line, so logs stay
//! greppable.

mod held_lines;
mod lifecycle;
mod lines;
mod progress;
mod style;
mod summary;

pub(crate) use lines::LinePrinter;
pub(crate) use progress::Progress;
pub(crate) use style::{Look, Out, Prefixes};
pub(crate) use summary::{print_failed_output, print_summary};
