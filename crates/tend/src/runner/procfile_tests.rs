//! Procfiles: processes as services, comments, malformed lines, `.env` and `PORT`.

use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::Restart;

/// Writes `files` (name, text) into a fresh directory.
fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// The error of loading `dir/name`, without the directory.
fn error_of(dir: &Path, name: &str) -> String {
    let message = load(dir.join(name)).unwrap_err().to_string();
    message.replace(&format!("{}/", dir.display()), "")
}

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn each_line_is_a_bash_service_that_is_not_restarted_with_its_port() {
    let procfile = "# the app\nweb: exec python3 -m http.server $PORT --bind 127.0.0.1:$PORT\n\n  \
                    worker:   ./worker --queue=default  \r\n\t# indented comment\nclock:bin/clock\n";
    let dir = dir_with(&[("Procfile", procfile)]);
    let pipeline = load(dir.path().join("Procfile")).unwrap();
    assert!(pipeline.steps().is_empty());
    let expected: Vec<ServiceSpec> = [
        ("web", "exec python3 -m http.server $PORT --bind 127.0.0.1:$PORT", "5000"),
        ("worker", "./worker --queue=default", "5100"),
        ("clock", "bin/clock", "5200"),
    ]
    .into_iter()
    .map(|(name, command, port)| {
        ServiceSpec::script(name, command)
            .dir(dir.path())
            .restart(Restart::never())
            .env("PORT", port)
    })
    .collect();
    assert_eq!(format!("{:#?}", pipeline.services()), format!("{expected:#?}"));
}

#[test]
fn dotenv_beside_the_procfile_reaches_every_process_and_may_set_port() {
    let dir = dir_with(&[
        ("Procfile.dev", "web: ./web\nworker: ./worker\n"),
        (".env", "# settings\nexport DATABASE_URL=postgres://localhost/app\nGREETING='hi there'\n"),
    ]);
    let pipeline = load(dir.path().join("Procfile.dev")).unwrap();
    let [web, worker] = pipeline.services() else { panic!("two services") };
    let url = ("DATABASE_URL", "postgres://localhost/app");
    assert_eq!(web.env, vars(&[url, ("GREETING", "hi there"), ("PORT", "5000")]));
    assert_eq!(worker.env, vars(&[url, ("GREETING", "hi there"), ("PORT", "5100")]));

    std::fs::write(dir.path().join(".env"), "PORT=8080\n").unwrap();
    let pipeline = load(dir.path().join("Procfile.dev")).unwrap();
    let ports: Vec<&str> = pipeline.services().iter().map(|s| s.env["PORT"].as_str()).collect();
    assert_eq!(ports, ["8080", "8080"]);
}

#[test]
fn a_malformed_line_is_an_error_naming_the_file_and_line() {
    for (text, expected) in [
        ("web: ./web\n\nworker\n", "Procfile:3: expected `NAME: COMMAND`, found `worker`"),
        (
            "# c\n: ./web\n",
            "Procfile:2: the process name is empty: expected `NAME: COMMAND`, found `: ./web`",
        ),
        (
            "web server: ./web\n",
            "Procfile:1: process name `web server` may hold only ASCII letters, digits, `_` and `-`",
        ),
        ("web: ./web\nworker:   \n", "Procfile:2: process `worker` has no command"),
        (
            "web: ./web\nworker: ./w\nweb: ./other\n",
            "Procfile:3: process `web` is defined twice (first on line 1)",
        ),
        (
            "web: a\0b\n",
            "Procfile:1: process `web`: `a\\0b` holds a NUL byte, which no program can be given",
        ),
        ("# nothing\n\n", "Procfile: no processes: a Procfile holds `NAME: COMMAND` lines"),
    ] {
        let dir = dir_with(&[("Procfile", text)]);
        assert_eq!(error_of(dir.path(), "Procfile"), expected, "{text:?}");
    }
}

#[test]
fn a_malformed_dotenv_is_an_error_naming_it_and_its_line() {
    let dir = dir_with(&[("Procfile", "web: ./web\n"), (".env", "A=1\nnot a line\n")]);
    assert_eq!(
        error_of(dir.path(), "Procfile"),
        "Procfile: .env:2: expected KEY=VALUE, found `not a line`"
    );
}

#[test]
fn procfiles_are_told_by_their_name() {
    for name in ["Procfile", "Procfile.dev", "app/Procfile", "/srv/Procfile.prod"] {
        assert!(is_procfile(name), "{name}");
    }
    for name in ["tend.toml", "Procfile/tend.toml", "procfile", "Procfiles", "my.Procfile"] {
        assert!(!is_procfile(name), "{name}");
    }
    // A `Procfile.toml` is a Procfile too: its name says so, whatever it ends in.
    let dir = dir_with(&[("Procfile.toml", "web: ./web\n")]);
    assert_eq!(load(dir.path().join("Procfile.toml")).unwrap().services()[0].name, "web");
}
