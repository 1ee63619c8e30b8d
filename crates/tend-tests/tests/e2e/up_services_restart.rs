//! `tend up` with services (issue 13), restarts: a service that keeps exiting non-zero is
//! restarted with exponential backoff until `max_restarts`, then `failed`; liveness failures
//! stop a ready service and the restart goes through `ready` again, without restarting its
//! running dependents.

use std::time::Duration;

use rustix::process::Signal;

use crate::up_support::{Project, free_port, ms, service};

#[test]
fn a_crashing_service_is_restarted_with_growing_delays_until_max_restarts() {
    let project = Project::new();
    let text = project.service(
        "web",
        &["--exit-after", "0.1", "--exit-code", "3"],
        "restart = \"on_failure\"\nmax_restarts = 3\nrestart_delay = \"200ms\"\nrestart_max_delay = \"10s\"",
    );
    project.write("tend.toml", &text);
    // No steps: the run ends once the service has ended for good.
    let ran = project.up(&["--json"]).finish();
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    let report = ran.report();
    let web = service(&report, "web");
    assert_eq!(web["status"], "failed", "{web:#}");
    assert_eq!(web["restarts"], 3, "{web:#}");
    assert_eq!(web["exit_code"], 3, "{web:#}");
    assert!(web["error"].is_string(), "{web:#}");
    let timeline = project.timeline();
    let started: Vec<u64> = timeline.all("web", "started").map(|e| e.unix_nanos).collect();
    let exited: Vec<u64> = timeline.all("web", "exiting").map(|e| e.unix_nanos).collect();
    assert_eq!((started.len(), exited.len()), (4, 4), "1 run + 3 restarts: {timeline:?}");
    // The delay doubles: 200 ms, 400 ms, 800 ms (each measured from the fixture's last word,
    // before tend saw it exit, so the gap is never shorter than the delay).
    for (restart, wanted) in [200.0, 400.0, 800.0].into_iter().enumerate() {
        let gap = ms(started[restart + 1] - exited[restart]);
        assert!(gap >= wanted, "restart {} after {gap:.1} ms, wanted ≥ {wanted} ms", restart + 1);
        assert!(gap < wanted + 3000.0, "restart {} after {gap:.1} ms", restart + 1);
    }
}

#[test]
fn the_text_output_says_how_a_service_ended_and_when_it_restarts() {
    let project = Project::new();
    let text = project.service(
        "web",
        &["--exit-after", "0.1", "--exit-code", "1"],
        "max_restarts = 1\nrestart_delay = \"300ms\"",
    );
    project.write("tend.toml", &text);
    let ran = project.up(&[]).finish();
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    let web = ran.lines_of("web");
    assert!(
        web.iter().any(|l| l.starts_with("exited with code 1; restart 1 in 300ms")),
        "`web | exited with code 1; restart 1 in 300ms`:\n{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("FAILED"), "{}", ran.stdout);
}

#[test]
fn liveness_failures_stop_and_restart_the_service_which_must_be_ready_again() {
    let project = Project::new();
    let address = format!("127.0.0.1:{}", free_port());
    let status_file = project.path().join("status");
    let url = format!("http://{address}/health");
    let text = [
        project.service(
            "web",
            &["--listen", &address, "--http", "200", "--http-file", status_file.to_str().unwrap()],
            &format!(
                "ready = {{ http = \"{url}\", interval = \"50ms\" }}\n\
                 alive = {{ http = \"{url}\", interval = \"100ms\", failures = 2 }}\n\
                 restart_delay = \"300ms\""
            ),
        ),
        project.service("worker", &[], "after = [\"web\"]"),
    ]
    .concat();
    project.write("tend.toml", &text);
    let mut up = project.up(&[]);
    up.wait_lines("web", 1, "web ready", |l| l.starts_with("ready after "));
    project.wait_timeline("worker started", |t| t.first("worker", "started").is_some());

    // The health check starts failing: two failed checks stop it, the policy restarts it.
    write_atomically(&status_file, "500");
    let stdout = up.wait_lines("web", 1, "web not alive", |l| l.starts_with("not alive: "));
    let line = crate::up_support::prefixed_lines(&stdout, "web")
        .into_iter()
        .find(|l| l.starts_with("not alive: "))
        .unwrap()
        .to_owned();
    assert!(line.contains(&url) && line.contains("500"), "{line}");
    assert!(line.contains("(2 failures)") && line.ends_with("stopping"), "{line}");
    let timeline =
        project.wait_timeline("web's second run", |t| t.all("web", "started").count() == 2);
    let first_run = timeline.first("web", "started").unwrap().pid;
    let second = timeline.last("web", "started").unwrap();
    assert_ne!(second.pid, first_run);
    let stopped = timeline.time("web", "term").expect("the failing run got TERM");
    assert!(timeline.time("web", "exiting").unwrap() < second.unix_nanos);
    assert!(ms(second.unix_nanos - stopped) >= 300.0, "restart_delay: {timeline:?}");

    // The new run answers 500 too: it is probed for readiness, and not ready.
    let second_pid = second.pid;
    project.wait_timeline("the second run probed", |t| {
        t.all("web", "http-500").any(|e| e.pid == second_pid)
    });
    std::thread::sleep(Duration::from_millis(300));
    let ready_lines = |stdout: &str| {
        crate::up_support::prefixed_lines(stdout, "web")
            .into_iter()
            .filter(|l| l.starts_with("ready after "))
            .count()
    };
    assert_eq!(ready_lines(&up.stdout()), 1, "ready while answering 500:\n{}", up.stdout());
    std::fs::remove_file(&status_file).unwrap();
    up.wait_lines("web", 2, "web ready again", |l| l.starts_with("ready after "));

    // The running dependent was not restarted.
    let timeline = project.timeline();
    assert_eq!(timeline.all("worker", "started").count(), 1, "{timeline:?}");
    assert_eq!(timeline.first("worker", "term"), None, "{timeline:?}");

    up.signal(Signal::INT);
    let ran = up.finish();
    assert_eq!(ran.code, Some(0), "{}", ran.both());
    let row = ran
        .stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some("web") && !l.contains(" | "))
        .unwrap_or_else(|| panic!("no summary row for web:\n{}", ran.stdout));
    let columns: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(columns.get(1), Some(&"stopped"), "{row}");
    assert_eq!(columns.get(2), Some(&"1"), "one restart (SERVICE STATUS RESTARTS …): {row}");
}

/// Writes `text` to `path` through a temporary file and a rename, so the fixture never reads
/// it half written.
fn write_atomically(path: &std::path::Path, text: &str) {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}
