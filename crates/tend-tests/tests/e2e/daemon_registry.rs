//! The daemon registry: round trips, go-process compatibility, pruning of dead, reused and
//! corrupt entries, collision-free names, and no loss under concurrent use.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, SystemTime};

use tend::daemon::{DaemonEntry, Registry, RegistryError};

use crate::daemon_support::{HelperSpec, hear, helper_role, say};

const WAIT: Duration = Duration::from_secs(30);

fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

fn own_entry(code: &str, daemon: &str) -> DaemonEntry {
    DaemonEntry::new(code, daemon, std::process::id())
}

/// Makes a file look old, past the grace given to half-written foreign entries.
fn age_file(path: &Path) {
    let old = SystemTime::now() - Duration::from_secs(60);
    fs::File::options().write(true).open(path).unwrap().set_modified(old).unwrap();
}

#[test]
fn round_trip_keeps_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(dir.path().join("daemons"));
    let mut entry = own_entry("core", "api");
    entry.health = Some("127.0.0.1:9000".into());
    entry.project = Some("/srv/project".into());
    entry.binary = Some("core-api".into());
    entry.started = "2025-01-02T03:04:05.123456789Z".parse().unwrap();
    assert!(entry.process_start_ticks.is_some(), "Linux records the start time");
    assert!(entry.boot_id.is_some(), "Linux records the boot ID");

    let path = registry.register(&entry).unwrap();
    assert_eq!(path, dir.path().join("daemons/core-api.json"), "go-process's file name");
    assert_eq!(registry.get("core", "api").unwrap(), Some(entry.clone()));
    assert_eq!(registry.list().unwrap(), vec![entry.clone()]);

    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    for key in ["code", "daemon", "pid", "health", "project", "binary", "started"] {
        assert!(json.get(key).is_some(), "go-process key {key} in {json}");
    }
    assert_eq!(json["started"], "2025-01-02T03:04:05.123456789Z");
    assert_eq!(json["pid"], std::process::id());

    assert!(registry.unregister("core", "api").unwrap());
    assert!(!registry.unregister("core", "api").unwrap());
    assert_eq!(registry.get("core", "api").unwrap(), None);
    assert!(!path.exists());
}

#[test]
fn go_process_entry_written_by_hand_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(dir.path());
    let pid = std::process::id();
    let full = format!(
        r#"{{"code":"core","daemon":"api","pid":{pid},"health":"127.0.0.1:9000","project":"/path","binary":"core-api","started":"2025-01-01T00:00:00Z"}}"#
    );
    fs::write(dir.path().join("core-api.json"), full).unwrap();
    // go-process omits empty strings and writes local offsets with nanoseconds.
    let sparse = format!(
        r#"{{"code":"core","daemon":"worker","pid":{pid},"started":"2025-01-01T02:00:00.5+01:00"}}"#
    );
    fs::write(dir.path().join("core-worker.json"), sparse).unwrap();

    let api = registry.get("core", "api").unwrap().expect("go entry is read");
    assert_eq!(api.pid, pid);
    assert_eq!(api.health.as_deref(), Some("127.0.0.1:9000"));
    assert_eq!(api.project.as_deref(), Some("/path"));
    assert_eq!(api.binary.as_deref(), Some("core-api"));
    assert_eq!(api.started.to_string(), "2025-01-01T00:00:00Z");
    assert_eq!((api.process_start_ticks, api.boot_id.clone()), (None, None));

    let listed = registry.list().unwrap();
    let names: Vec<&str> = listed.iter().map(|e| e.daemon.as_str()).collect();
    assert_eq!(names, ["api", "worker"], "sorted by start time (00:00Z before 01:00:00.5Z)");
    assert_eq!(listed[1].health, None);
}

