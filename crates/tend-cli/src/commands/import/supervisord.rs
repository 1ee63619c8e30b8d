//! supervisord.conf → tend.toml.
//!
//! Each `[program:NAME]` becomes a service running its `command` split into words as
//! supervisord splits it (no shell). `priority` becomes ordering: a program runs `after` the
//! programs of the next lower priority, so they start in supervisord's order and stop in its
//! reverse. `[supervisord] environment` becomes the top-level `env`. Other sections and keys
//! with no equivalent are listed.

use std::collections::BTreeMap;

use super::ini::{Entry, Section};
use super::model::{Command, Imported, Item, Unmapped, seconds, signal_name};
use super::words;
use crate::UsageError;

/// supervisord's default `priority`.
const DEFAULT_PRIORITY: i64 = 999;

/// Reads the parsed `sections` of `file` (its directory is `%(here)s`) into an import.
pub(super) fn convert(
    file: &str,
    here: &str,
    sections: &[Section],
) -> Result<Imported, UsageError> {
    let mut imported = Imported::default();
    let mut programs = Vec::new();
    for section in sections {
        let expand = Expand { file, here, program: None };
        if let Some(name) = section.name.strip_prefix("program:") {
            let expand = Expand { program: Some(name), ..expand };
            programs.push(program(&expand, name, section)?);
            continue;
        }
        if section.name == "supervisord" {
            for entry in &section.entries {
                if entry.key == "environment" {
                    imported.env = environment(&expand, entry)?;
                } else {
                    let why = "supervisord's own setting: `tend up` needs none";
                    imported.unmapped.push(Unmapped::new(
                        entry.line,
                        format!("[supervisord] {}", entry.key),
                        why,
                    ));
                }
            }
            continue;
        }
        let why = match section.name.split(':').next().unwrap_or_default() {
            "include" => "other files are not read: import each of them",
            "group" => "tend has no groups: every service is started by `tend up`",
            "eventlistener" | "fcgi-program" => "no tend.toml equivalent",
            _ => "supervisord's or supervisorctl's own settings: `tend up` needs none",
        };
        imported.unmapped.push(Unmapped::new(section.line, format!("[{}]", section.name), why));
    }
    if programs.is_empty() {
        return Err(UsageError(format!("{file}:1: no [program:NAME] section: nothing to import")));
    }
    order_by_priority(&mut programs);
    imported.items = programs.into_iter().map(|(item, _)| item).collect();
    Ok(imported)
}

/// `after` from `priority`: each program after those of the next lower priority.
fn order_by_priority(programs: &mut [(Item, i64)]) {
    let mut by_priority: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (item, priority) in programs.iter() {
        by_priority.entry(*priority).or_default().push(item.name.clone());
    }
    let levels: Vec<(i64, Vec<String>)> = by_priority.into_iter().collect();
    for (item, priority) in programs.iter_mut() {
        let level = levels.iter().position(|(p, _)| p == priority).expect("its own level");
        if level > 0 {
            let (before, names) = &levels[level - 1];
            item.notes
                .push(format!("priority {priority}: after the programs of priority {before}"));
            item.after = names.clone();
        }
    }
}

