//! `tend up` with services (issue 13): each readiness probe kind gates a dependent, observed
//! from the timestamps the fixtures write (the dependent starts only after the dependency's
//! port opened, its line was printed, its HTTP answer was a 200, its probe command passed); a
//! service not ready in time fails, its dependents are `skipped` naming it; the `--json`
//! report's `services`.

use tend_tests::timeline::Timeline;

use crate::up_support::{Project, free_port, ms, service, step};

/// A stack `db` ← `web` ← step `check`, `db` gated by `ready`: runs it with
/// `--exit-after-steps --json`, checks it passed with both services `stopped`, and returns
/// the timeline and the report.
fn run_gated(project: &Project, db_args: &[&str], db_keys: &str) -> (Timeline, serde_json::Value) {
    let text = [
        project.service("db", db_args, db_keys),
        // Ready once it printed (after it wrote `started`): stopped at the end, it has
        // always written its start.
        project.service(
            "web",
            &["--print", "web up"],
            "after = [\"db\"]\nready = { log = \"^web up$\" }",
        ),
        project.step("check", &["--exit-after", "0"], "after = [\"web\"]"),
    ]
    .concat();
    project.write("tend.toml", &text);
    let ran = project.up(&["--exit-after-steps", "--json"]).finish();
    assert_eq!(ran.code, Some(0), "{}", ran.both());
    let report = ran.report();
    assert_eq!(report["success"], true, "{report:#}");
    for name in ["db", "web"] {
        let entry = service(&report, name);
        assert_eq!(entry["status"], "stopped", "{entry:#}");
        assert_eq!(entry["restarts"], 0, "{entry:#}");
        assert!(entry["ready_after_ms"].is_number(), "{entry:#}");
        assert!(entry["error"].is_null(), "{entry:#}");
    }
    assert_eq!(step(&report, "check")["status"], "passed");
    (project.timeline(), report)
}

/// Asserts `web` started after `db`'s `event`, which happened a good while after `db` started
/// (the gate was closed for that long, so an ungated start would show).
fn assert_gated(timeline: &Timeline, event: &str) {
    let db_started = timeline.time("db", "started").expect("db started");
    let opened = timeline.time("db", event).unwrap_or_else(|| panic!("db {event}: {timeline:?}"));
    let web = timeline.time("web", "started").expect("web started");
    assert!(opened >= db_started + 500_000_000, "db was ready too soon: {timeline:?}");
    assert!(
        web > opened,
        "web started {:.1} ms before db's `{event}`: {timeline:?}",
        ms(opened.saturating_sub(web))
    );
    let check = timeline.time("check", "started").expect("check started");
    assert!(check > opened, "the step after web ran before db was ready: {timeline:?}");
}

#[test]
fn a_tcp_probe_holds_the_dependent_until_the_port_accepts() {
    let project = Project::new();
    let address = format!("127.0.0.1:{}", free_port());
    let (timeline, report) = run_gated(
        &project,
        &["--listen", &address, "--listen-after", "1"],
        &format!("ready = {{ tcp = \"{address}\", interval = \"50ms\" }}"),
    );
    assert_gated(&timeline, "listening");
    let ready_after = service(&report, "db")["ready_after_ms"].as_f64().unwrap();
    assert!(ready_after >= 900.0, "ready after {ready_after} ms, listening after 1 s");
}

#[test]
fn an_http_probe_waits_through_503s_for_a_2xx() {
    let project = Project::new();
    let address = format!("127.0.0.1:{}", free_port());
    let (timeline, _) = run_gated(
        &project,
        &["--listen", &address, "--listen-after", "0.5", "--http", "503,503,503,200"],
        &format!("ready = {{ http = \"http://{address}/health\", interval = \"100ms\" }}"),
    );
    assert_gated(&timeline, "http-200");
    let answers: Vec<&str> =
        timeline.events("db").into_iter().filter(|e| e.starts_with("http-")).collect();
    assert_eq!(
        &answers[..4],
        ["http-503", "http-503", "http-503", "http-200"],
        "each 503 is a failed check, the 200 the ready one: {timeline:?}"
    );
}

