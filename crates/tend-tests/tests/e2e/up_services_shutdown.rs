//! `tend up` with services (issue 13), how a session ends: shutdown in reverse dependency
//! order (observed from the stop timestamps the fixtures write), each service's own stop
//! signal and grace, a second Ctrl-C that kills everything at once, `--exit-after-steps` with
//! passing and failing steps, Ctrl-C or SIGTERM once the steps have finished (exit 0,
//! services `stopped`) and while a step runs (exit 130). Nothing is left running in any case.

use std::time::{Duration, Instant};

use rustix::process::Signal;

use crate::support::pid_alive;
use crate::up_support::{Project, free_port, ms, service, step};

/// `db` ← `api` ← `web` (each ready on its port, each taking 300 ms to stop after TERM) and
/// `cache` with no dependency, then the step `tests` after `web` (exit `code`).
fn chain(project: &Project, tests_code: &str) {
    let mut text = String::new();
    let mut previous: Option<&str> = None;
    for name in ["db", "api", "web"] {
        let address = format!("127.0.0.1:{}", free_port());
        let after = previous.map(|p| format!("after = [\"{p}\"]\n")).unwrap_or_default();
        text += &project.service(
            name,
            &["--listen", &address, "--term-delay", "0.3"],
            &format!("{after}ready = {{ tcp = \"{address}\", interval = \"50ms\" }}"),
        );
        previous = Some(name);
    }
    text += &project.service("cache", &["--term-delay", "0.3"], "");
    text += &project.step(
        "tests",
        &["--exit-after", "0", "--exit-code", tests_code],
        "after = [\"web\"]",
    );
    project.write("tend.toml", &text);
}

#[test]
fn exit_after_steps_stops_services_in_reverse_dependency_order_and_exits_0() {
    let project = Project::new();
    chain(&project, "0");
    let ran = project.up(&["--exit-after-steps", "--json"]).finish();
    assert_eq!(ran.code, Some(0), "{}", ran.both());
    let report = ran.report();
    assert_eq!(report["success"], true, "{report:#}");
    for name in ["db", "api", "web", "cache"] {
        assert_eq!(service(&report, name)["status"], "stopped", "{name}: {report:#}");
    }
    let timeline = project.timeline();
    let at = |name: &str, event: &str| {
        timeline.time(name, event).unwrap_or_else(|| panic!("no `{name} {event}`: {timeline:?}"))
    };
    // Each dependency is asked to stop only once its dependent has exited.
    for (dependent, dependency) in [("web", "api"), ("api", "db")] {
        let exited = at(dependent, "exiting");
        let asked = at(dependency, "term");
        assert!(
            asked >= exited,
            "{dependency} got TERM {:.1} ms before {dependent} had stopped: {timeline:?}",
            ms(exited - asked)
        );
    }
    // The steps finished before anything was stopped.
    assert!(at("tests", "exiting") <= at("web", "term"), "{timeline:?}");
    // `cache` depends on nothing and nothing depends on it: it is not held behind the chain.
    assert!(at("cache", "term") < at("db", "term"), "{timeline:?}");
}

#[test]
fn exit_after_steps_with_a_failing_step_stops_services_and_exits_1() {
    let project = Project::new();
    chain(&project, "1");
    let ran = project.up(&["--exit-after-steps"]).finish();
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    assert!(ran.stdout.contains("FAILED"), "{}", ran.stdout);
    for name in ["db", "api", "web", "cache"] {
        assert!(ran.lines_of(name).contains(&"stopped"), "`{name} | stopped`:\n{}", ran.stdout);
    }
    let timeline = project.timeline();
    // The step ran after `web` was ready, which was after `db` and `api` were.
    let tests = timeline.time("tests", "started").unwrap();
    for name in ["db", "api", "web"] {
        assert!(timeline.time(name, "listening").unwrap() < tests, "{timeline:?}");
    }
}

