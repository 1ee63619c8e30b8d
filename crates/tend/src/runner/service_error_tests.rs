//! Every error of a `[services.NAME]` table: its exact message and the line it points at, in
//! TOML and YAML.

use super::*;

/// `load`s `text` as `name` in a fresh directory; the error without the directory.
fn load_error(name: &str, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let message = load(&path).unwrap_err().to_string();
    let prefix = format!("{}/", dir.path().display());
    message.strip_prefix(&prefix).unwrap_or(&message).to_owned()
}

/// The message of `text` loaded as `tend.toml`, compared whole.
#[track_caller]
fn toml(text: &str, expected: &str) {
    assert_eq!(load_error("tend.toml", text), expected);
}

/// The message of `text` loaded as `tend.yaml`, compared whole.
#[cfg(feature = "yaml_serde")]
#[track_caller]
fn yaml(text: &str, expected: &str) {
    assert_eq!(load_error("tend.yaml", text), expected);
}

const SERVICE_KEY_LIST: &str = "command, args, run, dir, env, env_file, after, ready, alive, \
    restart, max_restarts, restart_delay, restart_delay_ms, restart_max_delay, \
    restart_max_delay_ms, stop_signal, grace, grace_ms, log, log_max_size, log_keep";

#[test]
fn an_unknown_service_key_is_named_with_its_line() {
    toml(
        "[services.web]\nrun = \"x\"\ncomand = \"y\"\n",
        &format!(
            "tend.toml:3:1: service `web`: unknown key `comand` (expected one of: {SERVICE_KEY_LIST})"
        ),
    );
    #[cfg(feature = "yaml_serde")]
    yaml(
        "services:\n  web:\n    run: x\n    comand: y\n",
        &format!(
            "tend.yaml:4:5: service `web`: unknown key `comand` (expected one of: {SERVICE_KEY_LIST})"
        ),
    );
    toml(
        "[services.db]\nrun = \"db\"\nready = { tcp = \"127.0.0.1:5432\", intervall = \"1s\" }\n",
        "tend.toml:3:35: service `db`: unknown key `intervall` in `ready` (expected one of: tcp, \
         http, exec, log, interval, interval_ms, timeout, timeout_ms, initial_delay, \
         initial_delay_ms)",
    );
}

#[test]
fn ready_needs_exactly_one_probe_kind() {
    toml(
        "[steps.a]\nrun = \"x\"\n\n[services.db]\nrun = \"db\"\nafter = [\"a\"]\n\
         ready = { tcp = \"127.0.0.1:5432\", http = \"http://127.0.0.1/\" }\n",
        "tend.toml:7:9: service `db`: `ready`: exactly one of tcp, http, exec, log is needed, \
         found tcp and http",
    );
    // A table of its own points at its header.
    toml(
        "[services.db]\nrun = \"db\"\n\n[services.db.ready]\ntcp = \"127.0.0.1:5432\"\n\
         exec = \"true\"\nlog = \"x\"\n",
        "tend.toml:4:1: service `db`: `ready`: exactly one of tcp, http, exec, log is needed, \
         found tcp, exec and log",
    );
    toml(
        "[services.db]\nrun = \"db\"\nready = { interval = \"1s\" }\n",
        "tend.toml:3:9: service `db`: `ready`: exactly one of tcp, http, exec, log is needed, \
         found none",
    );
    #[cfg(feature = "yaml_serde")]
    {
        yaml(
            "services:\n  db:\n    run: db\n    ready:\n      tcp: 127.0.0.1:5432\n      http: http://127.0.0.1/\n",
            "tend.yaml:5:7: service `db`: `ready`: exactly one of tcp, http, exec, log is needed, \
             found tcp and http",
        );
        yaml(
            "services:\n  db:\n    run: db\n    ready: {}\n",
            "tend.yaml:4:12: service `db`: `ready`: exactly one of tcp, http, exec, log is needed, \
             found none",
        );
    }
}

#[test]
fn alive_needs_exactly_one_probe_kind_and_refuses_log() {
    toml(
        "[services.db]\nrun = \"db\"\nalive = { }\n",
        "tend.toml:3:9: service `db`: `alive`: exactly one of tcp, http, exec is needed, found none",
    );
    toml(
        "[services.db]\nrun = \"db\"\nalive = { log = \"ready\" }\n",
        "tend.toml:3:11: service `db`: `alive.log`: a log probe cannot be used for liveness: a \
         line that matched once matches for ever; use tcp, http or exec",
    );
    #[cfg(feature = "yaml_serde")]
    yaml(
        "services:\n  db:\n    run: db\n    alive:\n      log: ready\n",
        "tend.yaml:5:7: service `db`: `alive.log`: a log probe cannot be used for liveness: a \
         line that matched once matches for ever; use tcp, http or exec",
    );
}

