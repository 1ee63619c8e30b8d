//! `[services.NAME]` in pipeline files: every key into the spec, TOML and YAML alike, the
//! environment and directory an `exec` probe runs in, and where errors point.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::*;
use crate::probe::{ExecProbe, Liveness, Probe, Readiness};
use crate::{ByteSize, MaxRestarts, Restart, Signal};

/// A stack using every service key, and two steps around it.
const STACK_TOML: &str = r#"env = { GLOBAL = "g", SHARED = "global" }

[steps.migrate]
run = "./migrate"

[services.db]
command = "postgres"
args = ["-D", "data"]
dir = "db"
env = { SHARED = "db", PORT = 5432 }
after = ["migrate"]
ready = { exec = "pg_isready", interval = "100ms", timeout = "30s", initial_delay_ms = 50 }
alive = { tcp = "127.0.0.1:5432", interval_ms = 2000, failures = 2 }
restart = "always"
max_restarts = 5
restart_delay = "1s"
restart_max_delay_ms = 8000
stop_signal = "INT"
grace_ms = 3000
log = "logs/db.log"
log_max_size = "512KiB"
log_keep = 2

[services.web]
run = "exec ./server"
after = ["db"]
ready = { http = "http://127.0.0.1:8080/health" }
alive = { exec = "curl -fs localhost:8080" }
restart = "never"
max_restarts = "unlimited"
restart_delay_ms = 10
restart_max_delay = "2s"
stop_signal = 1
grace = "5s"
log = "/var/log/web.log"

[services.worker]
run = "exec ./worker"
ready = { log = 'ready on port \d+', interval_ms = 20, timeout_ms = 1000, initial_delay = "0s" }

[steps.test]
run = "cargo test"
after = ["migrate"]
"#;

/// The same stack in YAML, the top-level `env` last (it still reaches every service).
#[cfg(feature = "yaml_serde")]
const STACK_YAML: &str = r#"steps:
  migrate:
    run: ./migrate
services:
  db:
    command: postgres
    args: [-D, data]
    dir: db
    env: { SHARED: db, PORT: 5432 }
    after: [migrate]
    ready: { exec: pg_isready, interval: 100ms, timeout: 30s, initial_delay_ms: 50 }
    alive: { tcp: "127.0.0.1:5432", interval_ms: 2000, failures: 2 }
    restart: always
    max_restarts: 5
    restart_delay: 1s
    restart_max_delay_ms: 8000
    stop_signal: INT
    grace_ms: 3000
    log: logs/db.log
    log_max_size: 512KiB
    log_keep: 2
  web:
    run: exec ./server
    after: [db]
    ready:
      http: http://127.0.0.1:8080/health
    alive:
      exec: curl -fs localhost:8080
    restart: never
    max_restarts: unlimited
    restart_delay_ms: 10
    restart_max_delay: 2s
    stop_signal: 1
    grace: 5s
    log: /var/log/web.log
  worker:
    run: exec ./worker
    ready: { log: 'ready on port \d+', interval_ms: 20, timeout_ms: 1000, initial_delay: 0s }
env: { GLOBAL: g, SHARED: global }
"#;

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// What the stack's services must read as, with `base` the file's directory (`None`:
/// parsed from text, paths as written).
fn expected_services(base: Option<&Path>) -> Vec<ServiceSpec> {
    let at = |path: &str| match base {
        Some(base) => base.join(path),
        None => path.into(),
    };
    let db_env = vars(&[("GLOBAL", "g"), ("PORT", "5432"), ("SHARED", "db")]);
    let global = vars(&[("GLOBAL", "g"), ("SHARED", "global")]);
    let db_dir = at("db");
    let mut db = ServiceSpec::command("db", "postgres")
        .args(["-D", "data"])
        .dir(&db_dir)
        .after(["migrate"])
        .ready(
            Readiness::new(ExecProbe::new("pg_isready").unwrap().dir(&db_dir).envs(&db_env))
                .interval(Duration::from_millis(100))
                .timeout(Duration::from_secs(30))
                .initial_delay(Duration::from_millis(50)),
        )
        .alive(
            Liveness::new(Probe::tcp("127.0.0.1:5432").unwrap())
                .unwrap()
                .interval(Duration::from_secs(2))
                .failures(2),
        )
        .restart(
            Restart::always()
                .max(MaxRestarts::Limited(5))
                .delay(Duration::from_secs(1))
                .max_delay(Duration::from_secs(8)),
        )
        .stop_signal(Signal::INT)
        .grace(Duration::from_secs(3))
        .log(ServiceLog { path: at("logs/db.log"), max_size: ByteSize::kib(512), keep: 2 });
    db.env = db_env;
    let mut web = ServiceSpec::script("web", "exec ./server").after(["db"]);
    if let Some(base) = base {
        web = web.dir(base);
    }
    let web_probe = ExecProbe::new("curl -fs localhost:8080").unwrap();
    let web_probe = match &web.dir {
        Some(dir) => web_probe.dir(dir),
        None => web_probe,
    };
    web = web
        .ready(Readiness::new(Probe::http("http://127.0.0.1:8080/health").unwrap()))
        .alive(Liveness::new(web_probe.envs(&global)).unwrap())
        .restart(
            Restart::never()
                .max(MaxRestarts::Unlimited)
                .delay(Duration::from_millis(10))
                .max_delay(Duration::from_secs(2)),
        )
        .stop_signal(Signal::HUP)
        .grace(Duration::from_secs(5))
        .log(ServiceLog::new("/var/log/web.log"));
    web.env = global.clone();
    let mut worker = ServiceSpec::script("worker", "exec ./worker").ready(
        Readiness::new(Probe::log(r"ready on port \d+").unwrap())
            .interval(Duration::from_millis(20))
            .timeout(Duration::from_secs(1))
            .initial_delay(Duration::ZERO),
    );
    worker.dir = base.map(Path::to_owned);
    worker.env = global;
    vec![db, web, worker]
}

