//! `env` and `env_file` in pipeline files: precedence, paths, and where errors point.

use std::collections::BTreeMap;
use std::path::Path;

use super::*;

/// Writes `files` (name, text) under `dir`.
fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn env_of<'a>(pipeline: &'a Pipeline, step: &str) -> &'a BTreeMap<String, String> {
    &pipeline.steps().iter().find(|s| s.name == step).unwrap().env
}

const PRECEDENCE_ENV_FILES: &[(&str, &str)] = &[
    ("one.env", "A=one\nB=one\nC=one\nD=one\nE=one\nONLY_ONE=1\n"),
    ("two.env", "B=two\nC=two\nD=two\nE=two\n"),
    ("sub/step.env", "D=step-file\nE=step-file\n"),
];

#[test]
fn precedence_is_global_files_then_global_env_then_step_files_then_step_env() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), PRECEDENCE_ENV_FILES);
    let path = dir.path().join("tend.toml");
    std::fs::write(
        &path,
        r#"env_file = ["one.env", "two.env"]
env = { C = "global", D = "global", E = "global" }

[steps.full]
run = "x"
env_file = "sub/step.env"
env = { E = "step" }

[steps.bare]
run = "y"
"#,
    )
    .unwrap();
    let pipeline = load(&path).unwrap();
    let full = env_of(&pipeline, "full");
    let expected = [
        ("A", "one"),
        ("B", "two"),
        ("C", "global"),
        ("D", "step-file"),
        ("E", "step"),
        ("ONLY_ONE", "1"),
    ];
    let expected: BTreeMap<String, String> =
        expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert_eq!(full, &expected);
    let bare = env_of(&pipeline, "bare");
    assert_eq!((bare["B"].as_str(), bare["E"].as_str()), ("two", "global"));
    assert!(!bare.contains_key("D") || bare["D"] == "global");
}

#[cfg(feature = "yaml_serde")]
#[test]
fn yaml_takes_the_same_keys_with_the_same_precedence() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), PRECEDENCE_ENV_FILES);
    let path = dir.path().join("tend.yaml");
    std::fs::write(
        &path,
        "steps:\n  full:\n    run: x\n    env: {E: step}\n    env_file: [sub/step.env]\nenv:\n  C: global\n  D: global\n  E: global\nenv_file: [one.env, two.env]\n",
    )
    .unwrap();
    let pipeline = load(&path).unwrap();
    let full = env_of(&pipeline, "full");
    let got: Vec<&str> = ["A", "B", "C", "D", "E"].iter().map(|k| full[*k].as_str()).collect();
    assert_eq!(got, ["one", "two", "global", "step-file", "step"]);

    std::fs::write(dir.path().join("bad.env"), "A=1\n\nnope\n").unwrap();
    std::fs::write(&path, "steps:\n  a:\n    run: x\n    env_file: bad.env\n").unwrap();
    let error = load(&path).unwrap_err();
    let message = error.to_string();
    assert_eq!(error.line(), Some(4), "{message}");
    assert!(message.contains("step `a`: `env_file`: "), "{message}");
    assert!(message.contains("bad.env:3: expected KEY=VALUE, found `nope`"), "{message}");
}

#[test]
fn env_file_errors_name_the_pipeline_line_the_step_the_env_file_and_its_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("bad.env", "# fine\nA=1\nB='unterminated\n"), ("ok.env", "A=1\n")]);
    let path = dir.path().join("tend.toml");
    let bad = dir.path().join("bad.env");

    std::fs::write(&path, "[steps.a]\nrun = \"x\"\nenv_file = [\"ok.env\", \"bad.env\"]\n")
        .unwrap();
    let error = load(&path).unwrap_err();
    let message = error.to_string();
    assert_eq!(error.line(), Some(3), "{message}");
    let expected = format!(
        "{}:3:12: step `a`: `env_file`: {}:3: `B`: the single quote is not closed on this line",
        path.display(),
        bad.display()
    );
    assert_eq!(message, expected);

    std::fs::write(&path, "env_file = \"missing.env\"\n[steps.a]\nrun = \"x\"\n").unwrap();
    let error = load(&path).unwrap_err();
    let message = error.to_string();
    assert_eq!(error.line(), Some(1), "{message}");
    assert!(message.contains("top level: `env_file`: cannot read `"), "{message}");
    assert!(message.contains("missing.env"), "{message}");

    for (text, line, needle) in [
        (
            "env_file = 3\n[steps.a]\nrun = \"x\"\n",
            1,
            "a path or a list of paths for the top-level `env_file`",
        ),
        ("env_file = \"\"\n[steps.a]\nrun = \"x\"\n", 1, "top level: `env_file`: a path is empty"),
        (
            "env = { \"A=B\" = \"1\" }\n[steps.a]\nrun = \"x\"\n",
            1,
            "top level: `env`: `A=B` is not an environment variable name",
        ),
        (
            "env_fil = \"x\"\n[steps.a]\nrun = \"x\"\n",
            1,
            "unknown top-level key `env_fil` (expected: steps, services, env, env_file)",
        ),
        (
            "[steps.a]\nrun = \"x\"\nenv_file = [\"ok.env\", 1]\n",
            3,
            "a string for `env_file` in step `a`",
        ),
    ] {
        std::fs::write(&path, text).unwrap();
        let error = load(&path).unwrap_err();
        let message = error.to_string();
        assert_eq!(error.line(), Some(line), "{message}");
        assert!(message.contains(needle), "{message}");
    }
}

#[test]
fn a_symlinked_env_file_is_followed_like_a_pipeline_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("real/app.env", "A=through the link\n")]);
    std::os::unix::fs::symlink(dir.path().join("real/app.env"), dir.path().join(".env")).unwrap();
    let path = dir.path().join("tend.toml");
    std::fs::write(&path, "env_file = \".env\"\n[steps.a]\nrun = \"x\"\n").unwrap();
    assert_eq!(env_of(&load(&path).unwrap(), "a")["A"], "through the link");
}

#[test]
fn env_file_is_refused_without_a_file_and_global_env_still_applies() {
    let message =
        parse_toml("[steps.a]\nrun = \"x\"\nenv_file = \".env\"\n").unwrap_err().to_string();
    assert!(message.contains("3:12: step `a`: `env_file`: not accepted here"), "{message}");
    let steps =
        parse_toml("env = { A = 1, B = \"g\" }\n[steps.a]\nrun = \"x\"\nenv = { B = \"s\" }\n")
            .unwrap();
    let env = &steps.steps()[0].env;
    assert_eq!((env["A"].as_str(), env["B"].as_str()), ("1", "s"));
}