#[test]
fn an_invalid_regex_is_named_with_its_line() {
    toml(
        "[services.db]\nrun = \"db\"\nready = { log = \"ready (\" }\n",
        "tend.toml:3:17: service `db`: `ready.log`: invalid regex `ready (`: unclosed group",
    );
    #[cfg(feature = "yaml_serde")]
    yaml(
        "services:\n  db:\n    run: db\n    ready:\n      log: 'ready ('\n",
        "tend.yaml:5:12: service `db`: `ready.log`: invalid regex `ready (`: unclosed group",
    );
}

#[test]
fn an_invalid_url_is_named_with_its_line() {
    toml(
        "[services.db]\nrun = \"db\"\nready = { http = \"https://127.0.0.1/\" }\n",
        "tend.toml:3:18: service `db`: `ready.http`: invalid URL `https://127.0.0.1/`: https is \
         not supported: the probe speaks plain HTTP (use a tcp or exec probe, such as \
         `curl -fsS URL`)",
    );
    #[cfg(feature = "yaml_serde")]
    yaml(
        "services:\n  db:\n    run: db\n    alive:\n      http: ftp://x/\n",
        "tend.yaml:5:13: service `db`: `alive.http`: invalid URL `ftp://x/`: the scheme `ftp` is \
         not supported (only http://)",
    );
}

#[test]
fn an_invalid_address_or_command_is_named_with_its_line() {
    toml(
        "[services.db]\nrun = \"db\"\nready = { tcp = \"127.0.0.1\" }\n",
        "tend.toml:3:17: service `db`: `ready.tcp`: invalid address `127.0.0.1`: expected HOST:PORT",
    );
    #[cfg(feature = "yaml_serde")]
    yaml(
        "services:\n  db:\n    run: db\n    ready:\n      tcp: nowhere\n",
        "tend.yaml:5:12: service `db`: `ready.tcp`: invalid address `nowhere`: expected HOST:PORT",
    );
    toml(
        "[services.db]\nrun = \"db\"\nready = { exec = \"\" }\n",
        "tend.toml:3:18: service `db`: `ready.exec`: the exec probe has no command",
    );
    toml(
        "[services.db]\nrun = \"db\"\nready = { tcp = 5432 }\n",
        "tend.toml:3:17: invalid type: integer `5432`, expected a \"HOST:PORT\" string for \
         `ready.tcp` in service `db`",
    );
    toml(
        "[services.db]\nrun = \"db\"\nready = \"tcp 127.0.0.1:5432\"\n",
        "tend.toml:3:9: invalid type: string \"tcp 127.0.0.1:5432\", expected a table for `ready` \
         in service `db` with one of tcp, http, exec, log",
    );
}

#[test]
fn an_invalid_size_is_named_with_its_line() {
    toml(
        "[services.db]\nrun = \"db\"\nlog = \"db.log\"\nlog_max_size = \"10 parsecs\"\n",
        "tend.toml:4:16: service `db`: `log_max_size`: invalid size \"10 parsecs\": unknown unit \
         \"parsecs\" (units: B, KiB, MiB, GiB, TiB, or decimal KB, MB, GB, TB; case-sensitive)",
    );
    toml(
        "[services.db]\nrun = \"db\"\nlog = \"db.log\"\nlog_max_size = \"0MiB\"\n",
        "tend.toml:4:16: service `db`: `log_max_size`: invalid size \"0MiB\": must be more than 0",
    );
    #[cfg(feature = "yaml_serde")]
    yaml(
        "services:\n  db:\n    run: db\n    log: db.log\n    log_max_size: 1.5GiB\n",
        "tend.yaml:5:19: service `db`: `log_max_size`: invalid size \"1.5GiB\": expected a whole \
         number of bytes with an optional unit (B, KiB, MiB, GiB, TiB, or decimal KB, MB, GB, \
         TB), e.g. 10MiB",
    );
}

#[test]
fn log_settings_need_a_log_path() {
    toml(
        "[services.db]\nrun = \"db\"\nlog_keep = 3\n",
        "tend.toml:1:1: service `db`: `log_max_size` and `log_keep` go with `log`, the path of \
         the log file",
    );
    toml(
        "[services.db]\nrun = \"db\"\nlog = \"\"\n",
        "tend.toml:3:7: service `db`: `log`: the path is empty",
    );
}

