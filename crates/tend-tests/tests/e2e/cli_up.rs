//! `tend up`: the command line over the pipeline runner, run as a real binary.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::runner_support::Reaper;
use crate::support::{FIXTURE, pid_alive, tend_bin};

/// Generous bound for one `tend up` in these tests.
const BOUND: Duration = Duration::from_secs(30);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn spawn(args: &[&str], dir: &Path, envs: &[(&str, &str)]) -> Child {
    let mut command = Command::new(tend_bin());
    command.arg("up").args(args).current_dir(dir).env_remove("NO_COLOR");
    command.envs(envs.iter().copied());
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    command.spawn().expect("spawn tend")
}

/// Runs `tend up ARGS` in `dir` to the end (bounded) and collects what it printed.
fn up_in(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Ran {
    let mut child = spawn(args, dir, envs);
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let code = wait_bounded(&mut child);
    Ran { code, stdout: stdout.recv().unwrap(), stderr: stderr.recv().unwrap() }
}

fn drain(mut stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stream.read_to_string(&mut text);
        let _ = tx.send(text);
    });
    rx
}

fn wait_bounded(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + BOUND;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tend up did not finish within {BOUND:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A temporary directory holding `name` with `text`.
fn pipeline_file(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text.replace("FIXTURE", FIXTURE)).unwrap();
    (dir, path)
}

const FAILING: &str = r#"
[steps.build]
run = "echo compiled; echo warning >&2"

[steps.test]
run = "echo 'assertion failed'; exit 1"
after = ["build"]

[steps.deploy]
run = "echo deploying"
after = ["test"]
"#;

#[test]
fn the_demo_runs_with_prefixed_output_and_a_summary() {
    let ran = up_in(&repo_root(), &["examples/demo.toml"], &[]);
    assert_eq!(ran.code, Some(0), "{}\n{}", ran.stdout, ran.stderr);
    for expected in ["prepare | workspace ready", "fetch   | fetched alpha", "publish | published"]
    {
        assert!(ran.stdout.contains(expected), "missing `{expected}` in:\n{}", ran.stdout);
    }
    assert!(ran.stdout.contains("lint     allowed_failure"), "{}", ran.stdout);
    assert!(ran.stdout.contains("ok: 7 passed, 0 failed, 1 allowed to fail"), "{}", ran.stdout);
    assert!(!ran.stdout.contains('\x1b'), "no colours without a terminal");
}

#[test]
fn a_failed_step_exits_1_and_quiet_shows_only_failed_output() {
    let (dir, _) = pipeline_file("tend.toml", FAILING);
    let ran = up_in(dir.path(), &[], &[]);
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert!(ran.stdout.contains("build  | compiled\n"), "{}", ran.stdout);
    assert!(ran.stdout.contains("build  | warning\n"), "{}", ran.stdout);
    assert!(ran.stdout.contains("test   | assertion failed\n"), "{}", ran.stdout);
    assert!(ran.stdout.contains("skipped because `test` failed"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("FAILED: 1 passed, 1 failed, 1 skipped, 0 cancelled"),
        "{}",
        ran.stdout
    );

    let quiet = up_in(dir.path(), &["--quiet"], &[]);
    assert_eq!(quiet.code, Some(1));
    assert!(quiet.stdout.starts_with("test   | assertion failed\n"), "{}", quiet.stdout);
    assert!(!quiet.stdout.contains("compiled"), "{}", quiet.stdout);
    assert!(quiet.stdout.contains("STEP"), "the summary is still there: {}", quiet.stdout);
}

#[test]
fn json_prints_the_report_and_nothing_else_on_stdout() {
    let (dir, path) = pipeline_file("pipeline.toml", FAILING);
    let ran = up_in(dir.path(), &[path.to_str().unwrap(), "--json"], &[]);
    assert_eq!(ran.code, Some(1));
    let report: serde_json::Value =
        serde_json::from_str(&ran.stdout).expect("stdout is one JSON document");
    assert_eq!(report["success"], false);
    assert_eq!(report["totals"]["failed"], 1);
    let statuses: Vec<&str> =
        report["steps"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["passed", "failed", "skipped"]);
    // Both streams are captured; their relative order is whatever the pipes delivered.
    let output = report["steps"][0]["output"].as_str().unwrap();
    let mut lines: Vec<&str> = output.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, ["compiled", "warning"]);
    assert_eq!(ran.stderr, "");

    // `--quiet` beside `--json` is accepted and changes nothing.
    let both = up_in(dir.path(), &[path.to_str().unwrap(), "--json", "--quiet"], &[]);
    assert_eq!((both.code, both.stderr.as_str()), (Some(1), ""));
    let again: serde_json::Value = serde_json::from_str(&both.stdout).expect("one JSON document");
    assert_eq!(again["totals"], report["totals"]);
}

#[test]
fn invalid_files_exit_2_naming_step_key_and_line_and_run_nothing() {
    let cases = [
        (
            "tend.toml",
            "[steps.a]\nrun = \"touch ran\"\n[steps.b]\ncomand = \"touch ran\"\n",
            ":4:1: step `b`: unknown key `comand`",
        ),
        (
            "tend.toml",
            "[steps.a]\nrun = \"touch ran\"\ncommand = \"touch\"\n",
            ":3:11: step `a`: has both `command` and `run`",
        ),
        (
            "tend.toml",
            "[steps.a]\ndir = \".\"\n",
            "step `a`: needs `command` (a program) or `run` (a bash script)",
        ),
        (
            "tend.toml",
            "[steps.a]\nrun = \"touch ran\"\ntimeout = \"soon\"\n",
            ":3:11: step `a`: `timeout` is not a duration",
        ),
        (
            "tend.toml",
            "[steps.a]\nrun = \"touch ran\"\nafter = [\"b\"]\n[steps.b]\nrun = \"touch ran\"\nafter = [\"a\"]\n",
            "tend.toml: dependency cycle: a -> b -> a",
        ),
        (
            "tend.toml",
            "[steps.a]\nrun = \"touch ran\"\nafter = [\"nope\"]\n",
            "step `a` runs after `nope`, which is not a step",
        ),
        (
            "p.yaml",
            "steps:\n  a:\n    run: touch ran\n    retries: -2\n",
            "p.yaml:4:14: step `a`: `retries` must be a whole number",
        ),
    ];
    for (name, text, expected) in cases {
        let (dir, path) = pipeline_file(name, text);
        let ran = up_in(dir.path(), &[path.to_str().unwrap()], &[]);
        assert_eq!(ran.code, Some(2), "{name}: {}", ran.stderr);
        assert!(ran.stderr.contains(expected), "expected `{expected}` in: {}", ran.stderr);
        assert_eq!(ran.stdout, "");
        assert!(!dir.path().join("ran").exists(), "a step ran: {text}");
    }
    let empty = tempfile::tempdir().unwrap();
    let ran = up_in(empty.path(), &[], &[]);
    assert_eq!(ran.code, Some(2));
    assert!(ran.stderr.contains("cannot read `tend.toml`"), "{}", ran.stderr);
    for bad in [&["--jobs", "0"][..], &["--mode", "waves"]] {
        let ran = up_in(empty.path(), bad, &[]);
        assert_eq!(ran.code, Some(2), "{bad:?}: {}", ran.stderr);
    }
}

#[test]
fn yaml_files_run_too_and_flags_reach_the_runner() {
    let yaml =
        "steps:\n  first:\n    run: echo one\n  second:\n    run: echo two\n    after: [first]\n";
    let (dir, path) = pipeline_file("pipeline.yml", yaml);
    let ran = up_in(
        dir.path(),
        &[path.to_str().unwrap(), "--mode", "sequential", "--jobs", "1", "--fail-fast"],
        &[],
    );
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(ran.stdout.contains("first  | one\nsecond | two\n"), "{}", ran.stdout);
}

#[test]
fn ctrl_c_stops_every_step_and_exits_130() {
    interrupt_with(rustix::process::Signal::INT);
}

#[test]
fn sigterm_stops_every_step_and_exits_130() {
    interrupt_with(rustix::process::Signal::TERM);
}

/// Runs a pipeline whose first step leaves two children, sends `signal` to `tend up` once the
/// step is ready, and checks the exit code, the step's group and that nothing else started.
fn interrupt_with(signal: rustix::process::Signal) {
    let text = "[steps.spawner]\ncommand = \"FIXTURE\"\nargs = [\"spawn\", \"2\", \"60\"]\n\n\
                [steps.later]\nrun = \"touch ran\"\nafter = [\"spawner\"]\n";
    let (dir, _) = pipeline_file("tend.toml", text);
    let mut child = spawn(&[], dir.path(), &[]);
    let _tend = Reaper(vec![child.id()]);
    let stderr = drain(child.stderr.take().unwrap());
    let (lines_tx, lines) = mpsc::channel();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut pids = Vec::new();
    let mut seen = Vec::new();
    let deadline = Instant::now() + BOUND;
    while !seen.iter().any(|l: &String| l.ends_with("| ready")) {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines.recv_timeout(left).expect("the step says ready");
        if let Some(pid) = line.strip_prefix("spawner | pid ") {
            pids.push(pid.parse::<u32>().unwrap());
        }
        seen.push(line);
    }
    let _children = Reaper(pids.clone());
    assert_eq!(pids.len(), 2, "{seen:?}");
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(child.id() as i32).unwrap(),
        signal,
    )
    .unwrap();
    let code = wait_bounded(&mut child);
    let rest: Vec<String> = lines.try_iter().collect();
    assert_eq!(code, Some(130), "{rest:?}\n{}", stderr.recv().unwrap());
    assert!(pids.iter().all(|&pid| !pid_alive(pid)), "a step's child outlived tend up");
    assert!(rest.iter().any(|l| l.starts_with("spawner") && l.contains("cancelled")), "{rest:?}");
    assert!(!dir.path().join("ran").exists(), "a step started after the interrupt");
}