#[test]
fn an_exec_probe_runs_in_the_services_dir_and_env_until_it_exits_0() {
    let project = Project::new();
    let port_file = project.path().join("db.port");
    let (timeline, _) = run_gated(
        &project,
        &[
            "--listen",
            "127.0.0.1:0",
            "--listen-after",
            "1",
            "--port-file",
            port_file.to_str().unwrap(),
        ],
        // Relative to the service's dir (the file's), with the service's own variable.
        "env = { PORT_FILE = \"db.port\" }\nready = { exec = \"test -s \\\"$PORT_FILE\\\"\", interval = \"50ms\" }",
    );
    assert_gated(&timeline, "listening");
}

#[test]
fn a_log_probe_waits_for_a_matching_line_on_stderr() {
    let project = Project::new();
    let (timeline, _) = run_gated(
        &project,
        &[
            "--print",
            "LOG: database system is ready to accept connections",
            "--print-after",
            "1",
            "--print-stream",
            "stderr",
        ],
        "ready = { log = 'ready to accept connections$', interval = \"50ms\" }",
    );
    assert_gated(&timeline, "printed");
}

#[test]
fn the_text_output_says_when_a_service_is_ready_and_stopped_and_sums_services_up() {
    let project = Project::new();
    let address = format!("127.0.0.1:{}", free_port());
    let text = [
        project.service(
            "db",
            &["--listen", &address, "--listen-after", "0.3"],
            &format!("ready = {{ tcp = \"{address}\", interval = \"50ms\" }}"),
        ),
        // Ready once it printed (after it wrote `started`): stopped at the end, it has
        // always written its start.
        project.service(
            "web",
            &["--print", "web up"],
            "after = [\"db\"]\nready = { log = \"^web up$\" }",
        ),
        project.step("check", &["--exit-after", "0"], "after = [\"web\"]"),
    ]
    .concat();
    project.write("tend.toml", &text);
    let ran = project.up(&["--exit-after-steps"]).finish();
    assert_eq!(ran.code, Some(0), "{}", ran.both());
    let db = ran.lines_of("db");
    assert!(
        db.iter()
            .any(|l| l.starts_with("ready after ") && l.ends_with(&format!("(tcp {address})"))),
        "`db | ready after …s (tcp {address})`:\n{}",
        ran.stdout
    );
    assert!(db.contains(&"stopped"), "`db | stopped`:\n{}", ran.stdout);
    assert!(ran.lines_of("web").contains(&"stopped"), "{}", ran.stdout);
    // One summary row per service, with its status.
    for name in ["db", "web"] {
        assert!(
            ran.stdout.lines().any(|l| l.split_whitespace().take(2).eq([name, "stopped"])),
            "no summary row `{name} stopped`:\n{}",
            ran.stdout
        );
    }
    assert!(!ran.stdout.contains("FAILED"), "{}", ran.stdout);
}

/// The stack `db` (never ready) ← `web` ← step `check`.
fn never_ready(project: &Project) -> String {
    let port = free_port();
    let text = [
        project.service(
            "db",
            &[],
            &format!(
                "ready = {{ tcp = \"127.0.0.1:{port}\", interval = \"100ms\", timeout = \"1s\" }}"
            ),
        ),
        // Ready once it printed (after it wrote `started`): stopped at the end, it has
        // always written its start.
        project.service(
            "web",
            &["--print", "web up"],
            "after = [\"db\"]\nready = { log = \"^web up$\" }",
        ),
        project.step("check", &["--exit-after", "0"], "after = [\"web\"]"),
    ]
    .concat();
    project.write("tend.toml", &text);
    format!("127.0.0.1:{port}")
}