#[test]
fn stop_signal_and_grace_are_each_services_own_then_the_group_is_killed() {
    let project = Project::new();
    let text = [
        project.service("polite", &["--stop-signal", "INT"], "stop_signal = \"INT\""),
        project.service("numbered", &["--stop-signal", "HUP"], "stop_signal = 1"),
        project.service("stubborn", &["--ignore-term"], "grace = \"500ms\""),
        project.step(
            "tests",
            &["--exit-after", "0.2"],
            "after = [\"polite\", \"numbered\", \"stubborn\"]",
        ),
    ]
    .concat();
    project.write("tend.toml", &text);
    let ran = project.up(&["--exit-after-steps", "--json"]).finish();
    assert_eq!(ran.code, Some(0), "{}", ran.both());
    let report = ran.report();
    let timeline = project.timeline();
    assert_eq!(timeline.events("polite"), ["started", "int", "exiting"], "{timeline:?}");
    assert_eq!(timeline.events("numbered"), ["started", "hup", "exiting"], "{timeline:?}");
    // `stubborn` ignored TERM: after its 500 ms grace, SIGKILL.
    assert_eq!(timeline.events("stubborn"), ["started", "term"], "{timeline:?}");
    let stubborn = service(&report, "stubborn");
    assert_eq!(stubborn["status"], "stopped", "{stubborn:#}");
    assert_eq!(stubborn["signal"], "SIGKILL", "{stubborn:#}");
    let pid = timeline.first("stubborn", "started").unwrap().pid;
    assert!(!pid_alive(pid));
}

/// Two services that ignore TERM with a long grace, `web` after `db`; returns the project,
/// the running `tend up` and both PIDs once both are up.
fn stubborn_pair(extra_args: &[&str]) -> (Project, crate::up_support::Up) {
    let project = Project::new();
    let text = [
        project.service("db", &["--ignore-term"], "grace = \"30s\""),
        project.service("web", &["--ignore-term"], "grace = \"30s\"\nafter = [\"db\"]"),
    ]
    .concat();
    project.write("tend.toml", &text);
    let up = project.up(extra_args);
    project.wait_timeline("both services started", |t| {
        t.first("db", "started").is_some() && t.first("web", "started").is_some()
    });
    (project, up)
}

#[test]
fn a_second_ctrl_c_kills_everything_at_once() {
    let (project, mut up) = stubborn_pair(&[]);
    up.signal(Signal::INT);
    // The first one asks `web` (the dependent) to stop; it ignores it, and `db` waits behind.
    project.wait_timeline("web got TERM", |t| t.first("web", "term").is_some());
    let sent = Instant::now();
    up.signal(Signal::INT);
    let ran = up.finish_within(Duration::from_secs(10));
    let took = sent.elapsed();
    assert!(took < Duration::from_secs(5), "the second Ctrl-C took {took:?}, not at once");
    let timeline = project.timeline();
    for name in ["db", "web"] {
        let pid = timeline.first(name, "started").unwrap().pid;
        assert!(!pid_alive(pid), "{name} ({pid}) outlived tend up: {}", ran.both());
    }
    // `db` was never asked to stop gracefully: `web` had not stopped.
    assert_eq!(timeline.events("db"), ["started"], "{timeline:?}");
}

#[test]
fn sigkill_of_tend_up_leaves_no_service_behind() {
    let (project, mut up) = stubborn_pair(&[]);
    up.signal(Signal::KILL);
    let ran = up.finish_within(Duration::from_secs(10));
    assert_eq!(ran.code, None, "killed");
    let timeline = project.timeline();
    for name in ["db", "web"] {
        assert!(!pid_alive(timeline.first(name, "started").unwrap().pid), "{name} outlived tend");
    }
}