#[test]
fn a_terminal_gets_colours_and_the_progress_line_unless_no_color() {
    let (dir, _) = pipeline_file("tend.toml", "[steps.hello]\nrun = \"echo hi; sleep 0.3\"\n");
    let command = format!("'{}' up", tend_bin().display());
    // `script` runs the command on a pseudo-terminal and copies what it printed.
    let on_terminal = |envs: &[(&str, &str)]| {
        let mut script = Command::new("script");
        script.args(["-qec", &command, "/dev/null"]).current_dir(dir.path()).env_remove("NO_COLOR");
        script.envs(envs.iter().copied()).stdin(Stdio::null()).stdout(Stdio::piped());
        let mut child = script.spawn().expect("`script` (util-linux) runs");
        let out = drain(child.stdout.take().unwrap());
        assert_eq!(wait_bounded(&mut child), Some(0));
        out.recv().unwrap()
    };
    let fancy = on_terminal(&[]);
    assert!(fancy.contains("\x1b[1;36mhello\x1b[0m | hi"), "{fancy:?}");
    assert!(
        fancy.contains("running 1 (hello)"),
        "the progress line names the running step: {fancy:?}"
    );
    assert!(fancy.contains("\x1b[32mpassed"), "{fancy:?}");

    let plain = on_terminal(&[("NO_COLOR", "1")]);
    assert!(plain.contains("hello | hi"), "{plain:?}");
    assert!(!plain.contains('\x1b'), "{plain:?}");
}

