//! `tend restart|stop|start NAME...` (issue 14): ad-hoc processes and project services by id,
//! name or `PROJECT/NAME`, several at once, and a name that means more than one thing
//! refused (exit 1, listing them) without acting on any.

use std::process::Output;
use std::time::Duration;

use serde_json::{Value, json};

use crate::real_daemon::RealDaemon;
use crate::support::{FIXTURE, pid_alive, until};

const LONG: Duration = Duration::from_secs(20);

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `tend ARGS` against `daemon`, found through the environment (flags appended after the
/// arguments would land in a NAME list or a program's arguments).
async fn tend(daemon: &RealDaemon, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(crate::support::tend_bin());
    command
        .args(args)
        .env("TEND_SERVER", &daemon.url)
        .env("TEND_TOKEN", &daemon.token)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .unwrap_or_else(|_| panic!("tend {args:?} hung"))
        .expect("run tend")
}

/// `tend ARGS`, which must exit 0; its stdout.
async fn ok(daemon: &RealDaemon, args: &[&str]) -> String {
    let output = tend(daemon, args).await;
    assert_eq!(output.status.code(), Some(0), "tend {args:?}: {}", text(&output.stderr));
    text(&output.stdout)
}

/// `GET /processes/{id}`.
async fn process(daemon: &RealDaemon, id: &str) -> Value {
    let reply = daemon.call("GET", &format!("/processes/{id}"), None).await;
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    reply.json()
}

fn pid(info: &Value) -> u32 {
    u32::try_from(info["pid"].as_u64().unwrap_or_else(|| panic!("no pid: {info}"))).unwrap()
}

/// Applies project `name` whose services each run the fixture's `sleep 60`.
async fn apply(daemon: &RealDaemon, name: &str, services: &[&str], dir: &std::path::Path) {
    let services: serde_json::Map<String, Value> = services
        .iter()
        .map(|service| (service.to_string(), json!({"command": FIXTURE, "args": ["sleep", "60"]})))
        .collect();
    let body = json!({"name": name, "dir": dir, "services": services});
    let reply = daemon.call("POST", "/projects", Some(body)).await;
    assert_eq!(reply.status, 201, "apply {name}: {}", String::from_utf8_lossy(&reply.body));
}

/// The project's service `service` once it is `state` with a process; its process info.
async fn service_in(daemon: &RealDaemon, project: &str, service: &str, state: &str) -> Value {
    let deadline = tokio::time::Instant::now() + LONG;
    loop {
        let reply = daemon.call("GET", &format!("/projects/{project}"), None).await;
        assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
        let info = reply.json();
        let services = info["services"].as_array().expect("services");
        let entry = services.iter().find(|s| s["name"] == service).expect("the service");
        if entry["state"] == state && entry["process"].is_object() {
            return entry["process"].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{project}/{service} not {state} after {LONG:?}: {entry}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until `pid` is gone (reaped).
async fn gone(pid: u32) {
    until(LONG, &format!("pid {pid} gone"), || !pid_alive(pid)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_of_an_ad_hoc_process_keeps_its_id_and_counts_one_restart() {
    let daemon = RealDaemon::start();
    let id = ok(&daemon, &["start", "--name", "napper", "--", FIXTURE, "sleep", "60"]).await;
    let id = id.trim();
    let before = process(&daemon, id).await;
    let first = pid(&before);

    let restarted = ok(&daemon, &["restart", "napper"]).await;
    let after = process(&daemon, id).await;
    let second = pid(&after);
    assert_eq!(restarted, format!("restarted napper (pid {first} → {second})\n"));
    assert_ne!(first, second, "a new PID");
    assert_eq!(after["status"], "running", "{after}");
    assert_eq!(after["restarts"], 1, "{after}");
    gone(first).await;
    assert!(pid_alive(second));

    // Several NAMEs: each in turn, a failure reported after the others were done.
    let output = tend(&daemon, &["restart", "ghost", &id[..8]]).await;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(text(&output.stderr).contains("`ghost`"), "{}", text(&output.stderr));
    let third = pid(&process(&daemon, id).await);
    assert_eq!(text(&output.stdout), format!("restarted {} (pid {second} → {third})\n", &id[..8]));
    assert_eq!(process(&daemon, id).await["restarts"], 2);

    // `start NAME` of a running process leaves it; `stop NAME` keeps its one word.
    assert_eq!(ok(&daemon, &["start", "napper"]).await, "napper is already running\n");
    assert_eq!(pid(&process(&daemon, id).await), third);
    assert_eq!(ok(&daemon, &["stop", "napper"]).await, "stopped\n");
    gone(third).await;
    // A finished one starts again as a new process with the same options.
    assert_eq!(ok(&daemon, &["start", "napper"]).await, "started napper\n");
    let list = daemon.call("GET", "/processes", None).await.json();
    let again: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "napper" && p["status"] == "running")
        .collect();
    assert_eq!(again.len(), 1, "{list}");
    assert_ne!(again[0]["id"], id, "a new record");
    assert_eq!(again[0]["args"], json!(["sleep", "60"]));

    // Without `--` and without process options the words are NAMEs, and a program is
    // pointed to `--`.
    let output = tend(&daemon, &["start", "sleep", "5"]).await;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(text(&output.stderr).contains("tend start -- sleep"), "{}", text(&output.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_services_stop_start_and_restart_by_name_and_project_slash_name() {
    let daemon = RealDaemon::start();
    let dir = tempfile::tempdir().unwrap();
    apply(&daemon, "shop", &["web", "worker"], dir.path()).await;
    let web = service_in(&daemon, "shop", "web", "ready").await;
    let worker = service_in(&daemon, "shop", "worker", "ready").await;

    assert_eq!(ok(&daemon, &["stop", "web"]).await, "stopped\n");
    gone(pid(&web)).await;
    service_in(&daemon, "shop", "web", "stopped").await;
    assert!(pid_alive(pid(&worker)), "only web was stopped");

    assert_eq!(ok(&daemon, &["start", "web"]).await, "started web\n");
    let web = service_in(&daemon, "shop", "web", "ready").await;
    assert!(pid_alive(pid(&web)));

    let restarted = ok(&daemon, &["restart", "shop/web"]).await;
    let new_web = service_in(&daemon, "shop", "web", "ready").await;
    assert_eq!(restarted, format!("restarted shop/web (pid {} → {})\n", pid(&web), pid(&new_web)));
    gone(pid(&web)).await;

    // Several at once, one line each.
    assert_eq!(
        ok(&daemon, &["stop", "web", "shop/worker"]).await,
        "stopped web\nstopped shop/worker\n"
    );
    service_in(&daemon, "shop", "worker", "stopped").await;
    gone(pid(&new_web)).await;
    gone(pid(&worker)).await;
    assert_eq!(
        ok(&daemon, &["start", "shop/web", "worker"]).await,
        "started shop/web\nstarted worker\n"
    );
    service_in(&daemon, "shop", "web", "ready").await;
    service_in(&daemon, "shop", "worker", "ready").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ambiguous_name_is_refused_listing_every_match_and_nothing_is_stopped() {
    let daemon = RealDaemon::start();
    let dir = tempfile::tempdir().unwrap();
    // An ad-hoc `cache` first, then a service of that name; and `web` in two projects.
    let cache_id = ok(&daemon, &["start", "--name", "cache", "--", FIXTURE, "sleep", "60"]).await;
    let cache_id = cache_id.trim().to_owned();
    apply(&daemon, "shop", &["web", "cache"], dir.path()).await;
    apply(&daemon, "blog", &["web"], dir.path()).await;
    let shop_web = service_in(&daemon, "shop", "web", "ready").await;
    let blog_web = service_in(&daemon, "blog", "web", "ready").await;
    let shop_cache = service_in(&daemon, "shop", "cache", "ready").await;
    let cache = process(&daemon, &cache_id).await;

    for verb in ["stop", "restart"] {
        let output = tend(&daemon, &[verb, "web"]).await;
        assert_eq!(output.status.code(), Some(1), "tend {verb} web: {output:?}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains("blog/web") && stderr.contains("shop/web"), "{stderr}");
        assert_eq!(text(&output.stdout), "", "nothing done");

        let output = tend(&daemon, &[verb, "cache"]).await;
        assert_eq!(output.status.code(), Some(1), "tend {verb} cache: {output:?}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains("shop/cache") && stderr.contains(&cache_id), "{stderr}");
    }
    for (what, info) in [
        ("shop/web", &shop_web),
        ("blog/web", &blog_web),
        ("shop/cache", &shop_cache),
        ("cache", &cache),
    ] {
        let now = service_or_process(&daemon, what, info).await;
        assert_eq!(pid(&now), pid(info), "{what} untouched");
        assert!(pid_alive(pid(info)), "{what} still running");
    }

    // PROJECT/NAME and an id say which.
    assert_eq!(
        ok(&daemon, &["stop", "blog/web", &cache_id]).await,
        format!("stopped blog/web\nstopped {cache_id}\n")
    );
    gone(pid(&blog_web)).await;
    gone(pid(&cache)).await;
    assert!(pid_alive(pid(&shop_web)) && pid_alive(pid(&shop_cache)));
}

/// The current process of `what` (`PROJECT/NAME` or an ad-hoc process's name).
async fn service_or_process(daemon: &RealDaemon, what: &str, info: &Value) -> Value {
    match what.split_once('/') {
        Some((project, service)) => service_in(daemon, project, service, "ready").await,
        None => process(daemon, info["id"].as_str().unwrap()).await,
    }
}
