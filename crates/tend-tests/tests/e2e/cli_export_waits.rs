//! The waits `tend export` writes do wait (issue 16): each format's readiness command for a
//! dependency — systemd's `ExecStartPost=`, Kubernetes' `wait-DEP` initContainer, Nomad's
//! `wait-DEP` prestart task — run with the real `tend` against a real TCP listener and a real
//! HTTP server succeeds, and fails once nothing listens.

use std::net::TcpListener;
use std::process::Command;

use serde_json::Value;

use crate::cli_export::{export, text};
use crate::cli_export_checks::systemd_words;
use crate::cli_probe::flaky_server;
use crate::support::tend_bin;

/// A stack of `db` (ready on a TCP port), `api` after it (ready on HTTP) and `web` after
/// `api`, in a fresh directory; returns the directory, the file, and the TCP listener.
fn stack() -> (tempfile::TempDir, String, TcpListener) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let db = listener.local_addr().unwrap();
    let (api, _) = flaky_server(1);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tend.toml");
    std::fs::write(
        &file,
        format!(
            "[services.db]\ncommand = \"sleep\"\nargs = [\"1000\"]\n\
             ready = {{ tcp = \"{db}\", timeout = \"20s\", interval = \"50ms\" }}\n\
             [services.api]\ncommand = \"sleep\"\nargs = [\"1000\"]\nafter = [\"db\"]\n\
             ready = {{ http = \"http://{api}/health\", timeout = \"20s\", interval = \"50ms\" }}\n\
             [services.web]\ncommand = \"sleep\"\nargs = [\"1000\"]\nafter = [\"api\"]\n"
        ),
    )
    .unwrap();
    let file = file.to_str().unwrap().to_owned();
    (dir, file, listener)
}

/// Runs `argv` to its end; its exit code.
fn run(argv: &[String]) -> i32 {
    let output = Command::new(&argv[0]).args(&argv[1..]).output().expect("run the wait");
    assert!(output.stdout.is_empty(), "{}", text(&output.stdout));
    output.status.code().expect("an exit code")
}

#[test]
fn systemd_exec_start_post_waits_for_each_probe() {
    let (_dir, file, listener) = stack();
    let output = export(&["systemd", &file, "-p", "w"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let units = text(&output.stdout);
    let posts: Vec<Vec<String>> = units
        .lines()
        .filter_map(|line| line.strip_prefix("ExecStartPost="))
        .map(|value| systemd_words(value, true))
        .collect();
    assert_eq!(posts.len(), 2, "{units}");
    for post in &posts {
        assert_eq!(post[0], tend_bin().canonicalize().unwrap().to_str().unwrap());
        assert_eq!(run(post), 0, "{post:?}");
    }
    // Nothing listens any more: the wait fails, and so would the unit's start.
    drop(listener);
    let mut db = posts[0].clone();
    let timeout = db.iter().position(|word| word == "--timeout").unwrap();
    db[timeout + 1] = "300ms".into();
    assert_eq!(run(&db), 1, "{db:?}");
}

#[test]
fn nomad_wait_tasks_run_tend_probe() {
    let (_dir, file, _listener) = stack();
    let output = export(&["nomad", &file, "-p", "w"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let job: Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut waits = 0;
    for group in job["Job"]["TaskGroups"].as_array().unwrap() {
        for task in group["Tasks"].as_array().unwrap() {
            if task["Lifecycle"]["Hook"] != "prestart" {
                continue;
            }
            let config = &task["Config"];
            let mut argv = vec![config["command"].as_str().unwrap().to_owned()];
            argv.extend(
                config["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()),
            );
            assert_eq!(run(&argv), 0, "{argv:?}");
            waits += 1;
        }
    }
    // api waits for db; web for api and, through it, db.
    assert_eq!(waits, 3, "{job:#}");
}

#[test]
fn kubernetes_wait_containers_run_tend_probe_against_the_services() {
    let (_dir, file, listener) = stack();
    let port = listener.local_addr().unwrap().port();
    let output =
        export(&["kubernetes", &file, "-p", "w", "--image", "app:1", "--probe-image", "tend:1"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let manifests = text(&output.stdout);
    // The wait for `db` in `api`'s pod asks db's Service, on the port its probe names.
    let wait = manifests.split("name: \"wait-db\"").next().unwrap();
    let wait = &wait[wait.rfind("- command:").expect("a wait-db container")..];
    let argv: Vec<String> = wait
        .lines()
        .skip(1)
        .map_while(|line| line.trim().strip_prefix("- "))
        .map(|word| serde_json::from_str::<String>(word).unwrap())
        .collect();
    assert_eq!(argv[..4], ["tend", "probe", "tcp", &format!("db:{port}")]);
    assert!(wait.contains("image: \"tend:1\""), "{wait}");
    // Here the Service's name is this host.
    let mut local = argv.clone();
    local[0] = tend_bin().to_str().unwrap().to_owned();
    local[3] = format!("127.0.0.1:{port}");
    assert_eq!(run(&local), 0, "{local:?}");
}
