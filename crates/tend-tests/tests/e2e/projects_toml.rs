//! `POST /api/v1/projects` with a `tend.toml` as the body (`Content-Type: application/toml`,
//! what the web UI's form sends), against a real daemon: read by the loader `tend up -d`
//! uses, a bad file refused naming its line, JSON bodies unchanged.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::real_daemon::RealDaemon;
use crate::server_support::{Reply, send};

/// `POST /api/v1/projects?QUERY` with the token and `body` as TOML.
async fn apply_toml(daemon: &RealDaemon, query: &str, body: &str) -> Reply {
    let auth = format!("Bearer {}", daemon.token);
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/toml")];
    let path = format!("/api/v1/projects?{query}");
    send(daemon.addr, "POST", &path, &daemon.addr.to_string(), &headers, body.as_bytes()).await
}

/// The project once its `web` service runs (at most 20 s).
async fn running_web(daemon: &RealDaemon, project: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let info = daemon.call("GET", &format!("/projects/{project}"), None).await.json();
        let web = info["services"].as_array().and_then(|s| s.iter().find(|s| s["name"] == "web"));
        if web.is_some_and(|web| web["process"]["status"] == "running") {
            return info;
        }
        assert!(Instant::now() < deadline, "web not running: {info}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_tend_toml_is_applied_as_tend_up_d_would() {
    let daemon = RealDaemon::start();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("shop.env"), "GREETING=hello from the env file\n").unwrap();
    let dir_text = dir.path().to_str().unwrap();
    let file = r#"env_file = "shop.env"

[services.web]
run = "echo \"$GREETING in $PWD\"; exec sleep 300"
"#;
    let reply = apply_toml(&daemon, &format!("name=shop&dir={dir_text}"), file).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    assert_eq!(reply.json()["project"]["name"], "shop");
    let project = running_web(&daemon, "shop").await;
    assert_eq!(project["dir"], dir_text);
    // The env file beside it was read, relative paths resolve in `dir`, which it runs in.
    let web = project["services"].as_array().unwrap().iter().find(|s| s["name"] == "web").unwrap();
    let id = web["process"]["id"].as_str().expect("the service's process id");
    let expected = format!("hello from the env file in {dir_text}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let output = daemon.call("GET", &format!("/processes/{id}/output"), None).await.json();
        if output.to_string().contains(&expected) {
            break;
        }
        assert!(Instant::now() < deadline, "no `{expected}` in {output}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_tend_toml_is_refused_naming_the_line() {
    let daemon = RealDaemon::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let query = format!("name=shop&dir={}", dir.path().to_str().unwrap());
    let cases = [
        ("[services.web]\nrun = \"sleep 1\"\ncomand = \"x\"\n", "tend.toml:3:1: service `web`"),
        ("[services.web\nrun = 1\n", "tend.toml:1:"),
        ("[services.web]\nrun = \"x\"\nafter = [\"db\"]\n", "tend.toml: "),
    ];
    for (file, named) in cases {
        let reply = apply_toml(&daemon, &query, file).await;
        assert_eq!((reply.status, reply.code().as_str()), (400, "invalid_request"), "{file}");
        let message = reply.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(named), "{file}: {message}");
    }
    let file = "[services.web]\nrun = \"sleep 300\"\n";
    for (query, named) in [
        ("dir=/tmp", "`name`"),
        ("name=shop&dir=relative/dir", "`dir`"),
        ("name=shop&colour=red", "`colour`"),
        ("name=.hidden&dir=/tmp", "name"),
    ] {
        let reply = apply_toml(&daemon, query, file).await;
        assert_eq!(reply.status, 400, "{query}: {reply:?}");
        let message = reply.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(named), "{query}: {message}");
    }
    // Nothing was applied; and the JSON body still works as before.
    assert_eq!(daemon.call("GET", "/projects", None).await.json(), serde_json::json!([]));
    let body = serde_json::json!({"name": "shop", "dir": dir.path(), "services": {"web": {"run": "sleep 300"}}});
    assert_eq!(daemon.call("POST", "/projects", Some(body)).await.status, 201);
}