/// `db` (ready on its port) and the step `seed` after it, which exits 0 after `seed_for`.
fn db_and_seed(project: &Project, seed_for: &str) {
    let address = format!("127.0.0.1:{}", free_port());
    let text = [
        project.service(
            "db",
            &["--listen", &address],
            &format!("ready = {{ tcp = \"{address}\", interval = \"50ms\" }}"),
        ),
        project.step("seed", &["--exit-after", seed_for], "after = [\"db\"]"),
    ]
    .concat();
    project.write("tend.toml", &text);
}

fn stop_after_the_steps_finished(signal: Signal) {
    let project = Project::new();
    db_and_seed(&project, "0");
    let mut up = project.up(&["--json"]);
    project.wait_timeline("seed to exit", |t| t.first("seed", "exiting").is_some());
    // The step is over, but without --exit-after-steps `tend up` keeps the services running.
    let db = project.timeline().first("db", "started").unwrap().pid;
    std::thread::sleep(Duration::from_millis(300));
    assert!(pid_alive(db), "db ended without being asked");
    up.signal(signal);
    let ran = up.finish();
    assert_eq!(ran.code, Some(0), "a normal stop: {}", ran.both());
    let report = ran.report();
    assert_eq!(report["success"], true, "{report:#}");
    assert_eq!(service(&report, "db")["status"], "stopped", "{report:#}");
    assert_eq!(step(&report, "seed")["status"], "passed", "{report:#}");
    assert_eq!(project.timeline().events("db"), ["started", "listening", "term", "exiting"]);
}

#[test]
fn ctrl_c_after_the_steps_finished_exits_0_with_services_stopped() {
    stop_after_the_steps_finished(Signal::INT);
}

#[test]
fn sigterm_after_the_steps_finished_exits_0_with_services_stopped() {
    stop_after_the_steps_finished(Signal::TERM);
}

#[test]
fn ctrl_c_on_services_alone_is_a_normal_stop_without_failed() {
    let project = Project::new();
    project.write("tend.toml", &project.service("web", &[], ""));
    let mut up = project.up(&[]);
    project.wait_timeline("web started", |t| t.first("web", "started").is_some());
    up.signal(Signal::INT);
    let ran = up.finish();
    assert_eq!(ran.code, Some(0), "{}", ran.both());
    assert!(!ran.stdout.contains("FAILED"), "{}", ran.stdout);
    assert!(ran.lines_of("web").contains(&"stopped"), "{}", ran.stdout);
}

#[test]
fn ctrl_c_while_a_step_runs_exits_130() {
    let project = Project::new();
    db_and_seed(&project, "60");
    let mut up = project.up(&["--json", "--exit-after-steps"]);
    project.wait_timeline("seed to start", |t| t.first("seed", "started").is_some());
    up.signal(Signal::INT);
    let ran = up.finish();
    assert_eq!(ran.code, Some(130), "{}", ran.both());
    let report = ran.report();
    assert_eq!(report["success"], false);
    assert_eq!(step(&report, "seed")["status"], "cancelled", "{report:#}");
    assert_eq!(service(&report, "db")["status"], "stopped", "{report:#}");
    // The step was stopped before the service it runs after.
    let timeline = project.timeline();
    assert!(timeline.time("seed", "term").unwrap() <= timeline.time("db", "term").unwrap());
}

#[test]
fn ctrl_c_before_a_service_started_makes_it_cancelled() {
    let project = Project::with_web_after_a_db_never_ready();
    let mut up = project.up(&["--json"]);
    project.wait_timeline("db started", |t| t.first("db", "started").is_some());
    up.signal(Signal::INT);
    let ran = up.finish();
    let report = ran.report();
    let web = service(&report, "web");
    assert_eq!(web["status"], "cancelled", "{web:#}");
    assert_eq!(web["error"], "cancelled before it started", "{web:#}");
    assert_eq!(service(&report, "db")["status"], "stopped", "{report:#}");
    assert_eq!(project.timeline().events("web"), Vec::<&str>::new());
}
