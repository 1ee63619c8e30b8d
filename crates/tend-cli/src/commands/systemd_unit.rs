//! `tend daemon --print-systemd-unit [--user]`: a systemd unit that runs this daemon.
//!
//! The unit runs this very binary (its absolute path) as `daemon --state-dir DIR` with the
//! absolute state directory the command would use, and the other `tend daemon` options given
//! next to `--print-systemd-unit`, so the daemon under systemd is the one `tend ps` and
//! friends already find. Why each setting:
//!
//! * `Type=notify`, `NotifyAccess=main`: the daemon tells systemd `READY=1` once it serves
//!   the API and `STOPPING=1` when it begins to stop; only the daemon itself may (its managed
//!   processes inherit `NOTIFY_SOCKET`, and must not speak for it).
//! * `KillMode=mixed`: on stop, systemd sends SIGTERM to the daemon alone, which stops every
//!   managed process itself (each group with its stop signal and grace, services in reverse
//!   dependency order); whatever is left once the daemon exited, or when the stop times out,
//!   gets SIGKILL. The default (`control-group`) would SIGTERM every process at once and
//!   defeat that order.
//! * `TimeoutStopSec`: the daemon's `--grace` and 30 s more, for the API to close and the
//!   state to be written.
//! * `Delegate=yes`: the daemon may keep its processes in a cgroup of its own below the
//!   unit's, which holds whatever they start, double forks included.
//! * `Restart=on-failure`: a daemon that crashed or was killed comes back.
//! * A system unit printed by a user other than root runs as that user (`User=UID`), with
//!   that user's state directory.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use tend::daemon::Registry;

use super::daemon::{DEFAULT_LISTEN, DaemonArgs, state_dir};
use crate::UsageError;

/// Time beyond the daemon's `--grace` that systemd gives it to stop.
const STOP_MARGIN: Duration = Duration::from_secs(30);
/// `--grace` of the default, not repeated in `ExecStart`.
const DEFAULT_GRACE: Duration = Duration::from_secs(10);
/// A grace this long or longer means "never SIGKILL": the stop never times out either.
const ENDLESS: Duration = Duration::from_secs(365 * 24 * 3600);

/// Prints the unit on stdout.
pub(crate) fn print(args: &DaemonArgs, user: bool) -> anyhow::Result<i32> {
    let binary = std::env::current_exe().context("cannot find this program's own path")?;
    let state_dir = std::path::absolute(state_dir(args.state_dir.clone())?)?;
    let registry = match &args.registry_dir {
        Some(dir) => std::path::absolute(dir)?,
        None => Registry::from_env().map_err(|e| UsageError(e.to_string()))?.dir().to_owned(),
    };
    let run_as = if user { None } else { own_uid().filter(|uid| *uid != 0) };
    print!("{}", unit(&binary, &state_dir, &registry, args, user, run_as)?);
    Ok(0)
}

