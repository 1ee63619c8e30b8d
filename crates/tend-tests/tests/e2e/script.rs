//! Bash scripts: quoting, file and inline modes, the strict header, the environment, exit
//! codes, and whether background jobs outlive the script.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tend::script::{Script, ScriptError};
use tend::{MaxRestarts, Process, ProcessInfo, Restart, Service};

use crate::host_proctable::{PATIENCE, assert_group_gone, kill_group, live_members};
use crate::support::{until, until_some};

/// Waits (bounded) for the script's end; returns its info and combined output.
pub(crate) async fn finish(process: &Process) -> (ProcessInfo, String) {
    let info = tokio::time::timeout(PATIENCE, process.wait()).await.expect("script to end");
    (info, process.output().to_string_lossy())
}

/// Starts `script` in file mode and in inline mode, and runs both to the end.
async fn both_modes(script: Script) -> [(ProcessInfo, String); 2] {
    let service = Service::new();
    let file = script.clone().start(&service).expect("start in file mode");
    let inline = script.inline().start(&service).expect("start inline");
    [finish(&file).await, finish(&inline).await]
}

/// Kills a process group when dropped, so a failing test leaves no job behind.
struct GroupGuard(u32);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        kill_group(self.0);
    }
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect()
}

const HOSTILE: &[&str] = &[
    "two words",
    "it's",
    "\"double\"",
    "$HOME",
    "${PATH}",
    "a;b",
    "; echo injected",
    "$(echo injected)",
    "`echo injected`",
    "*",
    "line\nbreak",
    "back\\slash",
    "",
    "-n",
];

#[tokio::test]
async fn commands_pass_every_argument_exactly_in_both_modes() {
    let mut printf = vec!["printf", "<%s>\\n"];
    printf.extend(HOSTILE);
    let script = Script::commands([printf, vec!["echo", "second command"]]);
    let expected: String =
        HOSTILE.iter().map(|word| format!("<{word}>\n")).collect::<String>() + "second command\n";
    for (info, output) in both_modes(script).await {
        assert_eq!(info.exit_code, Some(0), "{output}");
        assert_eq!(output, expected);
    }
}

#[tokio::test]
async fn a_command_word_cannot_run_code() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("injected");
    let attack = format!("x; touch {}", marker.display());
    let script = Script::commands([
        vec!["echo", attack.as_str()],
        vec![&*format!("touch {}", marker.display())],
    ]);
    for (info, output) in both_modes(script).await {
        // The second command's whole text is one word: a program by that name, not found.
        assert_eq!(info.exit_code, Some(127), "{output}");
        assert!(output.starts_with(&format!("{attack}\n")), "{output}");
    }
    assert!(!marker.exists(), "an argument ran as code");
}

#[tokio::test]
async fn file_mode_honours_dir_and_pattern_and_removes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let release = dir.path().join("release");
    let scripts = tempfile::tempdir().unwrap();
    let script = Script::new(
        "echo \"$0\"\nfor _ in $(seq 1000); do [ -e \"$RELEASE\" ] && exit 0; sleep 0.02; done\nexit 1",
    )
    .env("RELEASE", release.display().to_string())
    .file_dir(scripts.path())
    .file_pattern("job-*.bash");
    let service = Service::new();
    let process = script.start(&service).unwrap();

    let path = until_some(PATIENCE, "the script to print its path", || {
        let output = process.output().to_string_lossy();
        output.strip_suffix('\n').map(PathBuf::from)
    })
    .await;
    assert_eq!(path.parent(), Some(scripts.path()));
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with("job-") && name.ends_with(".bash") && name.len() > 12, "{name}");
    assert_eq!(entries(scripts.path()), std::slice::from_ref(&path));
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), script.render().unwrap());
    assert_eq!(process.info().args, [path.to_str().unwrap()]);

    std::fs::write(&release, "").unwrap();
    let (info, _) = finish(&process).await;
    assert_eq!(info.exit_code, Some(0));
    until(PATIENCE, "the script file to be removed", || !path.exists()).await;
    assert!(entries(scripts.path()).is_empty());
}

