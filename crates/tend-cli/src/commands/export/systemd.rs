//! `tend export systemd`: a unit per step and service, `tend-PROJECT-NAME.service`, and
//! `tend-PROJECT.target` that wants them all.
//!
//! | tend.toml | unit |
//! | --- | --- |
//! | `command` + `args`, `run` | `ExecStart=` with the exact argv (`/bin/bash -c SCRIPT NAME`) |
//! | `dir`, `env`, `env_file` | `WorkingDirectory=`, `Environment=` (env files read now) |
//! | `after` | `After=` + `Requires=` |
//! | `ready` | `ExecStartPost=` running `tend probe`, `TimeoutStartSec=` |
//! | `restart`, `max_restarts`, delays | `Restart=`, `StartLimit*=`, `RestartSec=`, `RestartSteps=`, `RestartMaxDelaySec=` |
//! | `stop_signal`, `grace` | `KillSignal=`, `TimeoutStopSec=`, `KillMode=control-group` |
//! | `log` | `StandardOutput=append:` and `StandardError=append:` |
//! | steps | `Type=oneshot` + `RemainAfterExit=yes`; `allow_failure`: `ExecStart=-…` |

use std::fmt::Write as _;

use std::path::Path;

use super::model::{Stack, Unit, described, distinct_names, span};
use super::systemd_quote::{environment, exec_line, exec_word, path, program_word};
use super::unmapped::Notes;
use super::{ExportFile, Exported};
use crate::UsageError;
use tend::{MaxRestarts, RestartPolicy};

/// Margin on top of a ready probe's timeout for `TimeoutStartSec=`: the start itself.
const START_MARGIN_SECS: u64 = 5;

/// How the units are written.
pub(super) struct SystemdOptions<'a> {
    /// User units (`systemctl --user`): the target is wanted by `default.target`.
    pub(super) user: bool,
    /// The `tend` the `ExecStartPost=` probes run.
    pub(super) tend: &'a str,
}

/// The units of `stack`.
pub(super) fn export(stack: &Stack, options: &SystemdOptions<'_>) -> Result<Exported, UsageError> {
    let mut notes = Notes::new("systemd");
    let names = distinct_names(stack, "unit name", |name| unit_name(&stack.project, name))?;
    let target = format!("tend-{}.target", stack.project);
    if stack.top_env_file {
        notes.file_key("env_file", "its variables are written into each unit's Environment= now; export again after changing the file");
    }
    let mut files = Vec::new();
    for unit in &stack.units {
        let mut text = String::new();
        let name = &names[unit.name.as_str()];
        let _ = writeln!(
            text,
            "# {name}: {} `{}` of {}, written by `tend export systemd`.",
            unit.kind(),
            unit.name,
            stack.file.display()
        );
        text.push_str("[Unit]\n");
        let _ = writeln!(text, "Description=tend {}: {} {}", stack.project, unit.kind(), unit.name);
        let _ = writeln!(text, "PartOf={target}");
        for dep in &unit.after {
            let dep = &names[dep.as_str()];
            let _ = writeln!(text, "After={dep}\nRequires={dep}");
        }
        let service = unit.service();
        if let Some(keys) = service.filter(|keys| keys.restart != RestartPolicy::Never) {
            match keys.max_restarts {
                MaxRestarts::Unlimited => text.push_str("StartLimitIntervalSec=0\n"),
                MaxRestarts::Limited(max) => {
                    let _ = writeln!(
                        text,
                        "StartLimitIntervalSec=infinity\nStartLimitBurst={}",
                        u64::from(max) + 1
                    );
                }
            }
        }
        text.push_str("\n[Service]\n");
        match unit.step() {
            Some(step) => {
                text.push_str("Type=oneshot\nRemainAfterExit=yes\n");
                let ignore = if step.allow_failure { "-" } else { "" };
                let _ = writeln!(text, "ExecStart={ignore}{}", command_line(unit, &mut notes)?);
                let timeout = step.timeout.map_or_else(|| "infinity".to_owned(), span);
                let _ = writeln!(text, "TimeoutStartSec={timeout}");
                if step.retries > 0 {
                    notes.key(unit, "retries", "a oneshot unit is started once; retry inside the command (a loop in a script) or start the unit again");
                }
            }
            None => {
                text.push_str("Type=exec\n");
                let _ = writeln!(text, "ExecStart={}", command_line(unit, &mut notes)?);
            }
        }
        write_service_keys(&mut text, unit, options, &mut notes);
        let _ = writeln!(text, "WorkingDirectory={}", path(&unit.dir, "the directory")?);
        for (key, value) in &unit.env {
            let _ = writeln!(text, "Environment={}", environment(key, value));
        }
        if unit.env_file {
            notes.key(unit, "env_file", "its variables are written into Environment= now; export again after changing the file");
        }
        text.push_str("KillMode=control-group\n");
        if let Some(keys) = service {
            let _ = writeln!(text, "KillSignal={}", keys.stop_signal);
        }
        let _ = writeln!(text, "TimeoutStopSec={}", stop_timeout(unit));
        let _ = writeln!(text, "\n[Install]\nWantedBy={target}");
        files.push(ExportFile { name: name.clone(), text });
    }
    files.push(ExportFile {
        name: target.clone(),
        text: target_unit(stack, &target, &names, options.user),
    });
    Ok(Exported { files, notes })
}

