//! `tend up examples/stack.toml --exit-after-steps` (issue 13): the README's stack runs as
//! given — setup step, the API (tend's own daemon) ready over HTTP, the worker ready on a log
//! line, the smoke test against the API — exits 0, writes its log files, and leaves no
//! process behind and the API's port closed.

use std::net::TcpStream;
use std::path::{Path, PathBuf};

use crate::support::tend_bin;
use crate::up_support::{Project, service, step};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

#[test]
fn the_example_stack_runs_its_smoke_test_and_leaves_nothing_behind() {
    // A copy of the example, so its state and logs go to a temporary directory and a run of
    // the test never races a user's run in the checkout.
    let project = Project::new();
    let example = std::fs::read_to_string(repo_root().join("examples/stack.toml")).unwrap();
    project.write("examples/stack.toml", &example);
    // The example runs `tend` from PATH, as after `cargo install`.
    let bin = tend_bin().parent().unwrap().to_owned();
    let path = std::env::join_paths(
        std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let ran = project
        .up_in(
            project.path(),
            &["examples/stack.toml", "--exit-after-steps"],
            &[("PATH", path.to_str().unwrap())],
        )
        .finish();
    assert_eq!(ran.code, Some(0), "{}", ran.both());
    assert!(ran.lines_of("smoke").contains(&"smoke test passed"), "{}", ran.stdout);
    assert!(ran.lines_of("api").iter().any(|l| l.starts_with("ready after ")), "{}", ran.stdout);
    assert!(ran.lines_of("worker").iter().any(|l| l.starts_with("ready after ")), "{}", ran.stdout);
    assert!(ran.lines_of("worker").contains(&"worker: stopping"), "{}", ran.stdout);
    assert!(!ran.stdout.contains("FAILED"), "{}", ran.stdout);
    let logs = project.path().join("examples/.stack/logs");
    let api_log = std::fs::read_to_string(logs.join("api.log")).expect("the API's log file");
    assert!(api_log.contains("listening on http://127.0.0.1:7431"), "{api_log}");
    let worker_log = std::fs::read_to_string(logs.join("worker.log")).expect("the worker's log");
    assert!(worker_log.starts_with("worker: connected to 127.0.0.1:7431\n"), "{worker_log}");
    // The worker's first heartbeat, right after it connected, found the API healthy.
    assert!(worker_log.contains("heartbeat: HTTP/1.1 200 OK\n"), "{worker_log}");
    assert!(
        TcpStream::connect("127.0.0.1:7431").is_err(),
        "the API's port is still open after tend up exited"
    );

    // The same with --json: every service stopped, both steps passed.
    let ran = project
        .up_in(
            project.path(),
            &["examples/stack.toml", "--exit-after-steps", "--json"],
            &[("PATH", path.to_str().unwrap())],
        )
        .finish();
    assert_eq!(ran.code, Some(0), "{}", ran.both());
    let report = ran.report();
    for name in ["api", "worker"] {
        let entry = service(&report, name);
        assert_eq!(entry["status"], "stopped", "{entry:#}");
        assert!(entry["ready_after_ms"].is_number(), "{entry:#}");
    }
    for name in ["prepare", "smoke"] {
        assert_eq!(step(&report, name)["status"], "passed", "{report:#}");
    }
}

/// The README's reference table of service keys has a row for every key a service, its
/// `ready` and its `alive` take (the `_ms` twins are described once, in the text below it).
#[test]
fn the_readme_documents_every_service_key() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let section = readme.split("\n## Services\n").nth(1).expect("a Services section");
    let rows: Vec<&str> = section
        .lines()
        .take_while(|l| !l.starts_with("## "))
        .filter(|l| l.starts_with("| `"))
        .collect();
    let documented = |key: &str| {
        rows.iter().any(|row| {
            row.split(" | ").next().is_some_and(|cell| cell.contains(&format!("`{key}`")))
        })
    };
    let keys = tend::runner::SERVICE_KEYS
        .iter()
        .map(|k| (*k).to_owned())
        .chain(tend::runner::READY_KEYS.iter().map(|k| format!("ready.{k}")))
        .chain(tend::runner::ALIVE_KEYS.iter().map(|k| format!("alive.{k}")))
        .filter(|k| !k.ends_with("_ms"));
    let missing: Vec<String> = keys.filter(|k| !documented(k)).collect();
    assert!(missing.is_empty(), "no README row for {missing:?}");
    assert!(section.contains("`KEY_ms`"), "the `_ms` twins are described");
}
