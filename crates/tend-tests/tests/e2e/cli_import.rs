//! `tend import` (issue 16): process-compose.yaml, supervisord.conf and PM2 ecosystem files
//! (`tests/import_files/`, written in the shape of each tool's documentation examples) as
//! commented tend.toml files: snapshots of the output and of the keys reported as unmapped;
//! round trips where `tend up` runs the imported file and the same processes run, in the same
//! order, stopped with the same signals; invalid input refused with exit 2 naming its line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rustix::process::Signal;
use tend_tests::timeline::Timeline;

use crate::support::{FIXTURE, tend_bin};
use crate::up_support::{Project, Up, free_port, service, step};

/// The directory of the input files.
fn inputs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("import_files")
}

/// `tend import ARGS` run in `dir`.
fn import_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(tend_bin())
        .arg("import")
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("run tend import")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Imports `name` from the input files to stdout; asserts it succeeded, that every key
/// reported on stderr is a comment in the output, and returns `--- stdout … --- stderr …`
/// for a snapshot (the inputs' directory shown as `[HERE]`).
fn imported(name: &str) -> String {
    let out = import_in(&inputs(), &[name]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let reported: Vec<&str> = stderr.lines().collect();
    assert!(!reported.is_empty(), "no unmapped key reported:\n{stdout}");
    for line in reported {
        // `tend import: FILE:LINE: `KEY`: no tend.toml equivalent: WHY`
        let rest = line.strip_prefix(&format!("tend import: {name}:")).expect(line);
        let (number, rest) = rest.split_once(": ").expect(line);
        let key = rest.split('`').nth(1).expect(line);
        let comment = format!("# unmapped: `{key}` (line {number}):");
        assert!(stdout.contains(&comment), "`{comment}` missing from the output:\n{stdout}");
    }
    let here = inputs().canonicalize().unwrap();
    format!("--- stdout\n{stdout}--- stderr\n{stderr}").replace(here.to_str().unwrap(), "[HERE]")
}

#[test]
fn a_process_compose_file_becomes_a_commented_tend_toml() {
    insta::assert_snapshot!("import_process_compose", imported("process-compose.yaml"));
}

#[test]
fn a_supervisord_conf_becomes_a_commented_tend_toml() {
    insta::assert_snapshot!("import_supervisord", imported("supervisord.conf"));
}

#[test]
fn pm2_ecosystem_files_become_commented_tend_tomls() {
    insta::assert_snapshot!("import_pm2_js", imported("ecosystem.config.js"));
    insta::assert_snapshot!("import_pm2_json", imported("ecosystem.config.json"));
}

/// A project holding the input file `name` (each of `ports` in it replaced by a free port)
/// and a `logs` directory, imported there into `tend.toml`.
fn imported_project(name: &str, ports: &[&str]) -> Project {
    let project = Project::new();
    let mut source = std::fs::read_to_string(inputs().join(name)).unwrap();
    for port in ports {
        source = source.replace(port, &free_port().to_string());
    }
    project.write(name, &source);
    std::fs::create_dir(project.path().join("logs")).unwrap();
    let out = import_in(project.path(), &[name, "-o", "tend.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "-o writes the file, not stdout");
    project
}

/// `tend up ARGS` on the project's tend.toml, with the fixture on PATH (the inputs run it by
/// name, as they would run any installed program).
fn up(project: &Project, args: &[&str]) -> Up {
    let fixture_dir = Path::new(FIXTURE).parent().unwrap();
    let path = format!("{}:{}", fixture_dir.display(), std::env::var("PATH").unwrap_or_default());
    project.up_in(project.path(), args, &[("PATH", &path)])
}

/// The time of `name`'s `event`, which must have happened.
fn at(timeline: &Timeline, name: &str, event: &str) -> u64 {
    timeline.time(name, event).unwrap_or_else(|| panic!("no `{name} {event}` in {timeline:?}"))
}

#[test]
fn an_imported_process_compose_file_runs_the_same_processes_in_the_same_order() {
    let project = imported_project("process-compose.yaml", &["18081"]);
    let mut running = up(&project, &["--json"]);
    let timeline =
        project.wait_timeline("worker started", |t| t.time("worker", "started").is_some());
    // db ready (its HTTP answer) → the migrate step → web, once migrate passed → worker,
    // once web printed its ready line.
    assert!(at(&timeline, "db", "http-200") < at(&timeline, "migrate", "started"), "{timeline:?}");
    assert!(at(&timeline, "migrate", "exiting") < at(&timeline, "web", "started"), "{timeline:?}");
    assert!(at(&timeline, "web", "printed") < at(&timeline, "worker", "started"), "{timeline:?}");
    running.signal(Signal::TERM);
    let ran = running.finish();
    assert_eq!(ran.code, Some(0), "{}", ran.both());
    let report = ran.report();
    assert_eq!(step(&report, "migrate")["status"], "passed", "{report:#}");
    for name in ["db", "web", "worker"] {
        assert_eq!(service(&report, name)["status"], "stopped", "{report:#}");
    }
    let names: Vec<&str> = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"seed"), "the disabled process ran: {report:#}");
    // `shutdown.signal: 2` stopped db with SIGINT, after what runs after it had stopped.
    let timeline = project.timeline();
    assert!(at(&timeline, "db", "int") > at(&timeline, "worker", "term"), "{timeline:?}");
    assert!(timeline.time("db", "term").is_none(), "{timeline:?}");
    let log = std::fs::read_to_string(project.path().join("logs/db.log")).unwrap();
    assert!(log.contains("listening"), "db's log_location: {log:?}");
}

#[test]
fn an_imported_supervisord_conf_starts_by_priority_and_stops_in_reverse() {
    let project = imported_project("supervisord.conf", &[]);
    let mut running = up(&project, &[]);
    let stdout = running.wait_lines("reports", 1, "reports started", |l| l.starts_with("started"));
    project.wait_timeline("all four started", |t| {
        ["cache", "api", "worker", "reports"].iter().all(|name| t.time(name, "started").is_some())
    });
    // The order tend started them in (its own lines: a service without a `ready` probe is
    // ready once spawned, a moment before the fixture records its start).
    let started: Vec<&str> = stdout
        .lines()
        .filter(|line| line.contains("| started with pid"))
        .map(|line| line.split(' ').next().unwrap())
        .collect();
    assert_eq!(started.len(), 4, "{stdout}");
    assert_eq!(started[0], "cache", "priority 10 first: {stdout}");
    assert_eq!(started[3], "reports", "priority 999 last: {stdout}");
    running.signal(Signal::TERM);
    let ran = running.finish();
    assert_eq!(ran.code, Some(0), "{}", ran.both());
    for name in ["cache", "api", "worker", "reports"] {
        let stopped = ran.lines_of(name).contains(&"stopped");
        assert!(stopped, "{name} was not stopped by tend:\n{}", ran.both());
    }
    // Stopped in reverse priority (each once what runs after it has exited); cache with its
    // `stopsignal=QUIT`.
    let timeline = project.timeline();
    assert!(at(&timeline, "reports", "exiting") < at(&timeline, "api", "term"), "{timeline:?}");
    assert!(at(&timeline, "api", "exiting") < at(&timeline, "cache", "quit"), "{timeline:?}");
    assert!(at(&timeline, "worker", "exiting") < at(&timeline, "cache", "quit"), "{timeline:?}");
    // `directory=%(here)s` and `stdout_logfile=logs/api.log` (with its continued command line).
    let log = std::fs::read_to_string(project.path().join("logs/api.log")).unwrap();
    assert!(log.contains("api: ready"), "api's log: {log:?}");
}

#[test]
fn an_imported_pm2_file_runs_scripts_with_their_interpreter_and_stops_them_with_sigint() {
    let project = imported_project("ecosystem.config.js", &[]);
    // What `./worker.sh` is (PM2 runs a .sh script with bash): the fixture, saying which
    // arguments it was given.
    project.write(
        "worker.sh",
        "exec tend-fixture serve --name worker --timeline timeline --stop-signal INT \
         --print \"$1|$2|$3\"\n",
    );
    let mut running = up(&project, &[]);
    running.wait_lines("worker", 1, "the worker's arguments", |line| {
        line == "--queue|mail jobs|--verbose"
    });
    project.wait_timeline("api started", |t| t.time("api", "started").is_some());
    running.signal(Signal::TERM);
    let ran = running.finish();
    assert_eq!(ran.code, Some(0), "{}", ran.both());
    let timeline = project.timeline();
    // PM2 stops with SIGINT: both got it, neither a TERM.
    for name in ["api", "worker"] {
        at(&timeline, name, "int");
        assert!(timeline.time(name, "term").is_none(), "{timeline:?}");
    }
    // `log_file`: the api's log, created by tend.
    assert!(project.path().join("logs/api.log").is_file());
}

/// `tend import FILE` of `text` written as `name`: exit 2 and stderr.
fn refused(name: &str, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), text).unwrap();
    let out = import_in(dir.path(), &[name]);
    let stderr = text_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing is written for a refused file");
    stderr
}