#[test]
fn an_invalid_signal_is_named_with_its_line() {
    let expected = "(expected a name such as TERM or SIGHUP, or a number such as 15)";
    toml(
        "[services.db]\nrun = \"db\"\nstop_signal = \"TERMINATE\"\n",
        &format!(
            "tend.toml:3:15: service `db`: `stop_signal`: unknown signal `TERMINATE` {expected}"
        ),
    );
    toml(
        "[services.db]\nrun = \"db\"\nstop_signal = 99\n",
        &format!("tend.toml:3:15: service `db`: `stop_signal`: unknown signal `99` {expected}"),
    );
    #[cfg(feature = "yaml_serde")]
    yaml(
        "services:\n  db:\n    run: db\n    stop_signal: TERMINATE\n",
        &format!(
            "tend.yaml:4:18: service `db`: `stop_signal`: unknown signal `TERMINATE` {expected}"
        ),
    );
}

#[test]
fn invalid_restart_settings_are_named_with_their_line() {
    toml(
        "[services.db]\nrun = \"db\"\nrestart = \"sometimes\"\n",
        "tend.toml:3:11: service `db`: `restart`: `sometimes` is not a restart policy (always, \
         on_failure, never)",
    );
    #[cfg(feature = "yaml_serde")]
    yaml(
        "services:\n  db:\n    run: db\n    restart: sometimes\n",
        "tend.yaml:4:14: service `db`: `restart`: `sometimes` is not a restart policy (always, \
         on_failure, never)",
    );
    toml(
        "[services.db]\nrun = \"db\"\nmax_restarts = -1\n",
        "tend.toml:3:16: service `db`: `max_restarts` must be a whole number from 0 to \
         4294967295, not -1",
    );
    toml(
        "[services.db]\nrun = \"db\"\nmax_restarts = \"lots\"\n",
        "tend.toml:3:16: service `db`: `max_restarts`: `lots` is not a number of restarts or \
         \"unlimited\"",
    );
    toml(
        "[services.db]\nrun = \"db\"\nalive = { tcp = \"127.0.0.1:5432\", failures = 0 }\n",
        "tend.toml:3:46: service `db`: `alive.failures`: must be a whole number from 1 to \
         4294967295, not 0",
    );
}

#[test]
fn durations_are_read_as_for_steps() {
    toml(
        "[services.db]\nrun = \"db\"\nrestart_delay = 5\n",
        "tend.toml:3:17: expected a duration such as \"500ms\", \"2s\" or \"1m30s\" for \
         `restart_delay` in service `db`: a bare number is ambiguous; give a duration string such \
         as \"5s\" or \"500ms\", or milliseconds as `restart_delay_ms`",
    );
    toml(
        "[services.db]\nrun = \"db\"\nready = { tcp = \"127.0.0.1:5432\", timeout = \"soon\" }\n",
        "tend.toml:3:45: service `db`: `ready.timeout` is not a duration like 500ms, 2s or 1m30s: \
         `soon` (expected number at 0)",
    );
    toml(
        "[services.db]\nrun = \"db\"\nready = { tcp = \"127.0.0.1:5432\", interval = \"1s\", interval_ms = 5 }\n",
        "tend.toml:3:52: service `db`: give `ready.interval` or `ready.interval_ms`, not both",
    );
    toml(
        "[services.db]\nrun = \"db\"\ngrace = \"1s\"\ngrace_ms = 5\n",
        "tend.toml:4:1: service `db`: give `grace` or `grace_ms`, not both",
    );
}

#[test]
fn the_command_is_checked_as_for_steps() {
    toml(
        "[services.db]\nrun = \"db\"\ncommand = \"db\"\n",
        "tend.toml:3:11: service `db`: has both `command` and `run`; give one",
    );
    toml(
        "[services.db]\ndir = \"/\"\n",
        "tend.toml:1:1: service `db`: needs `command` (a program) or `run` (a bash script)",
    );
    #[cfg(feature = "yaml_serde")]
    yaml(
        "services:\n  db:\n    dir: /\n",
        "tend.yaml:3:5: service `db`: needs `command` (a program) or `run` (a bash script)",
    );
    toml(
        "[services.db]\nrun = \"db\"\nargs = [\"x\"]\n",
        "tend.toml:1:1: service `db`: `args` goes with `command`; a `run` script takes none",
    );
}

#[test]
fn the_services_table_is_checked() {
    toml("services = {}\n", "tend.toml:1:12: `services` is empty: define at least one service");
    toml(
        "",
        "tend.toml:1:1: no steps or services: define each step as a `[steps.NAME]` table and \
         each service as a `[services.NAME]` table",
    );
    #[cfg(feature = "yaml_serde")]
    yaml(
        "services:\n  db:\n    run: db\n  db:\n    run: db\n",
        "tend.yaml:2:3: service `db` is defined twice",
    );
}
