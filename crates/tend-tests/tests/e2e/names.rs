//! Process names on the daemon: `--name` is unique among processes that are not finished
//! (409 `name_taken`), and a name several records have is an error listing their ids (409
//! `ambiguous`, CLI exit 1) that acts on none of them.

use std::time::Duration;

use serde_json::json;

use crate::cli_client_commands::DaemonUnderTest;
use crate::server_support::{FIXTURE, TestServer, fixture};
use crate::support::eventually;

const LONG: Duration = Duration::from_secs(20);

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The status of process `id` as `tend ps --all --json` shows it.
fn status_of(daemon: &DaemonUnderTest, id: &str) -> String {
    let list: serde_json::Value =
        serde_json::from_str(&daemon.ok(&["ps", "--all", "--json"])).unwrap();
    let found = list.as_array().unwrap().iter().find(|p| p["id"] == id);
    found.unwrap_or_else(|| panic!("{id} not in {list}"))["status"].as_str().unwrap().to_owned()
}

#[test]
fn a_second_start_with_a_taken_name_is_refused_and_stop_never_picks_one() {
    let daemon = DaemonUnderTest::start();
    let first = daemon.ok(&["start", "--name", "web", "--", FIXTURE, "sleep", "30"]);
    let first = first.trim();

    // The symptom: a second `--name web` was accepted, and `tend stop web` then
    // stopped the newer one, printed `killed`, exited 0, and left the older one running.
    let second = daemon.tend(&["start", "--name", "web", "--", FIXTURE, "sleep", "30"]);
    assert_eq!(second.status.code(), Some(1), "{second:?}");
    let message = format!("name `web` is taken by process {first}, which has not finished");
    assert!(stderr(&second).contains(&message), "{}", stderr(&second));
    assert_eq!(daemon.ok(&["ps", "--json"]).matches("\"web\"").count(), 1, "no second record");

    // A finished process does not hold its name: a name used again after its process ended
    // is free (a retry, or `tend start` of the same job tomorrow).
    daemon.ok(&["start", "--name", "job", "--", FIXTURE, "exit", "0"]);
    assert_eq!(daemon.tend(&["wait", "job"]).status.code(), Some(0));
    let again = daemon.ok(&["start", "--name", "job", "--", FIXTURE, "sleep", "30"]);
    let again = again.trim();
    let old = daemon.ok(&["ps", "--all", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&old).unwrap();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "job")
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{old}");
    assert_eq!(ids[1], again);

    // Now `job` is one finished and one running record: every command refuses, naming both.
    let ambiguous = format!("name `job` matches 2 processes: {}, {}; use an id", ids[0], ids[1]);
    for command in [&["stop", "job"][..], &["kill", "job"], &["logs", "job"], &["wait", "job"]] {
        let output = daemon.tend(command);
        assert_eq!(output.status.code(), Some(1), "tend {command:?}: {output:?}");
        assert!(stderr(&output).contains(&ambiguous), "tend {command:?}: {}", stderr(&output));
    }
    assert_eq!(status_of(&daemon, again), "running", "nothing was stopped");

    // An id still works, and so does the name once only one record has it.
    daemon.ok(&["stop", again]);
    assert_ne!(status_of(&daemon, again), "running");
    daemon.ok(&["rm", ids[0]]);
    daemon.ok(&["logs", "job"]);
    daemon.ok(&["stop", "web"]);
    eventually(LONG, "web stopped", || status_of(&daemon, first) != "running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_409_name_taken_and_409_ambiguous() {
    let server = TestServer::start().await;
    let named = |args: &[&str], name: &str| {
        let mut body = fixture(args);
        body["name"] = json!(name);
        body
    };
    let started =
        server.call("POST", "/api/v1/processes", Some(named(&["sleep", "30"], "web"))).await;
    assert_eq!(started.status, 201, "{:?}", started.json());
    let holder = started.json()["id"].as_str().unwrap().to_owned();

    for path in ["/api/v1/processes", "/api/v1/processes/run"] {
        let taken = server.call("POST", path, Some(named(&["exit", "0"], "web"))).await;
        assert_eq!((taken.status, taken.code()), (409, "name_taken".to_owned()), "{path}");
        let message = taken.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(&holder), "{message}");
    }
    let script = json!({ "run": "exit 0", "name": "web" });
    let taken = server.call("POST", "/api/v1/processes", Some(script)).await;
    assert_eq!(taken.code(), "name_taken", "a script is refused the same way");
    assert_eq!(server.service.list().len(), 1, "refused starts leave no record");

    // A finished and a running `job`.
    let done =
        server.call("POST", "/api/v1/processes/run", Some(named(&["exit", "0"], "job"))).await;
    assert_eq!(done.status, 200, "{:?}", done.json());
    let older = done.json()["info"]["id"].as_str().unwrap().to_owned();
    let newer =
        server.call("POST", "/api/v1/processes", Some(named(&["sleep", "30"], "job"))).await;
    assert_eq!(newer.status, 201, "the finished `job` does not hold the name");
    let newer = newer.json()["id"].as_str().unwrap().to_owned();

    let expected = json!({ "error": { "code": "ambiguous", "message":
        format!("name `job` matches 2 processes: {older}, {newer}; use an id") } });
    for (method, path) in [
        ("GET", "/api/v1/processes/job"),
        ("POST", "/api/v1/processes/job/stop"),
        ("POST", "/api/v1/processes/job/kill"),
        ("DELETE", "/api/v1/processes/job"),
        ("GET", "/api/v1/processes/job/output"),
    ] {
        let reply = server.call(method, path, None).await;
        assert_eq!((reply.status, reply.json()), (409, expected.clone()), "{method} {path}");
    }
    let info = server.call("GET", &format!("/api/v1/processes/{newer}"), None).await.json();
    assert_eq!(info["status"], "running", "nothing acted on `job`");

    server.call("POST", &format!("/api/v1/processes/{newer}/kill"), None).await;
    server.call("POST", &format!("/api/v1/processes/{holder}/kill"), None).await;
}