/// A service's readiness, restart and log lines.
fn write_service_keys(
    text: &mut String,
    unit: &Unit,
    options: &SystemdOptions<'_>,
    notes: &mut Notes,
) {
    let Some(keys) = unit.service() else { return };
    if let Some(ready) = &keys.ready {
        let remaining = ready
            .timeout
            .saturating_sub(ready.initial_delay)
            .max(std::time::Duration::from_millis(1));
        let probe = super::model::ProbeKeys {
            timeout: if ready.waits_for_ever() { ready.timeout } else { remaining },
            ..ready.clone()
        };
        match probe.probe_command(options.tend, None) {
            Some(argv) => {
                if !ready.initial_delay.is_zero() {
                    let _ = writeln!(text, "ExecStartPost=/bin/sleep {}", ready.initial_delay.as_secs_f64());
                }
                let _ = writeln!(text, "ExecStartPost={}", exec_line(&argv));
                if ready.waits_for_ever() {
                    text.push_str("TimeoutStartSec=infinity\n");
                } else {
                    let _ = writeln!(text, "TimeoutStartSec={}s", ready.timeout.as_secs() + START_MARGIN_SECS);
                }
            }
            None => notes.key(unit, "ready", "a `log` probe has no systemd equivalent (the unit is ready once started); have the program call sd_notify(READY=1) with Type=notify, or probe a port or command instead"),
        }
    }
    if keys.alive.is_some() {
        notes.key(unit, "alive", "systemd has no liveness probe; use WatchdogSec= with sd_notify(WATCHDOG=1) in the program, or a timer unit running `tend probe … || systemctl restart UNIT`");
    }
    let restart = match keys.restart {
        RestartPolicy::Always => "always",
        RestartPolicy::OnFailure => "on-failure",
        RestartPolicy::Never => "no",
    };
    let _ = writeln!(text, "Restart={restart}");
    if keys.restart != RestartPolicy::Never {
        let _ = writeln!(text, "RestartSec={}", span(keys.restart_delay));
        if keys.restart_max_delay > keys.restart_delay {
            // tend doubles the delay after each restart up to the cap: so many doublings.
            let ratio =
                keys.restart_max_delay.as_secs_f64() / keys.restart_delay.as_secs_f64().max(1e-3);
            let steps = ratio.log2().ceil().max(1.0) as u64;
            let _ = writeln!(
                text,
                "RestartSteps={steps}\nRestartMaxDelaySec={}",
                span(keys.restart_max_delay)
            );
        }
    }
    if let Some(log) = &keys.log {
        match path(&log.path, "the log file") {
            Ok(file) => {
                let _ = writeln!(text, "StandardOutput=append:{file}\nStandardError=append:{file}");
            }
            Err(error) => notes.key(unit, "log", error.0),
        }
        notes.key(unit, "log_max_size", format!("systemd appends to {} without rotating it (tend rotates at {} keeping {}); rotate it with logrotate (copytruncate), or drop `log` and read the journal", log.path.display(), log.max_size, log.keep));
    }
}

/// `unit`'s `ExecStart=` command: its argv, and for a relative program (`./worker`) the
/// absolute path from its directory with `@`, so that argv[0] stays as written. systemd
/// refuses a program path holding quotes, a backslash or a control character: such a
/// program is started through `/usr/bin/env`.
fn command_line(unit: &Unit, notes: &mut Notes) -> Result<String, UsageError> {
    let relative = unit.relative_program().map(|p| p.to_string_lossy().into_owned());
    let refused = |text: &str| text.chars().any(|c| c.is_control() || "\\\"'".contains(c));
    if refused(relative.as_deref().unwrap_or(&unit.argv[0])) {
        let program = relative.unwrap_or_else(|| unit.argv[0].clone());
        if program.contains('=') {
            return Err(UsageError(format!(
                "{}: systemd cannot start the program `{}` (quotes, backslashes and control \
                 characters make it run it through env, which reads `=` as a variable); rename it",
                described(unit),
                program.escape_debug()
            )));
        }
        notes.key(unit, "command", "systemd refuses quotes, backslashes and control characters in a program's path: it runs through /usr/bin/env, argv[0] being the path");
        let argv: Vec<String> = ["/usr/bin/env".to_owned(), program]
            .into_iter()
            .chain(unit.argv[1..].iter().cloned())
            .collect();
        return Ok(exec_line(&argv));
    }
    let Some(program) = relative else { return Ok(exec_line(&unit.argv)) };
    path(Path::new(&program), "the program")?;
    let argv: String = unit.argv.iter().map(|word| format!(" {}", exec_word(word))).collect();
    Ok(format!("@{}{argv}", program_word(&program)))
}

/// `TimeoutStopSec=`: the grace, `infinity` for one that never ends.
fn stop_timeout(unit: &Unit) -> String {
    if unit.grace >= tend::FOREVER { "infinity".to_owned() } else { span(unit.grace) }
}

/// `tend-PROJECT.target`, wanting every unit.
fn target_unit(
    stack: &Stack,
    target: &str,
    names: &std::collections::HashMap<&str, String>,
    user: bool,
) -> String {
    let mut text = format!(
        "# {target}: project {} of {}, written by `tend export systemd`.\n[Unit]\n",
        stack.project,
        stack.file.display()
    );
    let _ = writeln!(text, "Description=tend project {}", stack.project);
    for unit in &stack.units {
        let _ = writeln!(text, "Wants={}", names[unit.name.as_str()]);
    }
    let wanted_by = if user { "default.target" } else { "multi-user.target" };
    let _ = writeln!(text, "\n[Install]\nWantedBy={wanted_by}");
    text
}

/// `tend-PROJECT-NAME.service`, characters a unit name cannot hold made `_`.
fn unit_name(project: &str, name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_.:".contains(c) { c } else { '_' })
        .collect();
    format!("tend-{project}-{name}.service")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_names_hold_only_what_systemd_allows() {
        assert_eq!(unit_name("shop", "web"), "tend-shop-web.service");
        assert_eq!(unit_name("shop", "a b/é"), "tend-shop-a_b__.service");
    }
}
