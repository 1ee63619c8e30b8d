//! State that survives a restart of `tend daemon` (issue 14), with real files in a temporary
//! state directory: the applied projects (`projects/NAME.json`) come back up, with new
//! processes, after a SIGTERM and after a SIGKILL (nothing of the earlier daemon left running
//! in between); records of finished processes (`records/ID.json`) are listed again (`ps -a`,
//! `GET /processes/{id}`, `tend logs` from the log files) until `rm`; a corrupt file is set aside as `*.corrupt` and named in
//! the daemon's log; `--no-resume` keeps saved projects without starting them; a project
//! taken down is not saved any more; at most 1,000 records are kept.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use rustix::process::Signal;
use serde_json::{Value, json};

use crate::real_daemon::RealDaemon;
use crate::support::{pid_alive, until};

/// Bound for a project's services to come up, or earlier processes to be gone, on a loaded
/// machine.
const SOON: Duration = Duration::from_secs(20);

/// A state directory that outlives the daemons started on it, and their shared log.
struct StateDir {
    dir: tempfile::TempDir,
}

impl StateDir {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("temp dir") }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// A daemon on a free port keeping its state here, its stderr appended to the log.
    fn start(&self, flags: &[&str]) -> RealDaemon {
        let log = OpenOptions::new().create(true).append(true).open(self.log_path()).unwrap();
        RealDaemon::start_in(&self.path(), flags, Stdio::from(log))
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("daemon.log")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The names in `state/SUB`, sorted.
    fn files(&self, sub: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path().join(sub))
            .map(|entries| entries.map(|e| e.unwrap().file_name().into_string().unwrap()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Writes `bytes` as `state/SUB/NAME`, mode 0600 (as the daemon's own files are, so only
    /// the content is wrong).
    fn plant(&self, sub: &str, name: &str, bytes: &[u8]) {
        let path = self.path().join(sub).join(name);
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        std::io::Write::write_all(&mut file, bytes).unwrap();
    }
}

/// Applies project `name`: two services that sleep (`web`, `worker`).
async fn apply(daemon: &RealDaemon, name: &str) {
    let sleeper = |seconds: &str| json!({"command": "sleep", "args": [seconds]});
    let body = json!({
        "name": name,
        "dir": std::env::temp_dir(),
        "services": {"web": sleeper("300"), "worker": sleeper("301")},
    });
    let reply = daemon.call("POST", "/projects", Some(body)).await;
    assert_eq!(reply.status, 201, "apply {name}: {}", String::from_utf8_lossy(&reply.body));
}

/// Waits until every service of project `name` is ready; their PIDs by service.
async fn services_up(daemon: &RealDaemon, name: &str) -> BTreeMap<String, u32> {
    let deadline = Instant::now() + SOON;
    loop {
        let reply = daemon.call("GET", &format!("/projects/{name}"), None).await;
        let body = String::from_utf8_lossy(&reply.body).into_owned();
        if reply.status == 200
            && let Some(pids) = ready_pids(&reply.json())
        {
            return pids;
        }
        assert!(Instant::now() < deadline, "project {name} not up within {SOON:?}: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A daemon on a new state directory with project `shop` up; its services' PIDs.
async fn shop_up() -> (StateDir, RealDaemon, BTreeMap<String, u32>) {
    let state = StateDir::new();
    let daemon = state.start(&[]);
    apply(&daemon, "shop").await;
    let pids = services_up(&daemon, "shop").await;
    (state, daemon, pids)
}

/// The PIDs of a project's services if every one is ready and running.
fn ready_pids(project: &Value) -> Option<BTreeMap<String, u32>> {
    let services = project["services"].as_array()?;
    let ready = |s: &&Value| s["state"] == "ready" && s["process"]["status"] == "running";
    if services.is_empty() || !services.iter().all(|s| ready(&s)) {
        return None;
    }
    let pid =
        |s: &Value| Some((s["name"].as_str()?.to_owned(), s["process"]["pid"].as_u64()? as u32));
    services.iter().map(pid).collect()
}

/// Starts `sh -c SCRIPT` named `name` and waits for its end; returns its id.
async fn finished(daemon: &RealDaemon, name: &str, script: &str) -> String {
    let body = json!({"command": "sh", "args": ["-c", script], "name": name});
    let started = daemon.call("POST", "/processes", Some(body)).await;
    assert_eq!(started.status, 201, "{}", String::from_utf8_lossy(&started.body));
    let id = started.json()["id"].as_str().expect("id").to_owned();
    daemon.wait_ended(&id, SOON).await;
    id
}

/// `tend ps -a --json`, by id.
async fn ps_all(daemon: &RealDaemon) -> BTreeMap<String, Value> {
    let listed = daemon.tend(&["ps", "-a", "--json"]).await;
    assert!(listed.status.success(), "{listed:?}");
    let listed: Vec<Value> = serde_json::from_slice(&listed.stdout).expect("ps --json");
    listed.into_iter().map(|info| (info["id"].as_str().unwrap().to_owned(), info)).collect()
}

/// Waits until the records directory holds `ID.json` for each of `ids`.
async fn recorded(state: &StateDir, ids: &[&str]) {
    let wanted: Vec<String> = ids.iter().map(|id| format!("{id}.json")).collect();
    until(SOON, "the records to be written", || {
        let files = state.files("records");
        wanted.iter().all(|w| files.contains(w))
    })
    .await;
}

/// Waits until none of `pids` runs any more.
async fn all_gone(pids: &[u32]) {
    until(SOON, "the earlier processes to be gone", || !pids.iter().any(|&p| pid_alive(p))).await;
}

#[tokio::test]
async fn after_a_sigterm_the_project_comes_back_and_earlier_records_are_listed() {
    let (state, daemon, before) = shop_up().await;
    let greeter = finished(&daemon, "greeter", "echo hello from before").await;
    let three = finished(&daemon, "three", "exit 3").await;
    let napper = daemon.start_sh("exec sleep 300").await;
    recorded(&state, &[&greeter, &three]).await;
    assert_eq!(state.files("projects"), ["shop.json"]);

    assert!(daemon.stop_with(Signal::TERM).success());
    // The one still running when the daemon stopped: killed by the shutdown, then recorded.
    recorded(&state, &[&napper]).await;
    let pids: Vec<u32> = before.values().copied().collect();
    assert!(pids.iter().all(|&pid| !pid_alive(pid)), "a graceful stop ends the services");

    let daemon = state.start(&[]);
    let after = services_up(&daemon, "shop").await;
    assert_eq!(after.keys().collect::<Vec<_>>(), ["web", "worker"]);
    for (name, pid) in &after {
        assert_ne!(Some(pid), before.get(name), "{name} runs as a new process");
    }
    let listed = ps_all(&daemon).await;
    let earlier = |id: &str| listed.get(id).unwrap_or_else(|| panic!("{id} not in ps -a"));
    assert_eq!(
        (earlier(&greeter)["status"].as_str(), earlier(&greeter)["exit_code"].as_i64()),
        (Some("exited"), Some(0))
    );
    assert_eq!(earlier(&greeter)["name"], "greeter");
    assert_eq!(
        (earlier(&three)["status"].as_str(), earlier(&three)["exit_code"].as_i64()),
        (Some("failed"), Some(3))
    );
    assert_eq!(
        (earlier(&napper)["status"].as_str(), earlier(&napper)["reason"].as_str()),
        (Some("killed"), Some("shutdown"))
    );
    let services = listed.values().filter(|i| i["labels"]["project"] == "shop");
    assert!(
        services.clone().all(|i| i["status"] == "running"),
        "the project's old processes are not records: {listed:?}"
    );
    assert_eq!(services.count(), 2);
    // Its output is on disk (`logs/ID.log`), read back for the restored record.
    let logs = daemon.tend(&["logs", &greeter]).await;
    assert_eq!(String::from_utf8_lossy(&logs.stdout), "hello from before\n", "{logs:?}");
    let one = daemon.call("GET", &format!("/processes/{three}"), None).await;
    assert_eq!((one.status, one.json()["exit_code"].as_i64()), (200, Some(3)));

    let removed = daemon.tend(&["rm", &greeter]).await;
    assert!(removed.status.success(), "{removed:?}");
    assert!(!state.files("records").contains(&format!("{greeter}.json")), "rm deletes the file");
    assert!(daemon.stop_with(Signal::TERM).success());
    let daemon = state.start(&["--no-resume"]);
    let listed = ps_all(&daemon).await;
    assert!(!listed.contains_key(&greeter) && listed.contains_key(&three), "{listed:?}");
}

#[tokio::test]
async fn after_a_sigkill_nothing_is_left_running_and_the_next_start_brings_the_project_back() {
    let (state, daemon, before) = shop_up().await;
    let three = finished(&daemon, "three", "exit 3").await;
    let napper = daemon.start_sh("exec sleep 300").await;
    let napper_pid = daemon.call("GET", &format!("/processes/{napper}"), None).await.json()["pid"]
        .as_u64()
        .expect("pid") as u32;
    recorded(&state, &[&three]).await;

    assert!(!daemon.stop_with(Signal::KILL).success());
    // The guardian takes every group down when the daemon dies, before any restart.
    let mut earlier: Vec<u32> = before.values().copied().collect();
    earlier.push(napper_pid);
    all_gone(&earlier).await;

    let daemon = state.start(&[]);
    let after = services_up(&daemon, "shop").await;
    for (name, pid) in &after {
        assert!(!earlier.contains(pid), "{name} runs as a new process");
    }
    let listed = ps_all(&daemon).await;
    assert_eq!(listed.get(&three).map(|i| i["exit_code"].clone()), Some(json!(3)), "{listed:?}");
    let running: Vec<&Value> = listed.values().filter(|i| i["status"] == "running").collect();
    assert_eq!(running.len(), 2, "only the project's new services run: {running:?}");
}

#[tokio::test]
async fn corrupt_state_files_are_set_aside_and_the_daemon_starts() {
    let (state, daemon, _) = shop_up().await;
    let three = finished(&daemon, "three", "exit 3").await;
    recorded(&state, &[&three]).await;
    assert!(daemon.stop_with(Signal::TERM).success());

    // A write cut short, and a file that is not JSON at all.
    let record = std::fs::read(state.path().join(format!("records/{three}.json"))).unwrap();
    let torn = "01900000-0000-7000-8000-000000000001";
    state.plant("records", &format!("{torn}.json"), &record[..record.len() / 2]);
    state.plant("projects", "broken.json", b"\x00\x01 not json");

    let daemon = state.start(&[]);
    services_up(&daemon, "shop").await;
    assert!(ps_all(&daemon).await.contains_key(&three), "the good record is still read");
    assert!(state.files("records").contains(&format!("{torn}.json.corrupt")));
    assert!(state.files("projects").contains(&"broken.json.corrupt".to_owned()));
    assert!(!state.files("projects").contains(&"broken.json".to_owned()));
    let log = state.log();
    assert!(log.contains(&format!("{torn}.json cannot be read back")), "{log}");
    assert!(log.contains("broken.json cannot be read back"), "{log}");
    let projects = daemon.call("GET", "/projects", None).await.json();
    assert_eq!(projects.as_array().map(Vec::len), Some(1), "{projects}");
}

#[tokio::test]
async fn no_resume_keeps_saved_projects_without_starting_them() {
    let (state, daemon, before) = shop_up().await;
    assert!(daemon.stop_with(Signal::TERM).success());
    all_gone(&before.values().copied().collect::<Vec<_>>()).await;

    let daemon = state.start(&["--no-resume"]);
    let reply = daemon.call("GET", "/projects/shop", None).await;
    assert_eq!(reply.status, 404, "{}", String::from_utf8_lossy(&reply.body));
    let running = daemon.call("GET", "/processes", None).await.json();
    assert_eq!(running, json!([]), "nothing started");
    assert_eq!(state.files("projects"), ["shop.json"], "still saved");

    assert!(daemon.stop_with(Signal::TERM).success());
    let daemon = state.start(&[]);
    services_up(&daemon, "shop").await;
}

#[tokio::test]
async fn a_project_taken_down_is_not_brought_back() {
    let state = StateDir::new();
    let daemon = state.start(&[]);
    apply(&daemon, "shop").await;
    apply(&daemon, "blog").await;
    services_up(&daemon, "shop").await;
    assert_eq!(state.files("projects"), ["blog.json", "shop.json"]);
    let down = daemon.call("DELETE", "/projects/shop", None).await;
    assert_eq!(down.status, 200, "{}", String::from_utf8_lossy(&down.body));
    assert_eq!(state.files("projects"), ["blog.json"]);
    assert!(daemon.stop_with(Signal::TERM).success());

    let daemon = state.start(&[]);
    services_up(&daemon, "blog").await;
    assert_eq!(daemon.call("GET", "/projects/shop", None).await.status, 404);
}

#[tokio::test]
async fn at_most_a_thousand_records_are_kept_those_that_ended_first_deleted() {
    let state = StateDir::new();
    let daemon = state.start(&[]);
    let three = finished(&daemon, "three", "exit 3").await;
    recorded(&state, &[&three]).await;
    assert!(daemon.stop_with(Signal::TERM).success());

    // 1,005 records of an earlier life, ended a second apart long ago.
    let path = state.path().join(format!("records/{three}.json"));
    let template: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let old_id = |i: usize| format!("01900000-0000-7000-8000-{i:012x}");
    for i in 0..1005 {
        let mut record = template.clone();
        record["id"] = json!(old_id(i));
        record["ended_at"] = json!(format!("2020-01-01T00:{:02}:{:02}Z", i / 60, i % 60));
        state.plant("records", &format!("{}.json", old_id(i)), record.to_string().as_bytes());
    }

    let daemon = state.start(&[]);
    let files = state.files("records");
    assert_eq!(files.len(), 1000, "the 6 that ended first are deleted at start");
    assert!(files.contains(&format!("{three}.json")));
    assert!(
        !files.contains(&format!("{}.json", old_id(5)))
            && files.contains(&format!("{}.json", old_id(6)))
    );
    assert_eq!(ps_all(&daemon).await.len(), 1000);

    let newer = [finished(&daemon, "a", "true").await, finished(&daemon, "b", "true").await];
    recorded(&state, &[&newer[0], &newer[1]]).await;
    let files = state.files("records");
    assert_eq!(files.len(), 1000, "{} files", files.len());
    assert!(
        !files.contains(&format!("{}.json", old_id(7)))
            && files.contains(&format!("{}.json", old_id(8)))
    );
}