/// One `[program:NAME]` and its priority.
fn program(expand: &Expand<'_>, name: &str, section: &Section) -> Result<(Item, i64), UsageError> {
    let mut item = Item {
        name: name.to_owned(),
        origin: format!("[program:{name}] (line {})", section.line),
        restart: Some("on_failure"),
        ..Item::default()
    };
    let mut priority = DEFAULT_PRIORITY;
    let mut stderr_log = None;
    let key = |entry: &Entry| format!("[program:{name}] {}", entry.key);
    for entry in &section.entries {
        let value = expand.value(entry)?;
        let bad = |what: &str| {
            UsageError(format!(
                "{}:{}: `{}`: expected {what}, found `{value}`",
                expand.file,
                entry.line,
                key(entry)
            ))
        };
        let unmapped = |why: &str| Unmapped::new(entry.line, key(entry), why);
        match entry.key.as_str() {
            "command" => {
                let words = words::split(&value).map_err(|message| {
                    UsageError(format!(
                        "{}:{}: `{}`: {message}",
                        expand.file,
                        entry.line,
                        key(entry)
                    ))
                })?;
                let Some((command, args)) = words.split_first() else {
                    return Err(bad("a command"));
                };
                item.command = Command::Program { command: command.clone(), args: args.to_vec() };
            }
            "directory" => item.dir = Some(value),
            "environment" => item.env = environment(expand, entry)?,
            "autorestart" => {
                item.restart = Some(match value.to_ascii_lowercase().as_str() {
                    "unexpected" => "on_failure",
                    other => {
                        if boolean(other).ok_or_else(|| bad("true, false or unexpected"))? {
                            "always"
                        } else {
                            "never"
                        }
                    }
                });
            }
            "exitcodes" if value.split(',').all(|code| code.trim() == "0") => {}
            "exitcodes" => item.unmapped.push(unmapped("tend counts only exit code 0 as success")),
            "startretries" => {
                item.max_restarts = Some(value.parse().map_err(|_| bad("a whole number"))?);
                item.notes.push("max_restarts from startretries: tend counts every restart, not only failed starts".to_owned());
            }
            "stopsignal" => {
                item.stop_signal = Some(signal_name(&value).ok_or_else(|| bad("a signal name"))?)
            }
            "stopwaitsecs" => {
                item.grace = value
                    .parse()
                    .ok()
                    .and_then(seconds)
                    .map(Some)
                    .ok_or_else(|| bad("a number of seconds"))?
            }
            "stdout_logfile" | "logfile" => match value.as_str() {
                "NONE" => {}
                "AUTO" => item.unmapped.push(unmapped(
                    "a file supervisord names itself: give the service a `log` path",
                )),
                _ => item.log = Some(value),
            },
            "stdout_logfile_maxbytes" | "logfile_maxbytes" => {
                match bytes(&value).ok_or_else(|| bad("a size such as 50MB"))? {
                    0 => item.unmapped.push(unmapped(
                        "no rotation: tend always rotates; set a large `log_max_size`",
                    )),
                    size => item.log_max_size = Some(size),
                }
            }
            "stdout_logfile_backups" | "logfile_backups" => {
                item.log_keep = Some(value.parse().map_err(|_| bad("a whole number"))?);
            }
            "stderr_logfile" if value == "NONE" => {}
            "stderr_logfile" => stderr_log = Some(unmapped("tend writes both streams into `log`")),
            "redirect_stderr" | "stopasgroup" | "killasgroup" => {
                if boolean(&value.to_ascii_lowercase()).is_none() {
                    return Err(bad("true or false"));
                }
                // tend signals the whole process group and logs both streams in one file.
            }
            "priority" => priority = value.parse().map_err(|_| bad("a whole number"))?,
            "process_name" if value == name || value == "%(program_name)s" => {}
            "numprocs" if value == "1" => {}
            "autostart" if boolean(&value.to_ascii_lowercase()) == Some(true) => {}
            "autostart" => item
                .unmapped
                .push(unmapped("tend starts every service; leave it out of the file instead")),
            "startsecs" => item.unmapped.push(unmapped(
                "a run counts as started at once; a `ready` probe says when it is up",
            )),
            "user" => item.unmapped.push(unmapped("tend runs services as its own user")),
            "numprocs" => item
                .unmapped
                .push(unmapped("tend runs one process per service; define more services for more")),
            _ => item.unmapped.push(unmapped("no tend.toml equivalent")),
        }
    }
    if matches!(item.command, Command::Script(ref script) if script.is_empty()) {
        return Err(UsageError(format!(
            "{}:{}: [program:{name}] has no `command`",
            expand.file, section.line
        )));
    }
    item.unmapped.extend(stderr_log);
    if item.log.is_none() && (item.log_max_size.is_some() || item.log_keep.is_some()) {
        item.log_max_size = None;
        item.log_keep = None;
        item.unmapped.push(Unmapped::new(
            section.line,
            format!("[program:{name}] stdout_logfile_*"),
            "rotation without a log file",
        ));
    }
    Ok((item, priority))
}

