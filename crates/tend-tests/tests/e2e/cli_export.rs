//! `tend export systemd|kubernetes|nomad` (issue 16): golden files from stack files covering
//! every key (`tests/export_files/`), the files `-o` writes, the notes on stderr for keys a
//! format has no equivalent for, and exit 2 naming bad input. The checks with the real tools
//! (`systemd-analyze`, `kubernetes-validate`) and against Nomad's job specification are in
//! `cli_export_checks.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::tend_bin;

/// Where the stack files of these tests are.
pub(crate) fn export_files() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/export_files")
}

/// `tend export ARGS` in `tests/export_files`, to its end.
pub(crate) fn export(args: &[&str]) -> Output {
    Command::new(tend_bin())
        .arg("export")
        .args(args)
        .current_dir(export_files())
        .stdin(Stdio::null())
        .output()
        .expect("run tend export")
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `output`'s stdout and stderr with this checkout's path made `[DIR]`, so the golden files
/// hold wherever the repository is; the export must have succeeded.
fn golden(output: &Output) -> (String, String) {
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let dir = export_files().canonicalize().unwrap().display().to_string();
    (text(&output.stdout).replace(&dir, "[DIR]"), text(&output.stderr).replace(&dir, "[DIR]"))
}

#[test]
fn systemd_units_of_every_key() {
    let output =
        export(&["systemd", "full.toml", "-p", "shop", "--tend-bin", "/usr/local/bin/tend"]);
    let (units, notes) = golden(&output);
    insta::assert_snapshot!("export_systemd_full", units);
    insta::assert_snapshot!("export_systemd_full_notes", notes);
}

#[test]
fn systemd_units_keep_odd_arguments_exactly() {
    let output =
        export(&["systemd", "escaping.toml", "-p", "odd", "--tend-bin", "/usr/local/bin/tend"]);
    let (units, notes) = golden(&output);
    insta::assert_snapshot!("export_systemd_escaping", units);
    assert_eq!(notes, "");
}

#[test]
fn kubernetes_manifests_of_every_key() {
    let output = export(&[
        "kubernetes",
        "full.toml",
        "-p",
        "shop",
        "--image",
        "registry.example/shop:1.2",
        "--probe-image",
        "registry.example/tend:0.1",
        "--namespace",
        "shop",
    ]);
    let (manifests, notes) = golden(&output);
    insta::assert_snapshot!("export_kubernetes_full", manifests);
    insta::assert_snapshot!("export_kubernetes_full_notes", notes);
}

#[test]
fn a_nomad_job_of_every_key() {
    let output = export(&["nomad", "full.toml", "-p", "shop", "--tend-bin", "/usr/local/bin/tend"]);
    let (job, notes) = golden(&output);
    insta::assert_snapshot!("export_nomad_full", job);
    insta::assert_snapshot!("export_nomad_full_notes", notes);
}

#[test]
fn user_units_are_wanted_by_the_default_target() {
    let output = export(&["systemd", "small.toml", "-p", "mine", "--user"]);
    let (units, _) = golden(&output);
    let target = units.split("# tend-mine.target").nth(1).expect("the target unit");
    assert!(
        target.contains("Wants=tend-mine-prepare.service\nWants=tend-mine-web.service"),
        "{units}"
    );
    assert!(target.contains("WantedBy=default.target"), "{units}");
    let system = golden(&export(&["systemd", "small.toml", "-p", "mine"])).0;
    assert!(system.contains("WantedBy=multi-user.target"), "{system}");
}

#[test]
fn o_writes_one_file_per_unit_and_nothing_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("units");
    let output = export(&["systemd", "small.toml", "-p", "mine", "-o", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty(), "{}", text(&output.stdout));
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["tend-mine-prepare.service", "tend-mine-web.service", "tend-mine.target"]);
    let web = std::fs::read_to_string(out.join("tend-mine-web.service")).unwrap();
    assert!(
        web.contains("After=tend-mine-prepare.service\nRequires=tend-mine-prepare.service"),
        "{web}"
    );

    for (format, extra, file) in [
        ("kubernetes", &["--image", "x:1"][..], "mine.yaml"),
        ("nomad", &[][..], "mine.nomad.json"),
    ] {
        let mut args = vec![format, "small.toml", "-p", "mine", "-o", out.to_str().unwrap()];
        args.extend(extra);
        let output = export(&args);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        assert!(output.stdout.is_empty());
        assert!(out.join(file).is_file(), "{format}: no {file}");
    }
}

#[test]
fn bad_input_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("tend.toml");
    std::fs::write(&bad, "[services.web]\ncommand = \"x\"\nready = { tcp = \"nowhere\" }\n")
        .unwrap();
    let bad = bad.to_str().unwrap();
    let missing = dir.path().join("missing.toml");
    let missing = missing.to_str().unwrap();
    for (args, named) in [
        (&["systemd", bad][..], "tend.toml:3"),
        (&["nomad", missing][..], "missing.toml"),
        (&["kubernetes", "small.toml"][..], "--image"),
        (&["nomad", "small.toml", "--user"][..], "--user"),
        (&["systemd", "small.toml", "-p", "a b"][..], "a b"),
        (&["helm", "small.toml"][..], "helm"),
    ] {
        let output = export(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output.stderr));
        assert!(text(&output.stderr).contains(named), "{args:?}: {}", text(&output.stderr));
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}