#[test]
fn a_service_not_ready_in_time_fails_and_its_dependents_are_skipped_naming_it() {
    let project = Project::new();
    let address = never_ready(&project);
    // No --exit-after-steps: the run ends by itself once nothing can run any more.
    let ran = project.up(&["--json"]).finish();
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    let report = ran.report();
    assert_eq!(report["success"], false);
    let db = service(&report, "db");
    assert_eq!(db["status"], "failed", "{db:#}");
    assert!(db["ready_after_ms"].is_null(), "{db:#}");
    let error = db["error"].as_str().expect("db's error");
    assert!(error.starts_with("not ready after 1s: "), "{error}");
    assert!(error.contains(&format!("tcp {address}: ")), "names the probe: {error}");
    assert!(error.contains("refused"), "the probe's last error: {error}");
    let web = service(&report, "web");
    assert_eq!(web["status"], "skipped", "{web:#}");
    assert_eq!(web["blocked_by"], "db", "{web:#}");
    assert!(web["error"].as_str().unwrap_or_default().contains("`db`"), "{web:#}");
    assert_eq!(step(&report, "check")["status"], "skipped");
    // Everything downstream names the service that failed, not the one between.
    assert_eq!(step(&report, "check")["blocked_by"], "db");
    let timeline = project.timeline();
    assert_eq!(timeline.events("web"), Vec::<&str>::new(), "web started: {timeline:?}");
    assert!(timeline.first("db", "term").is_some(), "db was not stopped: {timeline:?}");
}

#[test]
fn the_summary_names_the_service_that_kept_a_dependent_from_running() {
    let project = Project::new();
    never_ready(&project);
    let ran = project.up(&[]).finish();
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    assert!(ran.lines_of("db").iter().any(|l| l.contains("not ready after 1s")), "{}", ran.stdout);
    let row = |name: &str| {
        ran.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name) && !l.contains(" | "))
            .unwrap_or_else(|| panic!("no summary row for {name}:\n{}", ran.stdout))
    };
    assert!(row("db").contains("failed"), "{}", ran.stdout);
    assert!(row("web").contains("skipped"), "{}", ran.stdout);
    assert!(ran.stdout.contains("skipped because `db`"), "{}", ran.stdout);
    assert!(ran.stdout.contains("FAILED"), "{}", ran.stdout);
}

#[test]
fn json_services_list_every_service_in_declaration_order_with_its_keys() {
    let project = Project::new();
    let text = [
        project.service("zeta", &["--term-exit", "signal"], ""),
        project.service(
            "alpha",
            &["--exit-after", "0.2", "--exit-code", "0"],
            "restart = \"never\"",
        ),
        project.step("check", &["--exit-after", "0.5"], "after = [\"zeta\", \"alpha\"]"),
    ]
    .concat();
    project.write("tend.toml", &text);
    let ran = project.up(&["--exit-after-steps", "--json"]).finish();
    assert_eq!(ran.code, Some(0), "{}", ran.both());
    let report = ran.report();
    let services = report["services"].as_array().expect("services");
    let names: Vec<&str> = services.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["zeta", "alpha"], "declaration order");
    for entry in services {
        for key in ["name", "status", "restarts", "ready_after_ms", "exit_code", "signal", "error"]
        {
            assert!(entry.get(key).is_some(), "no `{key}` in {entry:#}");
        }
    }
    let (zeta, alpha) = (&services[0], &services[1]);
    assert_eq!(zeta["status"], "stopped");
    assert_eq!(zeta["signal"], "SIGTERM", "{zeta:#}");
    assert!(zeta["exit_code"].is_null(), "it died of its stop signal: {zeta:#}");
    assert_eq!(alpha["status"], "exited", "{alpha:#}");
    assert_eq!(alpha["exit_code"], 0, "{alpha:#}");
    assert!(alpha["signal"].is_null(), "{alpha:#}");
    assert_eq!(report["success"], true);
    assert_eq!(report["totals"]["passed"], 1, "steps' totals keep their meaning");
}