/// `tend up` supervises on one thread: a stdout nobody reads (a full pipe, a terminal stopped
/// with Ctrl-S) must stall only the printing, not Ctrl-C and the stopping of the steps.
#[test]
fn ctrl_c_stops_the_steps_while_stdout_is_not_read() {
    // More output than a pipe holds, then a step that runs on until it is stopped.
    let text = "[steps.flood]\n\
                run = \"yes flood | head -c 2000000; echo $$ > pid.tmp; mv pid.tmp pid; exec sleep 60\"\n";
    let (dir, _) = pipeline_file("tend.toml", text);
    let mut child = spawn(&[], dir.path(), &[]);
    let _tend = Reaper(vec![child.id()]);
    let stderr = drain(child.stderr.take().unwrap());
    let stdout = child.stdout.take().unwrap();
    let pid_file = dir.path().join("pid");
    let deadline = Instant::now() + BOUND;
    let pid = loop {
        if let Ok(pid) = std::fs::read_to_string(&pid_file) {
            break pid.trim().parse::<u32>().unwrap();
        }
        assert!(Instant::now() < deadline, "the step never wrote its pid");
        std::thread::sleep(Duration::from_millis(10));
    };
    let _step = Reaper(vec![pid]);
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(child.id() as i32).unwrap(),
        rustix::process::Signal::INT,
    )
    .unwrap();
    // Still nobody reads stdout: the step must be stopped all the same.
    let deadline = Instant::now() + BOUND;
    while pid_alive(pid) {
        assert!(Instant::now() < deadline, "the step outlived Ctrl-C while stdout was full");
        std::thread::sleep(Duration::from_millis(10));
    }
    let stdout = drain(stdout);
    let code = wait_bounded(&mut child);
    let printed = stdout.recv().unwrap();
    assert_eq!(code, Some(130), "{}", stderr.recv().unwrap());
    assert!(printed.lines().any(|l| l.starts_with("flood") && l.contains("cancelled")));
}