#[test]
fn dead_pid_and_corrupt_entries_are_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(dir.path());
    registry.register(&own_entry("core", "alive")).unwrap();
    let dead = registry.register(&DaemonEntry::new("core", "dead", dead_pid())).unwrap();
    let corrupt = dir.path().join("core-corrupt.json");
    fs::write(&corrupt, "{\"code\": \"core\", \"daem").unwrap();
    age_file(&corrupt);
    let fresh_corrupt = dir.path().join("core-writing.json");
    fs::write(&fresh_corrupt, "").unwrap();

    let listed = registry.list().unwrap();
    assert_eq!(listed.iter().map(|e| e.daemon.as_str()).collect::<Vec<_>>(), ["alive"]);
    assert!(!dead.exists(), "dead entry removed");
    assert!(!corrupt.exists(), "old corrupt entry removed");
    assert!(fresh_corrupt.exists(), "a just-written file may be mid-write: kept for now");

    let dead_again = registry.register(&DaemonEntry::new("core", "dead", dead_pid())).unwrap();
    assert_eq!(registry.get("core", "dead").unwrap(), None);
    assert!(!dead_again.exists(), "get prunes too");
}

#[test]
fn reused_pid_with_a_different_start_time_is_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(dir.path());
    let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
    let entry = DaemonEntry::new("core", "sleeper", child.id());
    let recorded = entry.process_start_ticks.expect("start time of a live child");
    registry.register(&entry).unwrap();
    assert!(registry.get("core", "sleeper").unwrap().is_some(), "same process: kept");

    // The PID is alive, but the process behind it started at another time: the PID was reused.
    let mut reused = entry.clone();
    reused.process_start_ticks = Some(recorded + 1);
    let path = registry.register(&reused).unwrap();
    assert_eq!(registry.get("core", "sleeper").unwrap(), None);
    assert!(!path.exists());

    // An entry from an earlier boot is stale even if PID and start time match.
    let mut other_boot = entry.clone();
    other_boot.boot_id = Some("00000000-0000-0000-0000-000000000000".into());
    let path = registry.register(&other_boot).unwrap();
    assert!(registry.list().unwrap().is_empty());
    assert!(!path.exists());

    registry.register(&entry).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(registry.list().unwrap().is_empty(), "dead after kill");
}

#[test]
fn names_that_go_process_would_collide_stay_distinct() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(dir.path());
    let mut first = own_entry("a-b", "c");
    first.health = Some("first".into());
    let mut second = own_entry("a", "b-c");
    second.health = Some("second".into());
    let first_path = registry.register(&first).unwrap();
    let second_path = registry.register(&second).unwrap();
    assert_ne!(first_path, second_path);
    assert_eq!(registry.get("a-b", "c").unwrap().unwrap().health.as_deref(), Some("first"));
    assert_eq!(registry.get("a", "b-c").unwrap().unwrap().health.as_deref(), Some("second"));
    assert_eq!(registry.list().unwrap().len(), 2);
    // Slashes and dots cannot escape the directory.
    let sneaky = registry.register(&own_entry("../..", "x/y")).unwrap();
    assert_eq!(sneaky.parent(), Some(dir.path()));
    assert!(matches!(
        registry.register(&own_entry("", "x")),
        Err(RegistryError::InvalidName { field: "code", .. })
    ));
}

#[test]
fn missing_directory_is_an_empty_registry() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(dir.path().join("never-created"));
    assert!(registry.list().unwrap().is_empty());
    assert_eq!(registry.get("core", "api").unwrap(), None);
}

/// Registers `count` entries named `(thread, d<j>)` for `pid`, listing after every `every`th
/// and checking that everything this thread registered so far is listed.
///
/// Each entry is first written stale (PID 0), then live: a concurrent list that saw the stale
/// version prunes it, and must not remove the live one written meanwhile.
fn register_and_list(registry: &Registry, thread: &str, pid: u32, count: usize, every: usize) {
    for j in 0..count {
        registry.register(&DaemonEntry::new(thread, format!("d{j}"), 0)).unwrap();
        registry.register(&DaemonEntry::new(thread, format!("d{j}"), pid)).unwrap();
        if j % every == every - 1 || j == count - 1 {
            let listed: BTreeSet<String> = registry
                .list()
                .unwrap()
                .into_iter()
                .filter(|e| e.code == thread)
                .map(|e| e.daemon)
                .collect();
            for k in 0..=j {
                assert!(listed.contains(&format!("d{k}")), "{thread}: d{k} lost after {j}");
            }
        }
    }
}

