//! Terminal injection: names, commands, arguments and messages holding ESC, `\n` or other
//! control characters are shown escaped (`\e`, `\n`, `\x07`) by every table and message of
//! the `tend` binary, so they can neither drive the terminal nor forge a line; `--json` and
//! the steps' own output stay exact.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use crate::cli_client_commands::DaemonUnderTest;
use crate::support::{tend_bin, wait_child};

const BOUND: std::time::Duration = std::time::Duration::from_secs(30);

/// Fails if `text` holds a character a terminal would act on rather than show.
fn assert_terminal_safe(text: &str, what: &str) {
    let bad: Vec<char> = text.chars().filter(|c| c.is_control() && *c != '\n').collect();
    assert!(bad.is_empty(), "{what} holds control characters {bad:?}:\n{text}");
}

#[test]
fn ps_and_error_messages_escape_names_and_arguments() {
    let daemon = DaemonUnderTest::start();
    let name = "evil\x1b[2J\nFAKE ROW";
    let argument = "\x1b]0;pwned\x07\r";
    let id = daemon.ok(&["start", "--name", name, "--", "sh", "-c", "exec sleep 30", argument]);

    let table = daemon.ok(&["ps"]);
    assert_terminal_safe(&table, "tend ps");
    assert_eq!(table.lines().count(), 2, "a header and one row, no forged one:\n{table}");
    let row = table.lines().nth(1).unwrap();
    assert!(row.contains("evil\\e[2J\\nFAKE ROW"), "the name, escaped: {row}");
    assert!(row.ends_with("sh -c exec sleep 30 \\e]0;pwned\\x07\\r"), "the command: {row}");
    let json: serde_json::Value = serde_json::from_str(&daemon.ok(&["ps", "--json"])).unwrap();
    assert_eq!(json[0]["name"], name, "--json keeps the exact name");
    assert_eq!(json[0]["args"][2], argument, "--json keeps the exact arguments");

    // An error quoting what the user typed, and clap's own usage error.
    let missing = daemon.tend(&["stop", "ghost\x1b[2J\nFAKE"]);
    assert_eq!(missing.status.code(), Some(1), "{missing:?}");
    let message = String::from_utf8(missing.stderr).unwrap();
    assert_terminal_safe(&message, "the error");
    assert_eq!(message.lines().count(), 1, "one line: {message}");
    assert!(message.contains("ghost\\e[2J\\nFAKE"), "names the input, escaped: {message}");
    let usage = daemon.tend(&["procs", "--state", "\x1b[2J\x07"]);
    assert_eq!(usage.status.code(), Some(2), "{usage:?}");
    let message = String::from_utf8(usage.stderr).unwrap();
    assert_terminal_safe(&message, "the usage error");
    assert!(message.contains("\\e[2J\\x07"), "names the input, escaped: {message}");

    daemon.ok(&["kill", id.trim()]);
}

