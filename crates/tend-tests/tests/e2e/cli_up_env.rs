//! `tend up` with `env` and `env_file` (issue 13): what the steps' processes really get, in
//! which precedence, and the exit status 2 for an env file that is missing or malformed; and
//! `POST /pipelines`, which refuses `env_file`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::tend_bin;

/// Generous bound for one `tend up` in these tests.
const BOUND: Duration = Duration::from_secs(30);

struct Ran {
    code: Option<i32>,
    stderr: String,
}

/// Runs `tend up FILE` from `cwd` to the end (bounded), with `envs` added to its environment.
fn up(cwd: &Path, file: &Path, envs: &[(&str, &str)]) -> Ran {
    let dir = tempfile::tempdir().unwrap();
    let stdout = std::fs::File::create(dir.path().join("stdout")).unwrap();
    let stderr = std::fs::File::create(dir.path().join("stderr")).unwrap();
    let mut child = Command::new(tend_bin())
        .arg("up")
        .arg(file)
        .current_dir(cwd)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("spawn tend");
    let deadline = Instant::now() + BOUND;
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tend up did not finish within {BOUND:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Ran { code, stderr: std::fs::read_to_string(dir.path().join("stderr")).unwrap() }
}

/// Writes `files` (name, text) under `dir`.
fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// A step that writes `A` to `E` and `MOTD` of its environment, one a line, to `out-NAME`.
fn printing_step(name: &str, extra: &str) -> String {
    format!(
        "[steps.{name}]\nrun = 'printf \"%s\\n\" \"$A\" \"$B\" \"$C\" \"$D\" \"$E\" \"$MOTD\" > out-{name}'\n{extra}\n"
    )
}

#[test]
fn steps_get_global_env_files_then_global_env_then_their_env_files_then_their_env() {
    let project = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    write(
        project.path(),
        &[
            ("one.env", "# shared\r\nexport A=one\r\nB=one\r\nC=one\r\nD=one\r\nE=one\r\n"),
            ("two.env", "B=two\nC=two\nD=two\nE=two\nMOTD=\"say \\\"hi\\\"\\nbye\" # greeting\n"),
            ("conf/step.env", "D='step file'\nE='step file'\n"),
        ],
    );
    let text = format!(
        "env_file = [\"one.env\", \"two.env\"]\nenv = {{ C = \"global env\", D = \"global env\", E = \"global env\" }}\n\n{}{}",
        printing_step("full", "env_file = \"conf/step.env\"\nenv = { E = \"step env\" }"),
        printing_step("bare", ""),
    );
    write(project.path(), &[("tend.toml", &text)]);
    // Started from another directory, with A in tend's own environment: the files win over
    // the inherited environment, and their paths are the pipeline file's.
    let ran = up(elsewhere.path(), &project.path().join("tend.toml"), &[("A", "inherited")]);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let full = std::fs::read_to_string(project.path().join("out-full")).unwrap();
    assert_eq!(full, "one\ntwo\nglobal env\nstep file\nstep env\nsay \"hi\"\nbye\n");
    let bare = std::fs::read_to_string(project.path().join("out-bare")).unwrap();
    assert_eq!(bare, "one\ntwo\nglobal env\nglobal env\nglobal env\nsay \"hi\"\nbye\n");
}

#[test]
fn a_missing_env_file_is_exit_2_naming_the_file_the_step_and_the_line() {
    let project = tempfile::tempdir().unwrap();
    let text = printing_step("web", "env_file = [\"missing.env\"]");
    write(project.path(), &[("tend.toml", &text)]);
    let ran = up(project.path(), Path::new("tend.toml"), &[]);
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    assert!(ran.stderr.contains("tend.toml:3:"), "{}", ran.stderr);
    assert!(ran.stderr.contains("step `web`: `env_file`: cannot read `"), "{}", ran.stderr);
    assert!(ran.stderr.contains("missing.env"), "{}", ran.stderr);
    assert!(!project.path().join("out-web").exists(), "nothing may run");
}

#[test]
fn a_malformed_env_file_is_exit_2_naming_the_file_the_step_and_both_lines() {
    let project = tempfile::tempdir().unwrap();
    write(project.path(), &[("app.env", "A=1\n# comment\n\nB\n")]);
    let text = format!("env_file = \"app.env\"\n{}", printing_step("web", ""));
    write(project.path(), &[("tend.toml", &text)]);
    let ran = up(project.path(), Path::new("tend.toml"), &[]);
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    let expected =
        "tend.toml:1:12: top level: `env_file`: ./app.env:4: expected KEY=VALUE, found `B`";
    assert!(ran.stderr.contains(expected), "{}", ran.stderr);
    assert!(!project.path().join("out-web").exists(), "nothing may run");
}

#[test]
fn a_symlinked_env_file_is_read_through_the_link() {
    let project = tempfile::tempdir().unwrap();
    let shared = tempfile::tempdir().unwrap();
    write(shared.path(), &[("real.env", "A=linked\n")]);
    std::os::unix::fs::symlink(shared.path().join("real.env"), project.path().join(".env"))
        .unwrap();
    let text = format!("env_file = \".env\"\n{}", printing_step("web", ""));
    write(project.path(), &[("tend.toml", &text)]);
    let ran = up(project.path(), Path::new("tend.toml"), &[]);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let out = std::fs::read_to_string(project.path().join("out-web")).unwrap();
    assert_eq!(out.lines().next(), Some("linked"));
}

/// `POST /pipelines` takes a file's step keys, but not `env_file`: it would name a file on
/// the daemon's machine, relative to no pipeline file. The refusal says what to do instead,
/// and the file named is not read (it exists and is valid: only the key is refused).
#[tokio::test(flavor = "multi_thread")]
async fn the_api_refuses_env_file_with_a_400_naming_the_step() {
    let server = crate::server_support::TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("app.env");
    std::fs::write(&env, "A=1\n").unwrap();
    let body = serde_json::json!({ "steps": [
        { "name": "web", "command": "true", "env_file": env.to_str().unwrap() }
    ] });
    let reply = server.call("POST", "/api/v1/pipelines", Some(body)).await;
    let text = String::from_utf8_lossy(&reply.body).into_owned();
    assert_eq!((reply.status, reply.code().as_str()), (400, "invalid_request"), "{text}");
    assert!(text.contains("step `web`: `env_file`: not accepted here"), "{text}");
    assert!(text.contains("give the variables in `env`"), "{text}");
}
