//! Pipeline files: what parses, and where errors point.

use std::time::Duration;

use super::*;

fn toml_error(text: &str) -> (Option<usize>, String) {
    let error = parse_toml(text).unwrap_err();
    (error.line(), error.to_string())
}

#[test]
fn toml_steps_keep_declaration_order_and_every_key() {
    let pipeline = parse_toml(
        r#"
[steps.zeta]
command = "cargo"
args = ["build", "--release"]
dir = "sub"
env = { A = "1", PORT = 8080, DEBUG = true }
timeout = "1m30s"
grace = "2s"
retries = 3
retry_delay = "250ms"

[steps.alpha]
run = "echo hi"
after = ["zeta"]
allow_failure = true
"#,
    )
    .unwrap();
    let steps = pipeline.steps();
    assert_eq!(steps.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["zeta", "alpha"]);
    let zeta = &steps[0];
    assert_eq!(
        zeta.command,
        StepCommand::Program {
            command: "cargo".into(),
            args: vec!["build".into(), "--release".into()]
        }
    );
    assert_eq!(zeta.dir.as_deref(), Some(std::path::Path::new("sub")));
    assert_eq!(zeta.env["PORT"], "8080");
    assert_eq!(zeta.env["DEBUG"], "true");
    assert_eq!(zeta.timeout, Some(Duration::from_secs(90)));
    assert_eq!(zeta.grace, Duration::from_secs(2));
    assert_eq!((zeta.retries, zeta.retry_delay), (3, Duration::from_millis(250)));
    let alpha = &steps[1];
    assert_eq!(alpha.command, StepCommand::Script("echo hi".into()));
    assert_eq!(alpha.after, ["zeta"]);
    assert!(alpha.allow_failure);
}

#[test]
fn toml_errors_name_step_key_and_line() {
    let (line, message) =
        toml_error("[steps.a]\nrun = \"x\"\n\n[steps.b]\ndir = \"/\"\ncomand = \"ls\"\n");
    assert_eq!(line, Some(6), "{message}");
    assert!(message.contains("step `b`: unknown key `comand`"), "{message}");

    let (line, message) = toml_error("[steps.a]\nrun = \"x\"\ncommand = \"ls\"\n");
    assert_eq!(line, Some(3), "{message}");
    assert!(message.contains("step `a`: has both `command` and `run`"), "{message}");

    let (line, message) = toml_error("[steps.a]\nrun = \"x\"\n\n[steps.quiet]\ndir = \"/\"\n");
    assert!(message.contains("step `quiet`: needs `command`"), "{message}");
    assert!(matches!(line, Some(4..=5)), "{line:?}: {message}");

    let (line, message) = toml_error("[steps.a]\nrun = \"x\"\ntimeout = \"5 parsecs\"\n");
    assert_eq!(line, Some(3), "{message}");
    assert!(message.contains("step `a`: `timeout` is not a duration"), "{message}");
    assert!(message.contains("`5 parsecs`"), "{message}");

    let (line, message) = toml_error("[steps.a]\nrun = \"x\"\ngrace = 5\n");
    assert_eq!(line, Some(3), "{message}");
    assert!(message.contains("`grace` in step `a`"), "{message}");

    let (line, message) = toml_error("[steps.a]\nrun = \"x\"\nretries = -1\n");
    assert_eq!(line, Some(3), "{message}");
    assert!(message.contains("step `a`: `retries` must be a whole number"), "{message}");

    let (line, message) = toml_error("[steps.a]\ncommand = \"x\"\nafter = [\"b\", 3]\n");
    assert_eq!(line, Some(3), "{message}");
    assert!(message.contains("`after` in step `a`"), "{message}");

    let (_, message) = toml_error("[steps.a]\nrun = \"x\"\nargs = [\"y\"]\n");
    assert!(message.contains("step `a`: `args` goes with `command`"), "{message}");

    let (line, message) = toml_error("name = \"ci\"\n[steps.a]\nrun = \"x\"\n");
    assert_eq!(line, Some(1), "{message}");
    assert!(message.contains("unknown top-level key `name`"), "{message}");

    let (_, message) = toml_error("");
    assert!(message.contains("no steps"), "{message}");
    let (line, message) = toml_error("[steps.a]\nrun = \"x\"\n[steps.a]\nrun = \"y\"\n");
    assert_eq!(line, Some(3), "{message}");
    let (line, message) = toml_error("[steps.a]\nrun = \"x\n");
    assert_eq!(line, Some(2), "{message}");
}

#[cfg(feature = "yaml_serde")]
#[test]
fn yaml_reads_the_same_schema_and_points_at_lines() {
    let yaml = "steps:\n  zeta:\n    command: cargo\n    args: [build]\n    env:\n      PORT: 8080\n    timeout: 2s\n  alpha:\n    run: echo hi\n    after: [zeta]\n";
    let toml = "[steps.zeta]\ncommand = \"cargo\"\nargs = [\"build\"]\nenv = { PORT = 8080 }\ntimeout = \"2s\"\n[steps.alpha]\nrun = \"echo hi\"\nafter = [\"zeta\"]\n";
    assert_eq!(parse_yaml(yaml).unwrap().steps(), parse_toml(toml).unwrap().steps());

    for (text, line, needle) in [
        (
            "steps:\n  a:\n    run: x\n  b:\n    dir: /\n    comand: ls\n",
            6,
            "step `b`: unknown key `comand`",
        ),
        (
            "steps:\n  a:\n    run: x\n    timeout: soon\n",
            4,
            "step `a`: `timeout` is not a duration",
        ),
        (
            "steps:\n  a:\n    run: x\n    command: ls\n",
            4,
            "step `a`: has both `command` and `run`",
        ),
        ("steps:\n  a:\n    run: x\n    retries: many\n", 4, "`retries` in step `a`"),
    ] {
        let error = parse_yaml(text).unwrap_err();
        let message = error.to_string();
        assert_eq!(error.line(), Some(line), "{message}");
        assert!(message.contains(needle), "{message}");
    }
    let message = parse_yaml("steps:\n  a:\n    dir: /\n").unwrap_err().to_string();
    assert!(message.contains("step `a`: needs `command`"), "{message}");
}

#[test]
fn load_resolves_dirs_against_the_file_and_validates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tend.toml");
    std::fs::write(&path, "[steps.a]\nrun = \"x\"\ndir = \"sub\"\n[steps.b]\nrun = \"y\"\n")
        .unwrap();
    let pipeline = load(&path).unwrap();
    assert_eq!(pipeline.steps()[0].dir.as_deref(), Some(dir.path().join("sub").as_path()));
    assert_eq!(pipeline.steps()[1].dir.as_deref(), Some(dir.path()));

    std::fs::write(&path, "[steps.a]\nrun = \"x\"\nafter = [\"a\"]\n").unwrap();
    let message = load(&path).unwrap_err().to_string();
    assert_eq!(message, format!("{}: step `a` runs after itself", path.display()));

    std::fs::write(&path, "[steps.a]\nrun = 1\n").unwrap();
    let message = load(&path).unwrap_err().to_string();
    assert!(message.starts_with(&format!("{}:2:7: ", path.display())), "{message}");

    let missing = load(dir.path().join("nope.toml")).unwrap_err().to_string();
    assert!(missing.starts_with("cannot read `") && missing.contains("nope.toml"), "{missing}");
}