#[tokio::test]
async fn the_file_is_removed_when_bash_cannot_start() {
    let scripts = tempfile::tempdir().unwrap();
    let service = Service::new();
    let err = Script::new("echo never")
        .file_dir(scripts.path())
        .interpreter("/nonexistent/bash")
        .start(&service)
        .unwrap_err();
    assert!(
        matches!(&err, ScriptError::Start(tend::Error::Spawn { command, .. }) if command == "/nonexistent/bash"),
        "{err:?}"
    );
    assert!(entries(scripts.path()).is_empty());
}

#[tokio::test]
async fn inline_mode_writes_nothing_and_works_where_no_file_can_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir");
    let script =
        Script::commands([["printf", "%s|", "it's", "\"q\"", "$HOME", "a;b"]]).file_dir(&missing);

    let service = Service::new();
    let err = script.clone().start(&service).unwrap_err();
    let ScriptError::WriteFile { dir: named, .. } = &err else { panic!("{err:?}") };
    assert_eq!(named, &missing);

    let process = script.inline().start(&service).unwrap();
    let (info, output) = finish(&process).await;
    assert_eq!(info.exit_code, Some(0));
    assert_eq!(info.args, ["-s"]);
    assert_eq!(output, "it's|\"q\"|$HOME|a;b|");
    assert!(entries(dir.path()).is_empty());
}

#[tokio::test]
async fn every_restarted_run_runs_the_whole_script_in_both_modes() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    // Fails on each of its three runs; a run that got no script would exit 0 and stop it early.
    let script = Script::new(format!("echo run >> '{}'; echo ran; exit 3", runs.display()))
        .restart(
            Restart::on_failure().max(MaxRestarts::Limited(2)).delay(Duration::from_millis(10)),
        );
    for (info, output) in both_modes(script).await {
        assert_eq!((info.exit_code, info.restarts), (Some(3), 2), "{info:?}");
        assert_eq!(output, "ran\nran\nran\n");
    }
    assert_eq!(std::fs::read_to_string(&runs).unwrap(), "run\n".repeat(6));
}

#[tokio::test]
async fn inline_commands_that_read_stdin_get_end_of_file_not_the_script() {
    // Without the wrapper, `read` would consume the script's next line and `cat` the rest.
    let script = Script::new(
        "if read -r line; then echo \"swallowed: $line\"; else echo eof; fi\ncat\necho still here",
    )
    .inline();
    let service = Service::new();
    let (info, output) = finish(&script.start(&service).unwrap()).await;
    assert_eq!(info.exit_code, Some(0));
    assert_eq!(output, "eof\nstill here\n");
}

#[tokio::test]
async fn a_large_inline_script_is_read_whole() {
    // Far beyond a pipe's buffer: the feeder keeps writing while bash reads.
    let padding: String =
        (0..8000).map(|i| format!(": padding line {i}, to make it long\n")).collect();
    let script = Script::new(format!("{padding}echo \"end $LINENO\"")).inline();
    let service = Service::new();
    let (info, output) = finish(&script.start(&service).unwrap()).await;
    assert_eq!((info.exit_code, output.as_str()), (Some(0), "end 8001\n"));
}

#[tokio::test]
async fn the_strict_header_stops_at_failures_and_keeps_line_numbers() {
    let cases = [
        ("false\necho after", "after\n"),
        ("false | true\necho after", "after\n"),
        ("echo \"[$TEND_UNSET_VARIABLE]\"", "[]\n"),
    ];
    for (text, lenient_output) in cases {
        for (info, output) in both_modes(Script::new(text)).await {
            assert_eq!((info.exit_code, output.as_str()), (Some(0), lenient_output), "{text}");
        }
        for (info, output) in both_modes(Script::new(text).strict(true)).await {
            assert_ne!(info.exit_code, Some(0), "{text}: {output}");
            assert!(!output.contains("after") && !output.contains("[]"), "{text}: {output}");
        }
    }
    let unset = both_modes(Script::new("echo $TEND_UNSET_VARIABLE").strict(true)).await;
    for (_, output) in unset {
        assert!(output.contains("TEND_UNSET_VARIABLE: unbound variable"), "{output}");
    }
    for (info, output) in both_modes(Script::new("\necho \"line $LINENO\"").strict(true)).await {
        assert_eq!((info.exit_code, output.as_str()), (Some(0), "line 2\n"));
    }
}

