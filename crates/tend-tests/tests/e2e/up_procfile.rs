//! `tend up Procfile` (issue 13): each `NAME: COMMAND` line a bash service, `.env` beside the
//! Procfile loaded, `PORT` = 5000 + 100 × index unless `.env` sets it; when one process ends
//! the others are stopped and `tend up` exits with its status (128+N for a signal); `tend up`
//! without FILE finds `tend.toml`, `tend.yaml`/`tend.yml`, then `Procfile`; a malformed line
//! is exit 2 naming it.

use crate::support::FIXTURE;
use crate::up_support::{Project, Ran, service};

/// A Procfile line running the fixture `serve` as `name`, printing `PORT` and `GREETING`.
fn process(project: &Project, name: &str, extra: &str) -> String {
    format!(
        "{name}: exec '{FIXTURE}' serve --name {name} --timeline '{}' --print-env PORT --print-env GREETING {extra}\n",
        project.timeline_path().display()
    )
}

fn printed(ran: &Ran, name: &str) -> Vec<String> {
    ran.lines_of(name).into_iter().map(str::to_owned).collect()
}

#[test]
fn a_procfile_runs_its_processes_with_ports_and_dotenv_and_exits_with_the_first_to_end() {
    let project = Project::new();
    let procfile = [
        "# the app\n".to_owned(),
        process(&project, "web", ""),
        "\n".to_owned(),
        process(&project, "worker", ""),
        process(&project, "clock", "--exit-after 1 --exit-code 3"),
    ]
    .concat();
    project.write("Procfile", &procfile);
    project.write(".env", "# shared\nGREETING='hello there'\n");
    // Run from elsewhere: `.env` is the Procfile's.
    let elsewhere = tempfile::tempdir().unwrap();
    let path = project.path().join("Procfile");
    let ran = project.up_in(elsewhere.path(), &[path.to_str().unwrap()], &[]).finish();
    assert_eq!(ran.code, Some(3), "the first one to end exited 3: {}", ran.both());
    for (name, port) in [("web", 5000), ("worker", 5100), ("clock", 5200)] {
        let lines = printed(&ran, name);
        assert!(lines.contains(&format!("PORT={port}")), "{name}: {lines:?}\n{}", ran.stdout);
        assert!(lines.contains(&"GREETING=hello there".to_owned()), "{name}: {lines:?}");
    }
    let timeline = project.timeline();
    for name in ["web", "worker"] {
        assert_eq!(timeline.events(name), ["started", "term", "exiting"], "{name}: {timeline:?}");
        assert!(
            timeline.time(name, "term").unwrap() >= timeline.time("clock", "exiting").unwrap(),
            "{name} was stopped before clock ended: {timeline:?}"
        );
        assert!(ran.lines_of(name).contains(&"stopped"), "{}", ran.stdout);
    }
}

#[test]
fn a_procfile_json_report_has_the_ended_one_failed_and_the_others_stopped() {
    let project = Project::new();
    let procfile = [
        process(&project, "web", ""),
        process(&project, "clock", "--exit-after 0.5 --exit-code 3"),
    ]
    .concat();
    project.write("Procfile.dev", &procfile);
    let ran = project.up(&["Procfile.dev", "--json"]).finish();
    assert_eq!(ran.code, Some(3), "{}", ran.both());
    let report = ran.report();
    let clock = service(&report, "clock");
    assert_eq!((&clock["status"], &clock["exit_code"]), (&"failed".into(), &3.into()), "{clock:#}");
    assert_eq!(clock["restarts"], 0, "restart never: {clock:#}");
    assert_eq!(service(&report, "web")["status"], "stopped");
}

#[test]
fn dotenv_port_wins_and_a_process_ending_by_a_signal_is_128_plus_n() {
    let project = Project::new();
    let procfile =
        [process(&project, "web", ""), "crash: sleep 0.5; kill -KILL $$\n".to_owned()].concat();
    project.write("Procfile", &procfile);
    project.write(".env", "PORT=8000\n");
    let ran = project.up(&[]).finish();
    assert_eq!(ran.code, Some(128 + 9), "{}", ran.both());
    assert!(printed(&ran, "web").contains(&"PORT=8000".to_owned()), "{}", ran.stdout);
    assert!(printed(&ran, "web").contains(&"GREETING=<unset>".to_owned()), "{}", ran.stdout);
}

#[test]
fn a_process_ending_with_0_makes_tend_up_exit_0() {
    let project = Project::new();
    let procfile = [process(&project, "web", ""), "once: echo done\n".to_owned()].concat();
    project.write("Procfile", &procfile);
    let ran = project.up(&[]).finish();
    assert_eq!(ran.code, Some(0), "{}", ran.both());
    assert!(printed(&ran, "once").contains(&"done".to_owned()), "{}", ran.stdout);
}

#[test]
fn a_malformed_procfile_line_is_exit_2_naming_it_and_nothing_runs() {
    let project = Project::new();
    for text in ["web: touch ran\nthis line has no colon\n", "web: touch ran\n: no name\n"] {
        project.write("Procfile", text);
        let ran = project.up(&["Procfile"]).finish();
        assert_eq!(ran.code, Some(2), "{text:?}: {}", ran.both());
        assert!(ran.stderr.contains("Procfile:2"), "names the line: {}", ran.stderr);
        assert_eq!(ran.stdout, "");
        assert!(!project.path().join("ran").exists(), "a process ran");
    }
}

#[test]
fn tend_up_without_a_file_finds_tend_toml_then_yaml_then_procfile() {
    let project = Project::new();
    project.write("Procfile", "which: echo procfile\n");
    let which = |expected: &str, why: &str| {
        let ran = project.up(&[]).finish();
        assert_eq!(ran.code, Some(0), "{}", ran.both());
        let said: Vec<String> = printed(&ran, "which")
            .into_iter()
            .filter(|l| ["procfile", "yml", "yaml", "toml"].contains(&l.as_str()))
            .collect();
        assert_eq!(said, [expected], "{why}: {}", ran.both());
    };
    which("procfile", "only a Procfile");
    project.write("tend.yml", "steps:\n  which:\n    run: echo yml\n");
    which("yml", "tend.yml before Procfile");
    project.write("tend.yaml", "steps:\n  which:\n    run: echo yaml\n");
    which("yaml", "tend.yaml before tend.yml");
    project.write("tend.toml", "[steps.which]\nrun = \"echo toml\"\n");
    which("toml", "tend.toml first");
}

#[test]
fn tend_up_without_a_file_in_an_empty_directory_is_exit_2_naming_what_it_looked_for() {
    let project = Project::new();
    let ran = project.up(&[]).finish();
    assert_eq!(ran.code, Some(2), "{}", ran.both());
    for name in ["tend.toml", "tend.yaml", "Procfile"] {
        assert!(ran.stderr.contains(name), "`{name}` in: {}", ran.stderr);
    }
}