#[test]
fn eight_threads_register_and_list_200_each_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(dir.path());
    let barrier = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let (registry, barrier) = (registry.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                register_and_list(&registry, &format!("t{i}"), std::process::id(), 200, 20);
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("thread found no loss");
    }
    let listed = registry.list().unwrap();
    assert_eq!(listed.len(), 8 * 200, "every entry present, stale ones pruned");
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files left: {leftovers:?}");
}

fn many_helper() -> ! {
    let dir = std::env::var("TEND_E2E_REGISTRY").unwrap();
    let name = std::env::var("TEND_E2E_NAME").unwrap();
    let parent = std::os::unix::process::parent_id();
    say("ready");
    assert_eq!(hear().as_deref(), Some("go"));
    register_and_list(&Registry::new(dir), &name, parent, 100, 10);
    say("done");
    std::process::exit(0)
}

#[test]
fn four_processes_register_and_list_concurrently_without_loss() {
    if helper_role().is_some() {
        many_helper();
    }
    let dir = tempfile::tempdir().unwrap();
    let test = "daemon_registry::four_processes_register_and_list_concurrently_without_loss";
    let mut helpers: Vec<_> = (0..4)
        .map(|i| {
            HelperSpec::new(test, "many")
                .env("TEND_E2E_REGISTRY", dir.path().display().to_string())
                .env("TEND_E2E_NAME", format!("p{i}"))
                .spawn()
        })
        .collect();
    for helper in &helpers {
        assert_eq!(helper.next_line(WAIT), "ready");
    }
    for helper in &mut helpers {
        helper.send("go");
    }
    for helper in &helpers {
        assert_eq!(helper.next_line(WAIT), "done");
    }
    for helper in helpers {
        assert!(helper.wait(WAIT).success());
    }
    let listed = Registry::new(dir.path()).list().unwrap();
    assert_eq!(listed.len(), 4 * 100);
}

fn default_dir_helper() -> ! {
    match Registry::default_dir() {
        Ok(dir) => say(&format!("dir {}", dir.display())),
        Err(e) => say(&format!("error {e}")),
    }
    std::process::exit(0)
}

#[test]
fn default_directory_follows_tend_registry_dir_then_home() {
    if helper_role().is_some() {
        default_dir_helper();
    }
    let test = "daemon_registry::default_directory_follows_tend_registry_dir_then_home";
    let ask = |env: &[(&'static str, &str)]| {
        let mut spec = HelperSpec::new(test, "default-dir").env("TEND_REGISTRY_DIR", "");
        for (name, value) in env {
            spec = spec.env(name, *value);
        }
        let helper = spec.spawn();
        let line = helper.next_line(WAIT);
        assert!(helper.wait(WAIT).success());
        line
    };
    assert_eq!(ask(&[("HOME", "/home/someone")]), "dir /home/someone/.core/daemons");
    assert_eq!(ask(&[("HOME", "/h"), ("TEND_REGISTRY_DIR", "/custom")]), "dir /custom");
    assert!(ask(&[("HOME", "")]).starts_with("error "), "no HOME, no override");
}

/// A daemon never replaces or removes the live entry of another process: `claim` refuses it
/// and `unregister_entry` leaves it; its own entry, or a dead one, is claimed.
#[test]
fn claim_and_unregister_entry_respect_another_live_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(dir.path().join("daemons"));
    let mut sleeper = std::process::Command::new("sleep").arg("30").spawn().unwrap();
    let theirs = DaemonEntry::new("core", "api", sleeper.id());
    registry.register(&theirs).unwrap();

    let ours = own_entry("core", "api");
    match registry.claim(&ours) {
        Err(RegistryError::Taken { pid, .. }) => assert_eq!(pid, sleeper.id()),
        other => panic!("expected Taken, got {other:?}"),
    }
    assert!(!registry.unregister_entry(&ours).unwrap(), "not ours to remove");
    assert_eq!(registry.get("core", "api").unwrap().unwrap().pid, sleeper.id());

    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    registry.claim(&ours).unwrap();
    registry.claim(&ours).unwrap();
    assert_eq!(registry.get("core", "api").unwrap().unwrap().pid, std::process::id());
    assert!(registry.unregister_entry(&ours).unwrap());
    assert!(registry.get("core", "api").unwrap().is_none());
}