fn text_of(out: &Output) -> String {
    text(&out.stderr)
}

#[test]
fn files_invalid_in_their_own_format_exit_2_naming_the_line() {
    let cases: [(&str, &str, &str); 8] = [
        (
            "pc.yaml",
            "processes:\n  web:\n    command: \"unclosed\n  db: [\n",
            "pc.yaml:5: not valid YAML",
        ),
        (
            "pc.yaml",
            "processes:\n  web:\n    command:\n      a: 1\n",
            "pc.yaml:3: `processes.web.command`: expected a string, found a mapping",
        ),
        (
            "pc.yaml",
            "processes:\n  web:\n    command: x\n    depends_on:\n      dbb:\n        condition: process_started\n",
            "pc.yaml:5: `processes.web.depends_on`: no process is named `dbb`",
        ),
        (
            "pc.yaml",
            "processes:\n  web:\n    command: x\n    availability:\n      restart: sometimes\n",
            "pc.yaml:5:",
        ),
        (
            "s.conf",
            "[program:web]\ncommand=/bin/web\njust some words\n",
            "s.conf:3: expected `key = value`",
        ),
        (
            "s.conf",
            "; comment\n\n[program:web]\ncommand=/bin/web \"open\nautorestart=maybe\n",
            "s.conf:4:",
        ),
        (
            "ecosystem.config.js",
            "module.exports = {\n  apps: [{\n    script: require('path').join(__dirname, 'a.js'),\n  }],\n}\n",
            "ecosystem.config.js:3:",
        ),
        (
            "eco.json",
            "{\n  \"apps\": [\n    {\"script\": \"a.js\"},\n  ]\n}\n",
            "eco.json:4: not valid JSON",
        ),
    ];
    for (name, text, expected) in cases {
        let stderr = refused(name, text);
        assert!(
            stderr.contains(expected),
            "{name}: expected `{expected}` in:\n{stderr}\n--- for\n{text}"
        );
    }
}