/// Specs hold probes, which have no `PartialEq`: compare everything through `Debug`.
fn assert_services(pipeline: &Pipeline, expected: &[ServiceSpec]) {
    assert_eq!(format!("{:#?}", pipeline.services()), format!("{expected:#?}"));
}

#[test]
fn a_stack_file_reads_every_service_key_into_its_spec() {
    let pipeline = parse_toml(STACK_TOML).unwrap();
    let names: Vec<&str> = pipeline.steps().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["migrate", "test"]);
    assert_eq!(pipeline.steps()[1].after, ["migrate"]);
    assert_services(&pipeline, &expected_services(None));
    // The defaults, for a service with nothing but its command.
    let bare = parse_toml("[services.s]\nrun = \"x\"\n").unwrap();
    let bare = &bare.services()[0];
    assert_eq!(format!("{bare:?}"), format!("{:?}", ServiceSpec::script("s", "x")));
    assert_eq!(
        (&bare.restart, bare.stop_signal, bare.grace),
        (&Restart::on_failure(), Signal::TERM, DEFAULT_SERVICE_GRACE)
    );
}

#[cfg(feature = "yaml_serde")]
#[test]
fn yaml_reads_services_as_toml_does() {
    assert_services(&parse_yaml(STACK_YAML).unwrap(), &expected_services(None));
}

#[test]
fn load_takes_dirs_and_log_paths_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tend.toml");
    std::fs::write(&path, STACK_TOML).unwrap();
    let pipeline = load(&path).unwrap();
    assert_services(&pipeline, &expected_services(Some(dir.path())));
    assert_eq!(pipeline.steps()[0].dir.as_deref(), Some(dir.path()));
    #[cfg(feature = "yaml_serde")]
    {
        let path = dir.path().join("tend.yaml");
        std::fs::write(&path, STACK_YAML).unwrap();
        assert_services(&load(&path).unwrap(), &expected_services(Some(dir.path())));
    }
}

/// The environment a service gets: global `env_file`s, global `env`, its `env_file`s, its
/// `env` (lowest first) — and its `exec` probe runs with exactly that, in its directory.
#[tokio::test]
async fn services_take_the_global_env_under_their_own_and_exec_probes_run_with_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("srv")).unwrap();
    std::fs::write(dir.path().join("srv/marker"), "").unwrap();
    std::fs::write(dir.path().join("global.env"), "A=gfile\nB=gfile\nC=gfile\nD=gfile\n").unwrap();
    std::fs::write(dir.path().join("own.env"), "C=ownfile\nD=ownfile\n").unwrap();
    let path = dir.path().join("tend.toml");
    let check = r#"test "$A$B$C$D" = gfileglobalownfileown && test -f marker"#;
    std::fs::write(
        &path,
        format!(
            "env_file = \"global.env\"\nenv = {{ B = \"global\", C = \"global\", D = \"global\" }}\n\
             [services.app]\nrun = \"x\"\ndir = \"srv\"\nenv_file = \"own.env\"\nenv = {{ D = \"own\" }}\n\
             ready = {{ exec = '{check}', timeout = \"20s\" }}\n\
             [services.elsewhere]\nrun = \"x\"\nready = {{ exec = '{check}', timeout = \"1s\" }}\n"
        ),
    )
    .unwrap();
    let pipeline = load(&path).unwrap();
    let [app, elsewhere] = pipeline.services() else { panic!("two services") };
    assert_eq!(app.env, vars(&[("A", "gfile"), ("B", "global"), ("C", "ownfile"), ("D", "own")]));
    assert_eq!(
        elsewhere.env,
        vars(&[("A", "gfile"), ("B", "global"), ("C", "global"), ("D", "global")])
    );
    let ready = app.ready.clone().unwrap().interval(Duration::from_millis(20)).wait().await;
    assert!(ready.is_ok(), "{ready:?}");
    // Same check, other env and dir: never ready.
    let not_ready = elsewhere.ready.clone().unwrap().interval(Duration::from_millis(20)).wait();
    let error = not_ready.await.unwrap_err().to_string();
    assert!(error.starts_with("not ready after 1s: exec test"), "{error}");
}

#[test]
fn sequential_mode_follows_which_table_the_file_declares_first() {
    let services_first =
        "[services.a]\nrun = \"x\"\n[services.b]\nrun = \"x\"\n[steps.check]\nrun = \"x\"\n";
    let steps_first =
        "[steps.check]\nrun = \"x\"\n[services.a]\nrun = \"x\"\n[services.b]\nrun = \"x\"\n";
    let order = |text: &str| {
        let pipeline = parse_toml(text).unwrap();
        super::order::edges(&pipeline, Mode::Sequential)
    };
    // Nodes: check = 0, a = 1, b = 2. Each waits for the one before it in the order.
    assert_eq!(order(services_first), [vec![2], vec![], vec![1]]);
    assert_eq!(order(steps_first), [vec![], vec![0], vec![1]]);
}
