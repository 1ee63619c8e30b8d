//! The keys a format has no equivalent for: each is named on stderr with what to do
//! instead, so nothing of the stack file is dropped in silence.

use super::model::{Unit, described};

/// The notes of one export, in the order they were found.
#[derive(Debug)]
pub(super) struct Notes {
    /// `systemd`, `kubernetes` or `nomad`.
    format: &'static str,
    lines: Vec<String>,
}

impl Notes {
    pub(super) fn new(format: &'static str) -> Notes {
        Notes { format, lines: Vec::new() }
    }

    /// `unit`'s `key` is not (or only partly) carried over: `advice` says what to do.
    pub(super) fn key(&mut self, unit: &Unit, key: &str, advice: impl AsRef<str>) {
        let line = format!("{}: `{key}`: {}", described(unit), advice.as_ref());
        // A step several services need is exported with each: one note is enough.
        if !self.lines.contains(&line) {
            self.lines.push(line);
        }
    }

    /// A note about the whole file's `key`.
    pub(super) fn file_key(&mut self, key: &str, advice: impl AsRef<str>) {
        self.lines.push(format!("the file's `{key}`: {}", advice.as_ref()));
    }

    /// Writes every note to stderr, one a line: `tend export systemd: service `web`:
    /// `alive`: …`.
    pub(super) fn print(&self) {
        for line in &self.lines {
            eprintln!("tend export {}: {line}", self.format);
        }
    }
}