#[test]
fn up_escapes_step_names_and_errors_but_not_step_output() {
    let dir = tempfile::tempdir().unwrap();
    // TOML escapes: the file itself is plain text.
    let file = r#"
[steps."evil\u001b[2J\nFAKE"]
command = "echo"
args = ["hi"]

[steps.raw]
command = "printf"
args = ["\u001b[1mbold\u001b[0m\n"]

[steps."bell\u0007"]
command = "/nonexistent/\u001b[2Jprogram"
"#;
    std::fs::write(dir.path().join("tend.toml"), file).unwrap();
    let output = Command::new(tend_bin())
        .arg("up")
        .current_dir(dir.path())
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .expect("run tend up");
    assert_eq!(output.status.code(), Some(1), "a step failed: {output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_terminal_safe(&stderr, "tend up's stderr");

    // The step's own output is passed on exactly, escape sequences included.
    let raw = format!("{:<15} | \x1b[1mbold\x1b[0m", "raw");
    assert_eq!(stdout.lines().filter(|line| *line == raw.as_str()).count(), 1, "{stdout:?}");
    let rest: Vec<&str> = stdout.lines().filter(|line| *line != raw.as_str()).collect();
    assert_terminal_safe(&rest.join("\n"), "tend up's own lines");
    assert!(rest.contains(&"evil\\e[2J\\nFAKE | hi"), "prefixed and padded: {rest:#?}");
    // hi, bold, a blank line, the header, three rows, a blank line, the verdict.
    assert_eq!(stdout.lines().count(), 9, "no forged line:\n{stdout}");
    let summary: Vec<&str> =
        rest.iter().copied().skip_while(|line| !line.starts_with("STEP")).collect();
    assert!(summary[1].starts_with("evil\\e[2J\\nFAKE  passed"), "{summary:#?}");
    assert!(summary[3].starts_with("bell\\x07"), "{summary:#?}");
    assert!(summary[3].contains("/nonexistent/\\e[2Jprogram"), "the error note: {summary:#?}");
}

#[test]
fn procs_escapes_process_names() {
    // The shell renames itself (its `comm`, what `procs` shows), then waits on its stdin.
    let comm = "ev\x1b[2J\nFAKE";
    let mut shell = Command::new("sh")
        .args(["-c", r#"printf 'ev\033[2J\nFAKE' > /proc/$$/comm && echo ready && read x"#])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn sh");
    let mut ready = String::new();
    BufReader::new(shell.stdout.take().unwrap()).read_line(&mut ready).unwrap();
    assert_eq!(ready, "ready\n");
    let pid = shell.id().to_string();

    let listed = Command::new(tend_bin()).args(["procs", "--name", comm]).output().unwrap();
    assert!(listed.status.success(), "{listed:?}");
    let table = String::from_utf8(listed.stdout).unwrap();
    assert_terminal_safe(&table, "tend procs --name");
    assert_eq!(table.lines().count(), 2, "a header and one row:\n{table}");
    let row = table.lines().nth(1).unwrap();
    assert!(row.trim_start().starts_with(&pid), "{row}");
    assert!(row.ends_with(" ev\\e[2J\\nFAKE"), "{row}");

    let everything = Command::new(tend_bin()).arg("procs").output().unwrap();
    let table = String::from_utf8_lossy(&everything.stdout);
    assert_terminal_safe(&table, "tend procs");
    let rows: Vec<&str> =
        table.lines().filter(|line| line.split_whitespace().next() == Some(&pid)).collect();
    assert_eq!(rows.len(), 1, "our process, on one line: {rows:?}");
    assert!(rows[0].ends_with(" ev\\e[2J\\nFAKE"), "{rows:?}");

    shell.stdin.take().unwrap().write_all(b"done\n").unwrap();
    assert!(wait_child(&mut shell, BOUND).success());
}

#[test]
fn daemons_escapes_registry_entries_and_paths() {
    let dir = tempfile::tempdir().unwrap();
    // Any local process that can write the registry can put anything in an entry.
    let registry = dir.path().join("daemons");
    std::fs::create_dir(&registry).unwrap();
    let pid = std::process::id();
    let entry = format!(
        r#"{{"code":"core","daemon":"api","pid":{pid},"health":"127.0.0.1:9000\u001b[2J\nFAKE","started":"2025-01-01T00:00:00Z"}}"#
    );
    std::fs::write(registry.join("core-api.json"), entry).unwrap();
    let listed =
        Command::new(tend_bin()).arg("daemons").arg("--registry-dir").arg(&registry).output();
    let listed = listed.unwrap();
    assert!(listed.status.success(), "{listed:?}");
    let table = String::from_utf8(listed.stdout).unwrap();
    assert_terminal_safe(&table, "tend daemons");
    assert_eq!(table.lines().count(), 2, "a header and one row:\n{table}");
    assert!(table.contains("127.0.0.1:9000\\e[2J\\nFAKE"), "{table}");

    // An empty registry in a directory whose name holds control characters.
    let strange = dir.path().join("reg\x1b[2J\nistry");
    let empty =
        Command::new(tend_bin()).arg("daemons").arg("--registry-dir").arg(&strange).output();
    let empty = empty.unwrap();
    assert!(empty.status.success(), "{empty:?}");
    let message = String::from_utf8(empty.stderr).unwrap();
    assert_terminal_safe(&message, "the message");
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains("reg\\e[2J\\nistry"), "{message}");
}
