//! `tend up` with a bad `[services.NAME]` (issue 13): every new key is validated like the
//! step keys; the error names the file's line, the service and the key, the exit status is 2,
//! and nothing runs. Names are unique across steps and services, `after` may name either
//! kind, and cycles across both kinds are refused.

use crate::up_support::Project;

/// `(file text, the line the error must name (0: none), substrings the error must hold)`.
type Case = (&'static str, usize, &'static [&'static str]);

const SERVICE_KEYS: &[Case] = &[
    (
        "[services.web]\nrun = \"touch ran\"\nreddy = { tcp = \"127.0.0.1:1\" }\n",
        3,
        &["service `web`", "unknown key `reddy`"],
    ),
    (
        "[services.web]\nrun = \"touch ran\"\nready = { interval = \"1s\" }\n",
        3,
        &["service `web`", "ready"],
    ),
    (
        "[services.web]\nrun = \"touch ran\"\nready = { tcp = \"127.0.0.1:1\", log = \"up\" }\n",
        3,
        &["service `web`", "ready"],
    ),
    (
        "[services.web]\nrun = \"touch ran\"\nready = { tcp = \"127.0.0.1:1\", colour = \"red\" }\n",
        3,
        &["service `web`", "colour"],
    ),
    (
        "[services.web]\nrun = \"touch ran\"\nalive = { log = \"up\" }\n",
        3,
        &["service `web`", "alive"],
    ),
    (
        "[services.web]\nrun = \"touch ran\"\nalive = { interval = \"1s\" }\n",
        3,
        &["service `web`", "alive"],
    ),
    (
        "[services.web]\nrun = \"touch ran\"\nready = { log = \"(unclosed\" }\n",
        3,
        &["service `web`", "ready.log"],
    ),
    (
        "[services.web]\nrun = \"touch ran\"\nready = { http = \"not a url\" }\n",
        3,
        &["service `web`", "ready.http"],
    ),
    (
        "[services.web]\nrun = \"touch ran\"\nready = { tcp = \"localhost\" }\n",
        3,
        &["service `web`", "ready.tcp"],
    ),
    (
        "[services.web]\nrun = \"touch ran\"\nready = { tcp = \"127.0.0.1:1\", timeout = \"soon\" }\n",
        3,
        &["service `web`", "timeout"],
    ),
    (
        "[services.web]\nrun = \"touch ran\"\nalive = { exec = \"true\", failures = 0 }\n",
        3,
        &["service `web`", "failures"],
    ),
    (
        "[services.web]\nrun = \"touch ran\"\nlog = \"web.log\"\nlog_max_size = \"ten megs\"\n",
        4,
        &["service `web`", "`log_max_size`"],
    ),
    (
        "[services.web]\nrun = \"touch ran\"\nlog = \"web.log\"\nlog_keep = -1\n",
        4,
        &["service `web`", "`log_keep`"],
    ),
    (
        "[services.web]\nrun = \"touch ran\"\nstop_signal = \"SIGFOO\"\n",
        3,
        &["service `web`", "`stop_signal`"],
    ),
    (
        "[services.web]\nrun = \"touch ran\"\nrestart = \"sometimes\"\n",
        3,
        &["service `web`", "`restart`"],
    ),
    (
        "[services.web]\nrun = \"touch ran\"\nmax_restarts = -1\n",
        3,
        &["service `web`", "`max_restarts`"],
    ),
    (
        "[services.web]\nrun = \"touch ran\"\nrestart_delay = \"soon\"\n",
        3,
        &["service `web`", "`restart_delay`"],
    ),
    ("[services.web]\nrun = \"touch ran\"\ngrace = \"soon\"\n", 3, &["service `web`", "`grace`"]),
    (
        "[services.web]\nrun = \"touch ran\"\ncommand = \"touch\"\n",
        3,
        &["service `web`", "`command`", "`run`"],
    ),
    (
        "[services.web]\nrun = \"touch ran\"\nenv_file = \"missing.env\"\n",
        3,
        &["service `web`", "`env_file`", "missing.env"],
    ),
    ("[services.web]\ndir = \".\"\n", 0, &["service `web`", "`command`", "`run`"]),
];

const GRAPH: &[Case] = &[
    (
        "[steps.db]\nrun = \"touch ran\"\n[services.db]\nrun = \"touch ran\"\n",
        0,
        &["`db` is both a step and a service"],
    ),
    (
        "[services.db]\nrun = \"touch ran\"\n[services.web]\nrun = \"touch ran\"\nafter = [\"dbb\"]\n",
        0,
        &["service `web` runs after `dbb`, which is not a step or service"],
    ),
    (
        "[steps.a]\nrun = \"touch ran\"\nafter = [\"b\"]\n[services.b]\nrun = \"touch ran\"\nafter = [\"a\"]\n",
        0,
        &["dependency cycle: "],
    ),
];

/// Runs every case and fails naming each one whose outcome is wrong (all of them at once).
fn check(file: &str, cases: &[Case]) {
    let mut wrong = Vec::new();
    for (text, line, expected) in cases {
        let project = Project::new();
        project.write(file, text);
        let ran = project.up(&[file]).finish();
        let at = format!("{file}:{line}:");
        let mut missing: Vec<&str> =
            expected.iter().copied().filter(|w| !ran.stderr.contains(w)).collect();
        if *line > 0 && !ran.stderr.contains(&at) {
            missing.push(&at);
        }
        if ran.code != Some(2) || !missing.is_empty() || !ran.stdout.is_empty() {
            wrong.push(format!(
                "{text}=> missing {missing:?} in
{}",
                ran.both()
            ));
        }
        assert!(!project.path().join("ran").exists(), "something ran:\n{text}");
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases wrong:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}

#[test]
fn every_bad_service_key_is_exit_2_naming_the_line_the_service_and_the_key() {
    check("tend.toml", SERVICE_KEYS);
}

#[test]
fn names_are_unique_across_steps_and_services_and_dependencies_checked_across_both() {
    check("tend.toml", GRAPH);
    // The cycle is named through both kinds.
    let project = Project::new();
    project.write("tend.toml", GRAPH[2].0);
    let ran = project.up(&[]).finish();
    assert!(
        ran.stderr.contains("a -> b -> a") || ran.stderr.contains("b -> a -> b"),
        "{}",
        ran.stderr
    );
}

#[test]
fn yaml_service_errors_name_the_line_too() {
    check(
        "stack.yaml",
        &[(
            "services:\n  web:\n    run: touch ran\n    reddy:\n      tcp: 127.0.0.1:1\n",
            4,
            &["service `web`", "unknown key `reddy`"],
        )],
    );
}