#[test]
fn an_import_tend_up_would_refuse_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cycle = "processes:\n  a:\n    command: x\n    depends_on:\n      b: {condition: process_started}\n  b:\n    command: y\n    depends_on:\n      a: {condition: process_started}\n";
    std::fs::write(dir.path().join("pc.yaml"), cycle).unwrap();
    let out = import_in(dir.path(), &["pc.yaml", "-o", "tend.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text_of(&out);
    assert!(
        stderr.contains("would be refused by `tend up`") && stderr.contains("cycle"),
        "{stderr}"
    );
    assert!(!dir.path().join("tend.toml").exists());
}

#[test]
fn the_output_file_is_not_replaced_without_force_and_the_format_must_be_known() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pc.yaml"), "processes:\n  web:\n    command: ./web\n").unwrap();
    std::fs::write(dir.path().join("tend.toml"), "# mine\n").unwrap();
    let out = import_in(dir.path(), &["pc.yaml", "-o", "tend.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text_of(&out).contains("--force"), "{}", text_of(&out));
    assert_eq!(std::fs::read_to_string(dir.path().join("tend.toml")).unwrap(), "# mine\n");
    let out = import_in(dir.path(), &["pc.yaml", "-o", "tend.toml", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", text_of(&out));
    let written = std::fs::read_to_string(dir.path().join("tend.toml")).unwrap();
    assert!(written.contains("run = \"./web\""), "{written}");
    // A name that tells nothing: refused, unless --from names the format.
    std::fs::copy(dir.path().join("pc.yaml"), dir.path().join("stack")).unwrap();
    let out = import_in(dir.path(), &["stack"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text_of(&out).contains("--from"), "{}", text_of(&out));
    let out = import_in(dir.path(), &["stack", "--from", "process-compose"]);
    assert_eq!(out.status.code(), Some(0), "{}", text_of(&out));
}

#[test]
fn a_process_waited_for_with_process_completed_is_a_step_whose_failure_blocks_nothing() {
    let project = Project::new();
    // `setup` fails, and `web` waits for it to complete (any exit); `check` must pass first.
    let source = "\
processes:
  setup:
    command: \"tend-fixture serve --name setup --timeline timeline --exit-after 0 --exit-code 3\"
  check:
    command: \"tend-fixture serve --name check --timeline timeline --exit-after 0\"
  web:
    command: \"exec tend-fixture serve --name web --timeline timeline\"
    depends_on:
      setup:
        condition: process_completed
      check:
        condition: process_completed_successfully
";
    project.write("process-compose.yaml", source);
    let out = import_in(project.path(), &["process-compose.yaml", "-o", "tend.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text_of(&out));
    let toml = std::fs::read_to_string(project.path().join("tend.toml")).unwrap();
    assert!(toml.contains("[steps.setup]") && toml.contains("[steps.check]"), "{toml}");
    assert_eq!(toml.matches("allow_failure = true").count(), 1, "only setup may fail: {toml}");
    let mut running = up(&project, &["--json"]);
    let timeline = project.wait_timeline("web started", |t| t.time("web", "started").is_some());
    assert!(at(&timeline, "setup", "exiting") < at(&timeline, "web", "started"), "{timeline:?}");
    assert!(at(&timeline, "check", "exiting") < at(&timeline, "web", "started"), "{timeline:?}");
    running.signal(Signal::TERM);
    let ran = running.finish();
    let report = ran.report();
    assert_eq!(step(&report, "setup")["status"], "allowed_failure", "{report:#}");
    assert_eq!(step(&report, "check")["status"], "passed", "{report:#}");
    assert_eq!(service(&report, "web")["status"], "stopped", "{report:#}");
}

#[test]
fn a_readiness_probe_wins_over_a_ready_log_line_which_is_listed() {
    let dir = tempfile::tempdir().unwrap();
    let source = "processes:\n  db:\n    command: ./db\n    ready_log_line: \"up (1/2)\"\n    readiness_probe:\n      exec:\n        command: ./ping\n  web:\n    command: ./web\n    ready_log_line: \"up (1/2)\"\n";
    std::fs::write(dir.path().join("pc.yaml"), source).unwrap();
    let out = import_in(dir.path(), &["pc.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text_of(&out));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("ready = { exec = \"./ping\" }"), "{stdout}");
    // The line matched literally: its regex characters escaped.
    assert!(stdout.contains(r#"ready = { log = "up \\(1/2\\)" }"#), "{stdout}");
    assert!(
        text_of(&out).contains("pc.yaml:4: `processes.db.ready_log_line`: not imported"),
        "{}",
        text_of(&out)
    );
}
