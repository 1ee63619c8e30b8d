//! `tend completions SHELL` and `tend man --out DIR`: what a packager installs.

use std::process::Command;

use crate::support::tend_bin;

#[test]
fn completions_cover_every_shell_and_every_subcommand() {
    for (shell, marker) in [
        ("bash", "complete -F _tend"),
        ("zsh", "#compdef tend"),
        ("fish", "complete -c tend"),
        ("elvish", "edit:completion:arg-completer[tend]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let output = Command::new(tend_bin()).args(["completions", shell]).output().unwrap();
        assert!(output.status.success(), "{shell}: {output:?}");
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(script.contains(marker), "{shell} script lacks `{marker}`");
        for sub in ["run", "up", "daemon", "logs", "completions"] {
            assert!(script.contains(sub), "{shell} script does not complete `{sub}`");
        }
    }
    let bad = Command::new(tend_bin()).args(["completions", "nosh"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("nosh"));
}

#[test]
fn man_writes_a_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let output =
        Command::new(tend_bin()).args(["man", "--out"]).arg(&out).output().expect("tend man");
    assert!(output.status.success(), "{output:?}");
    for page in ["tend", "tend-run", "tend-up", "tend-daemon", "tend-logs", "tend-completions"] {
        let text = std::fs::read_to_string(out.join(format!("{page}.1")))
            .unwrap_or_else(|e| panic!("{page}.1: {e}"));
        assert!(text.contains(&format!(".TH {page} 1")), "{page}.1 has no title: {text:.200}");
        assert!(text.contains(".SH NAME"), "{page}.1");
    }
    let run = std::fs::read_to_string(out.join("tend-run.1")).unwrap();
    assert!(run.contains("\\-\\-timeout"), "tend-run.1 documents --timeout");
    let listed = String::from_utf8(output.stdout).unwrap();
    assert_eq!(listed.lines().count(), std::fs::read_dir(&out).unwrap().count());
}