#[test]
fn on_a_terminal_the_progress_line_counts_ready_services() {
    let project = Project::new();
    let text = [
        project.service(
            "db",
            &["--print", "db is up", "--print-after", "0.3"],
            "ready = { log = \"up$\", interval = \"50ms\" }",
        ),
        // Ready once it printed (after it wrote `started`): stopped at the end, it has
        // always written its start.
        project.service(
            "web",
            &["--print", "web up"],
            "after = [\"db\"]\nready = { log = \"^web up$\" }",
        ),
        project.step("check", &["--exit-after", "1.5"], "after = [\"web\"]"),
    ]
    .concat();
    project.write("tend.toml", &text);
    let command = format!("'{}' up --exit-after-steps", crate::support::tend_bin().display());
    // `script` runs the command on a pseudo-terminal and copies what it printed.
    let shown_path = project.path().join("shown");
    let mut script = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(project.path())
        .env_remove("NO_COLOR")
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&shown_path).unwrap())
        .spawn()
        .expect("`script` (util-linux) runs");
    let status = crate::support::wait_child(&mut script, crate::up_support::BOUND);
    let shown = std::fs::read_to_string(&shown_path).unwrap();
    assert_eq!(status.code(), Some(0), "{shown}");
    let plain = without_escapes(&shown);
    assert!(plain.contains("2/2 services ready"), "{plain:?}");
    // The step runs (1.5 s) once both services are ready: the line names it.
    assert!(plain.contains("running 1 (check)"), "{plain:?}");
}

/// `text` without its ANSI escape sequences (colours, line erasing).
fn without_escapes(text: &str) -> String {
    let mut plain = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ parameters, then one final byte in @..~.
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

#[test]
fn sequential_mode_starts_each_item_once_the_previous_one_is_ready() {
    let project = Project::new();
    // `b` depends on nothing, but comes after `a` in the file.
    let text = [
        project.service(
            "a",
            &["--print", "a is up", "--print-after", "0.6"],
            "ready = { log = \"up$\", interval = \"50ms\" }",
        ),
        // `b` is ready once it has printed, so its fixture has written `started` by then.
        project.service("b", &["--print", "b up"], "ready = { log = \"^b up$\" }"),
        // (After `b`: which of a step and a service with no `after` comes first is the
        // design's node order — steps first — not the file's.)
        project.step("check", &["--exit-after", "0"], "after = [\"b\"]"),
    ]
    .concat();
    project.write("tend.toml", &text);
    let ran = project.up(&["--mode", "sequential", "--exit-after-steps"]).finish();
    assert_eq!(ran.code, Some(0), "{}", ran.both());
    let timeline = project.timeline();
    let a_ready = timeline.time("a", "printed").expect("a printed");
    let b = timeline.time("b", "started").expect("b started");
    assert!(b > a_ready, "b started before a was ready: {timeline:?}");
    assert!(timeline.time("check", "started").unwrap() > a_ready, "{timeline:?}");
}

#[test]
fn parallel_mode_ignores_after_for_services_too() {
    // `db` is never ready within the run: only `after` could hold `web` back.
    let project = Project::with_web_after_a_db_never_ready();
    let mut up = project.up(&["--mode", "parallel"]);
    project.wait_timeline("web to start beside db", |t| t.first("web", "started").is_some());
    up.signal(rustix::process::Signal::INT);
    let ran = up.finish();
    assert!(ran.lines_of("web").contains(&"stopped"), "{}", ran.both());
}

#[test]
fn jobs_bounds_running_steps_only() {
    let project = Project::new();
    let text = [
        project.step("first", &["--exit-after", "1"], ""),
        project.step("second", &["--exit-after", "0"], ""),
        project.service("a", &[], ""),
        project.service("b", &[], ""),
    ]
    .concat();
    project.write("tend.toml", &text);
    let ran = project.up(&["--jobs", "1", "--exit-after-steps"]).finish();
    assert_eq!(ran.code, Some(0), "{}", ran.both());
    let timeline = project.timeline();
    let at = |name: &str, event: &str| {
        timeline.time(name, event).unwrap_or_else(|| panic!("{name} {event}: {timeline:?}"))
    };
    let (first_ended, second_started) = (at("first", "exiting"), at("second", "started"));
    assert!(second_started > first_ended, "two steps ran at once with --jobs 1: {timeline:?}");
    for service in ["a", "b"] {
        assert!(
            at(service, "started") < first_ended,
            "{service} waited for a step slot: {timeline:?}"
        );
    }
}