/// The unit's text.
fn unit(
    binary: &Path,
    state_dir: &Path,
    registry: &Path,
    args: &DaemonArgs,
    user: bool,
    run_as: Option<u32>,
) -> anyhow::Result<String> {
    let mut command = vec![word(binary.as_os_str(), "the tend binary's path")?, "daemon".into()];
    let mut option = |flag: &str, value: String| {
        command.push(flag.to_owned());
        command.push(value);
    };
    option("--state-dir", word(state_dir.as_os_str(), "--state-dir")?);
    option("--registry-dir", word(registry.as_os_str(), "--registry-dir")?);
    if args.listen.to_string() != DEFAULT_LISTEN {
        option("--listen", args.listen.to_string());
    }
    if args.grace != DEFAULT_GRACE {
        option("--grace", format!("{}ms", args.grace.as_millis()));
    }
    if let Some(max) = args.max_processes {
        option("--max-processes", max.to_string());
    }
    if let Some(max) = args.max_running {
        option("--max-running", max.to_string());
    }
    if let Some(max) = args.max_connections {
        option("--max-connections", max.to_string());
    }
    if args.max_finished != tend::DEFAULT_MAX_FINISHED {
        option("--max-finished", args.max_finished.to_string());
    }
    if args.log_events != tend_server::DEFAULT_LOG_EVENTS {
        option("--log-events", args.log_events.to_string());
    }
    if args.header_timeout != Duration::from_secs(5) {
        option("--header-timeout", format!("{}ms", args.header_timeout.as_millis()));
    }
    if args.log_max_size != tend::logfile::DEFAULT_MAX_SIZE {
        option("--log-max-size", format!("{}B", args.log_max_size.bytes()));
    }
    if args.log_keep != tend::logfile::DEFAULT_KEEP {
        option("--log-keep", args.log_keep.to_string());
    }
    if args.allow_remote {
        command.push("--allow-remote".to_owned());
    }
    if args.no_resume {
        command.push("--no-resume".to_owned());
    }
    let exec_start: Vec<String> = command.iter().map(|arg| quote(arg)).collect();
    let stop_timeout = if args.grace >= ENDLESS {
        "infinity".to_owned()
    } else {
        (args.grace + STOP_MARGIN).as_secs_f64().ceil().to_string()
    };

    let mut text = String::new();
    let flags = if user { " --user" } else { "" };
    writeln!(text, "# Written by `tend daemon --print-systemd-unit{flags}`.")?;
    if user {
        writeln!(text, "# Save as ~/.config/systemd/user/tend.service, then:")?;
        writeln!(text, "#   systemctl --user daemon-reload && systemctl --user enable --now tend")?;
        writeln!(text, "# (`loginctl enable-linger` keeps it running while you are logged out.)")?;
    } else {
        writeln!(text, "# Save as /etc/systemd/system/tend.service, then:")?;
        writeln!(text, "#   systemctl daemon-reload && systemctl enable --now tend")?;
    }
    writeln!(text, "[Unit]")?;
    let shown = escape_specifiers(&state_dir.display().to_string());
    writeln!(text, "Description=tend process supervisor (state in {shown})")?;
    writeln!(text, "After=network.target")?;
    writeln!(text)?;
    writeln!(text, "[Service]")?;
    writeln!(text, "Type=notify")?;
    writeln!(text, "NotifyAccess=main")?;
    writeln!(text, "ExecStart={}", exec_start.join(" "))?;
    if let Some(uid) = run_as {
        writeln!(text, "User={uid}")?;
    }
    writeln!(text, "KillMode=mixed")?;
    writeln!(text, "TimeoutStopSec={stop_timeout}")?;
    writeln!(text, "Delegate=yes")?;
    writeln!(text, "Restart=on-failure")?;
    writeln!(text, "RestartSec=1s")?;
    writeln!(text)?;
    writeln!(text, "[Install]")?;
    writeln!(text, "WantedBy={}", if user { "default.target" } else { "multi-user.target" })?;
    Ok(text)
}

/// A path as one line's UTF-8 text, or an error naming `what`.
fn word(value: &OsStr, what: &str) -> anyhow::Result<String> {
    let text = value.to_str().ok_or_else(|| {
        UsageError(format!("{what} {}: not UTF-8, which a unit file cannot hold", value.display()))
    })?;
    if text.chars().any(char::is_control) {
        return Err(UsageError(format!(
            "{what} {}: a control character, which a unit file cannot hold",
            text.escape_debug()
        ))
        .into());
    }
    Ok(text.to_owned())
}

/// `%` doubled, so systemd does not read it as a specifier.
fn escape_specifiers(text: &str) -> String {
    text.replace('%', "%%")
}

/// One `ExecStart=` argument as systemd reads it: specifiers (`%`) and variables (`$`)
/// doubled, and in double quotes (with `\` and `"` escaped) when it holds anything that
/// would split or change it.
fn quote(arg: &str) -> String {
    let escaped = escape_specifiers(arg).replace('$', "$$");
    let plain = !arg.is_empty()
        && arg.chars().all(|c| c.is_ascii_alphanumeric() || "/._-:+,=@".contains(c));
    if plain {
        return escaped;
    }
    format!("\"{}\"", escaped.replace('\\', "\\\\").replace('"', "\\\""))
}

/// This process's user id: the owner of `/proc/self` (Linux), without a libc call.
fn own_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").ok().map(|meta| meta.uid())
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn arguments_are_quoted_as_systemd_reads_them() {
        assert_eq!(quote("/usr/bin/tend"), "/usr/bin/tend");
        assert_eq!(quote("127.0.0.1:7420"), "127.0.0.1:7420");
        assert_eq!(quote("/home/a b/tend"), "\"/home/a b/tend\"");
        assert_eq!(quote("50%"), "\"50%%\"");
        assert_eq!(quote("$HOME"), "\"$$HOME\"");
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quote(""), "\"\"");
    }
}