/// supervisord's booleans.
fn boolean(value: &str) -> Option<bool> {
    match value {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// A size: bytes, or with a `KB`, `MB` or `GB` suffix (powers of 1024).
fn bytes(value: &str) -> Option<u64> {
    let upper = value.trim().to_ascii_uppercase();
    let (digits, unit) = match upper.len().checked_sub(2).map(|at| upper.split_at(at)) {
        Some((digits, "KB")) => (digits, 1 << 10),
        Some((digits, "MB")) => (digits, 1 << 20),
        Some((digits, "GB")) => (digits, 1 << 30),
        _ => (upper.as_str(), 1),
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(unit)
}

/// `KEY="value",KEY2=value2` (an `environment` value).
fn environment(expand: &Expand<'_>, entry: &Entry) -> Result<BTreeMap<String, String>, UsageError> {
    let text = expand.value(entry)?;
    let fail = |message: String| {
        UsageError(format!("{}:{}: `environment`: {message}", expand.file, entry.line))
    };
    let mut env = BTreeMap::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some((name, after)) = rest.split_once('=') else {
            return Err(fail(format!("expected KEY=value, found `{rest}`")));
        };
        let name = name.trim().trim_start_matches(',').trim();
        let after = after.trim_start();
        let (value, next) = match after.chars().next() {
            Some(quote @ ('"' | '\'')) => {
                let Some(end) = after[1..].find(quote) else {
                    return Err(fail(format!("the value of `{name}` has no closing {quote}")));
                };
                (&after[1..=end], &after[end + 2..])
            }
            _ => match after.find(',') {
                Some(comma) => (&after[..comma], &after[comma..]),
                None => (after, ""),
            },
        };
        if name.is_empty() {
            return Err(fail(format!("a value without a name: `{rest}`")));
        }
        env.insert(name.to_owned(), value.trim_end_matches('\n').to_owned());
        rest = next.trim_start().trim_start_matches(',').trim_start();
    }
    Ok(env)
}

/// supervisord's `%(name)s` expansions of a section's values.
struct Expand<'a> {
    file: &'a str,
    here: &'a str,
    program: Option<&'a str>,
}

impl Expand<'_> {
    /// `entry`'s value with `%(ENV_X)s` (from this environment, as supervisord would at its
    /// start), `%(here)s`, `%(program_name)s`, `%(process_num)d`, `%(group_name)s`, `%%`.
    fn value(&self, entry: &Entry) -> Result<String, UsageError> {
        let text = &entry.value;
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(at) = rest.find('%') {
            out.push_str(&rest[..at]);
            rest = &rest[at..];
            if let Some(after) = rest.strip_prefix("%%") {
                out.push('%');
                rest = after;
                continue;
            }
            let fail = |what: String| {
                UsageError(format!("{}:{}: `{}`: {what}", self.file, entry.line, entry.key))
            };
            let Some(close) = rest.strip_prefix("%(").and_then(|r| r.find(')')) else {
                return Err(fail(format!(
                    "a lone `%` (write `%%` for a percent sign) in `{text}`"
                )));
            };
            let name = &rest[2..2 + close];
            let conversion = rest[3 + close..].chars().next();
            if !matches!(conversion, Some('s' | 'd')) {
                return Err(fail(format!("`%({name})` needs an `s` or `d` after it")));
            }
            let value = match name {
                "here" => self.here.to_owned(),
                "program_name" | "group_name" => self.program.unwrap_or_default().to_owned(),
                "process_num" => "0".to_owned(),
                "numprocs" => "1".to_owned(),
                _ => match name.strip_prefix("ENV_") {
                    Some(var) => std::env::var(var).map_err(|_| {
                        fail(format!("`%({name})s`: the variable `{var}` is not set here (supervisord would refuse it too)"))
                    })?,
                    None => return Err(fail(format!("unknown expansion `%({name})s`"))),
                },
            };
            out.push_str(&value);
            rest = &rest[4 + close..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(value: &str) -> Entry {
        Entry { key: "environment".to_owned(), value: value.to_owned(), line: 3 }
    }

    #[test]
    fn environment_pairs_are_read_with_their_quotes() {
        let expand = Expand { file: "s.conf", here: "/etc", program: Some("web") };
        let env = environment(&expand, &entry("A=\"1,2\", B=plain,C='x y',\nD=%(program_name)s"))
            .unwrap();
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(pairs, [("A", "1,2"), ("B", "plain"), ("C", "x y"), ("D", "web")]);
        assert!(environment(&expand, &entry("A=\"open")).unwrap_err().0.starts_with("s.conf:3:"));
    }

    #[test]
    fn expansions_and_sizes() {
        let expand = Expand { file: "s.conf", here: "/etc", program: Some("web") };
        let value =
            |text: &str| expand.value(&Entry { key: "k".into(), value: text.into(), line: 1 });
        assert_eq!(
            value("%(here)s/%(program_name)s-%(process_num)d 100%%").unwrap(),
            "/etc/web-0 100%"
        );
        assert!(value("%(ENV_TEND_IMPORT_SURELY_UNSET)s").unwrap_err().0.contains("not set"));
        assert!(value("50%").is_err());
        assert_eq!(bytes("50MB"), Some(50 << 20));
        assert_eq!(bytes("1024"), Some(1024));
        assert_eq!(bytes("2kb"), Some(2048));
        assert_eq!(bytes("lots"), None);
    }
}
