//! The commented tend.toml an import writes: a header naming the source, the top-level
//! `env`, a table per step and service in the source's order, and every source key without an
//! equivalent as a `# unmapped:` comment where it was found.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::model::{Command, Imported, Item, Probe, Unmapped};

/// The file's text. `source` names the imported file, `format` its kind.
pub(super) fn write(imported: &Imported, source: &str, format: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# tend.toml imported by `tend import` from {source} ({format}).");
    out.push_str(
        "# Source keys with no tend.toml equivalent are kept below as `# unmapped:` comments.\n",
    );
    if !imported.unmapped.is_empty() {
        out.push('\n');
        unmapped_lines(&mut out, &imported.unmapped);
    }
    if !imported.env.is_empty() {
        let _ = writeln!(out, "\nenv = {}", inline_table(&imported.env));
    }
    for item in &imported.items {
        out.push('\n');
        write_item(&mut out, item);
    }
    out
}

fn write_item(out: &mut String, item: &Item) {
    let kind = if item.step { "steps" } else { "services" };
    let _ = writeln!(out, "[{kind}.{}]", key(&item.name));
    let _ = writeln!(out, "# {}", item.origin);
    for note in &item.notes {
        let _ = writeln!(out, "# {note}");
    }
    match &item.command {
        Command::Program { command, args } => {
            let _ = writeln!(out, "command = {}", string(command));
            if !args.is_empty() {
                let _ = writeln!(out, "args = {}", list(args));
            }
        }
        Command::Script(script) => {
            let _ = writeln!(out, "run = {}", string(script));
        }
    }
    let mut line = |name: &str, value: String| {
        let _ = writeln!(out, "{name} = {value}");
    };
    if let Some(dir) = &item.dir {
        line("dir", string(dir));
    }
    if !item.env.is_empty() {
        line("env", inline_table(&item.env));
    }
    if !item.after.is_empty() {
        line("after", list(&item.after));
    }
    if item.allow_failure {
        line("allow_failure", "true".to_owned());
    }
    if let Some(ready) = &item.ready {
        line("ready", probe(ready));
    }
    if let Some(alive) = &item.alive {
        line("alive", probe(alive));
    }
    if let Some(restart) = item.restart {
        line("restart", string(restart));
    }
    if let Some(max) = item.max_restarts {
        line("max_restarts", max.to_string());
    }
    if let Some(delay) = item.restart_delay {
        line("restart_delay", duration(delay));
    }
    if let Some(delay) = item.restart_max_delay {
        line("restart_max_delay", duration(delay));
    }
    if let Some(signal) = &item.stop_signal {
        line("stop_signal", string(signal));
    }
    if let Some(grace) = item.grace {
        line("grace", duration(grace));
    }
    if let Some(log) = &item.log {
        line("log", string(log));
    }
    if let Some(size) = item.log_max_size {
        line("log_max_size", size.to_string());
    }
    if let Some(keep) = item.log_keep {
        line("log_keep", keep.to_string());
    }
    unmapped_lines(out, &item.unmapped);
}

fn unmapped_lines(out: &mut String, unmapped: &[Unmapped]) {
    for entry in unmapped {
        let text = format!("`{}` (line {}): {}", entry.key, entry.line, entry.why);
        // One comment line per line of the text, so a newline in a key stays a comment.
        for (i, part) in text.lines().enumerate() {
            let lead = if i == 0 { "# unmapped: " } else { "#   " };
            let _ = writeln!(out, "{lead}{part}");
        }
    }
}

fn probe(probe: &Probe) -> String {
    let mut parts = vec![format!("{} = {}", probe.kind, string(&probe.target))];
    let timing = [
        ("interval", probe.interval),
        ("timeout", probe.timeout),
        ("initial_delay", probe.initial_delay),
    ];
    for (name, value) in timing {
        if let Some(value) = value {
            parts.push(format!("{name} = {}", duration(value)));
        }
    }
    if let Some(failures) = probe.failures {
        parts.push(format!("failures = {failures}"));
    }
    format!("{{ {} }}", parts.join(", "))
}

/// A duration as a humantime string: whole seconds as `5s`, else milliseconds.
pub(super) fn duration(value: Duration) -> String {
    let ms = value.as_millis();
    if ms.is_multiple_of(1000) { format!("\"{}s\"", ms / 1000) } else { format!("\"{ms}ms\"") }
}

fn inline_table(table: &BTreeMap<String, String>) -> String {
    let pairs: Vec<String> =
        table.iter().map(|(name, value)| format!("{} = {}", key(name), string(value))).collect();
    format!("{{ {} }}", pairs.join(", "))
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| string(item)).collect();
    format!("[{}]", quoted.join(", "))
}

/// A bare key when TOML allows one, else a quoted key.
fn key(name: &str) -> String {
    let bare =
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { name.to_owned() } else { string(name) }
}

/// A TOML basic string: `"`, `\` and control characters escaped, everything else as is.
pub(super) fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_survive_a_toml_reader() {
        let text = "a \"quoted\" \\ back\nslash\t\u{1b}[2J é $HOME %s";
        let parsed: toml_check::Doc = toml_check::parse(&format!("v = {}", string(text)));
        assert_eq!(parsed.v, text);
    }

    #[test]
    fn durations_are_whole_seconds_or_milliseconds() {
        assert_eq!(duration(Duration::from_secs(5)), "\"5s\"");
        assert_eq!(duration(Duration::from_millis(1600)), "\"1600ms\"");
    }

    /// The string check goes through tend's own TOML reader (a step's `run`).
    mod toml_check {
        pub(super) struct Doc {
            pub(super) v: String,
        }

        pub(super) fn parse(line: &str) -> Doc {
            let text = format!("[steps.a]\nrun = {}\n", line.trim_start_matches("v = "));
            let pipeline = tend::runner::parse_toml(&text).expect("valid TOML");
            let step = pipeline.steps().first().expect("one step");
            match &step.command {
                tend::runner::StepCommand::Script(script) => Doc { v: script.clone() },
                other => panic!("{other:?}"),
            }
        }
    }
}