#[tokio::test]
async fn exit_codes_are_bash_s_not_found_syntax_error_and_exit() {
    let cases = [
        ("tend-no-such-command-anywhere", 127),
        ("if then fi", 2),
        ("echo \"unterminated", 2),
        ("exit 42", 42),
        ("echo ok", 0),
    ];
    for (text, code) in cases {
        for (info, output) in both_modes(Script::new(text)).await {
            assert_eq!(info.exit_code, Some(code), "{text}: {output}");
            assert_eq!(info.shell_status(), code);
        }
    }
}

#[tokio::test]
async fn env_entries_add_to_the_inherited_environment_unless_clean() {
    let text = "echo \"$TEND_A|$TEND_B|${HOME:-no home}|${PATH:+path}\"";
    let script = Script::new(text).envs([("TEND_A", "1"), ("TEND_B", "x=y")]);
    let home = std::env::var("HOME").unwrap_or_else(|_| "no home".into());
    for (info, output) in both_modes(script.clone()).await {
        assert_eq!(info.exit_code, Some(0));
        assert_eq!(output, format!("1|x=y|{home}|path\n"));
    }
    // Clean: only what is given (bash still finds `echo`, a builtin).
    for (_, output) in both_modes(script.clear_env(true)).await {
        assert!(output.starts_with("1|x=y|no home|"), "{output}");
    }
    let service = Service::new();
    // A bad name is refused at start with StartOptions' own error, naming it.
    let err = Script::new("true").env("TEND_A", "1").env("JU=NK", "x").start(&service).unwrap_err();
    assert!(
        matches!(&err, ScriptError::Start(tend::Error::InvalidOption { option: "env", .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("`JU=NK`"), "{err}");
    assert!(service.list().is_empty(), "nothing started");
}

#[tokio::test]
async fn background_jobs_die_with_the_script_by_default() {
    for script in [Script::new(BACKGROUND_JOB), Script::new(BACKGROUND_JOB).inline()] {
        let service = Service::new();
        let process = script.start(&service).unwrap();
        let pgid = process.pid().unwrap();
        let _guard = GroupGuard(pgid);
        let (info, output) = finish(&process).await;
        assert_eq!(info.exit_code, Some(0), "{output}");
        assert!(output.trim().parse::<u32>().is_ok(), "job PID printed: {output}");
        assert_group_gone(pgid).await;
    }
}

#[tokio::test]
async fn allow_detached_lets_background_jobs_outlive_the_script() {
    for script in [Script::new(BACKGROUND_JOB), Script::new(BACKGROUND_JOB).inline()] {
        let service = Service::new();
        let process = script.allow_detached(true).start(&service).unwrap();
        let pgid = process.pid().unwrap();
        let _guard = GroupGuard(pgid);
        let (info, output) = finish(&process).await;
        assert_eq!(info.exit_code, Some(0), "{output}");
        let job: u32 = output.trim().parse().expect("job PID printed");
        // The core kills leftovers before it reports the end, so this is after that point.
        let alive: Vec<u32> = live_members(pgid).iter().map(|p| p.pid).collect();
        assert_eq!(alive, [job], "the job, alone, outlived the script");
        kill_group(pgid);
        assert_group_gone(pgid).await;
    }
}

/// Leaves a job in the background (its output redirected: see the module caveats) and ends.
const BACKGROUND_JOB: &str = "sleep 30 >/dev/null 2>&1 &\necho $!";
