//! `tend export`'s output checked by the real tools (issue 16): `systemd-analyze verify` on
//! the units (Debian's `systemd`, installed by `scripts/test.sh`), `kubernetes-validate` on
//! the manifests (from `target/py-venv`, made by `scripts/py-venv.sh`, which `scripts/test.sh`
//! runs), and the Nomad job against the structure of Nomad's JSON job specification. Each
//! fails, never skips, without its tool.
//!
//! Arguments survive the systemd export byte for byte: program paths holding spaces, `%`,
//! `$` and non-ASCII are found by systemd's own parser (a file exists under that exact name
//! only), and every argument is read back by [`systemd_words`], a parser written after
//! systemd's rules (specifiers, quoting, C escapes, `$` variables).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::cli_export::{export, export_files, text};

/// `systemd-analyze verify FILES…`, reading nothing but them.
fn verify(files: &[PathBuf]) -> Output {
    Command::new("systemd-analyze")
        .arg("verify")
        .args(files)
        .env("SYSTEMD_LOG_LEVEL", "notice")
        .output()
        .expect("systemd-analyze is not installed: scripts/test.sh installs Debian's `systemd`")
}

/// systemd before 254 does not know the backoff keys (`RestartSteps=`,
/// `RestartMaxDelaySec=`) and says so; anything else it says is a failure.
fn complaints(output: &Output) -> Vec<String> {
    text(&output.stderr)
        .lines()
        .filter(|line| !line.contains("Unknown key 'RestartSteps'"))
        .filter(|line| !line.contains("Unknown key 'RestartMaxDelaySec'"))
        .map(str::to_owned)
        .collect()
}

/// The exported units of `file` written into `dir` by `-o`, with the real `tend` probing.
fn units(file: &str, project: &str, dir: &Path) -> Vec<PathBuf> {
    let output = export(&["systemd", file, "-p", project, "-o", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().path()).collect();
    files.sort();
    files
}

#[test]
fn systemd_analyze_verify_accepts_every_unit() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = units("full.toml", "shop", dir.path());
    files.extend(units("escaping.toml", "odd", dir.path()));
    let verified = verify(&files);
    let complaints = complaints(&verified);
    assert!(verified.status.success() && complaints.is_empty(), "{complaints:#?}");
}

#[test]
fn program_paths_with_spaces_percent_dollar_and_non_ascii_reach_systemd_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let programs = dir.path().join("programs");
    std::fs::create_dir(&programs).unwrap();
    let names =
        ["two words", "100% %n %%", "a$b ${c} $$", "héllo ☃ 日本", "q'uo\"te\\", "new\nline"];
    let mut stack = String::new();
    for (i, name) in names.iter().enumerate() {
        let path = programs.join(name);
        std::fs::write(&path, "#!/bin/sh\n").unwrap();
        let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        std::fs::set_permissions(&path, mode).unwrap();
        stack.push_str(&format!("[services.p{i}]\ncommand = {}\n", json!(path.to_str().unwrap())));
    }
    let file = dir.path().join("tend.toml");
    std::fs::write(&file, stack).unwrap();
    let out = dir.path().join("units");
    let files = units(file.to_str().unwrap(), "paths", &out);
    let verified = verify(&files);
    let complaints = complaints(&verified);
    assert!(verified.status.success() && complaints.is_empty(), "{complaints:#?}");

    // The check can fail: the same path unescaped is not found (or not even read).
    let naive = out.join("naive.service");
    let path = programs.join(names[1]);
    std::fs::write(&naive, format!("[Service]\nExecStart=\"{}\"\n", path.display())).unwrap();
    let refused = verify(&[naive]);
    assert!(!refused.status.success(), "{}", text(&refused.stderr));
}

#[test]
fn every_argument_and_variable_reads_back_exactly() {
    let output = export(&["systemd", "escaping.toml", "-p", "odd"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let unit = text(&output.stdout);
    let line = |key: &str| {
        let prefix = format!("{key}=");
        unit.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("{key} in {unit}"))
    };
    let argv = systemd_words(line("ExecStart"), true);
    let stack: toml_edit_free::Stack = toml_edit_free::read(&export_files().join("escaping.toml"));
    let mut expected = vec![stack.command];
    expected.extend(stack.args);
    assert_eq!(argv, expected);
    let environment = systemd_words(line("Environment"), false);
    assert_eq!(environment, [format!("ODD={}", stack.odd)]);
}

/// The `[services.echo]` of `escaping.toml`, read with serde_json from `tend export`'s own
/// Nomad job (the same loader), so this test does not depend on a TOML parser.
mod toml_edit_free {
    use std::path::Path;

    pub(super) struct Stack {
        pub(super) command: String,
        pub(super) args: Vec<String>,
        pub(super) odd: String,
    }

    pub(super) fn read(file: &Path) -> Stack {
        let output = super::export(&["nomad", file.to_str().unwrap(), "-p", "odd"]);
        let job: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let task = &job["Job"]["TaskGroups"][0]["Tasks"][0];
        // `sh -c 'cd DIR && exec "$@"' tend-cd DIR PROGRAM ARGS…`
        let words: Vec<String> = serde_json::from_value(task["Config"]["args"].clone()).unwrap();
        Stack {
            command: words[4].clone(),
            args: words[5..].to_vec(),
            odd: task["Env"]["ODD"].as_str().unwrap().to_owned(),
        }
    }
}

/// An `ExecStart=` (`command`) or `Environment=` value as systemd reads it: `%%` is `%` (no
/// other specifier is expected here), words are split at unquoted blanks with quotes removed
/// and C escapes decoded; in a command, `$$` is `$` in the arguments (a `${…}` or a whole
/// `$NAME` word would be replaced by a variable: the test fails on one).
pub(crate) fn systemd_words(value: &str, command: bool) -> Vec<String> {
    let mut resolved = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            assert_eq!(chars.next(), Some('%'), "an unescaped specifier in {value}");
        }
        resolved.push(c);
    }
    let mut words = Vec::new();
    let mut chars = resolved.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            break;
        }
        let mut word = String::new();
        let mut quote = None;
        while let Some(c) = chars.next() {
            match (c, quote) {
                ('\\', _) => word.push(c_escape(&mut chars)),
                ('"' | '\'', None) => quote = Some(c),
                (c, Some(open)) if c == open => quote = None,
                (c, None) if c.is_whitespace() => break,
                (c, _) => word.push(c),
            }
        }
        assert!(quote.is_none(), "unbalanced quotes in {value}");
        words.push(word);
    }
    if command {
        for word in &mut words[1..] {
            let whole_variable = word.strip_prefix('$').is_some_and(|name| {
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
            assert!(!whole_variable, "{word:?} would be replaced by a variable");
            *word = without_dollar_escapes(word);
        }
    }
    words
}

/// `word` with `$$` read as `$`, left to right as systemd reads it; a `${` that is not
/// after such a pair would be a variable and fails the test.
fn without_dollar_escapes(word: &str) -> String {
    let mut out = String::new();
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' {
            assert_ne!(chars.peek(), Some(&'{'), "{word:?} would have a variable replaced");
            if chars.peek() == Some(&'$') {
                chars.next();
            }
        }
        out.push(c);
    }
    out
}

/// The character a C escape after `\` stands for, as systemd's `cunescape_one` reads it.
fn c_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> char {
    let c = chars.next().expect("a backslash at the end");
    match c {
        'a' => '\u{7}',
        'b' => '\u{8}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\u{b}',
        's' => ' ',
        '\\' | '"' | '\'' => c,
        'x' => {
            let hex: String = [chars.next().unwrap(), chars.next().unwrap()].iter().collect();
            char::from(u8::from_str_radix(&hex, 16).expect("two hex digits"))
        }
        other => panic!("systemd does not know the escape \\{other}"),
    }
}

/// `kubernetes-validate`, from the venv `scripts/py-venv.sh` makes.
fn kubernetes_validate() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/py-venv/bin");
    let tool = venv.join("kubernetes-validate");
    assert!(
        tool.exists(),
        "{} is missing: run scripts/py-venv.sh (scripts/test.sh does)",
        tool.display()
    );
    tool
}

#[test]
fn kubernetes_validate_accepts_the_manifests_strictly() {
    let dir = tempfile::tempdir().unwrap();
    for file in ["full.toml", "small.toml", "escaping.toml"] {
        let out = dir.path().join(file);
        let output = export(&[
            "kubernetes",
            file,
            "-p",
            "shop",
            "--image",
            "x:1",
            "--namespace",
            "ns",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let manifest = out.join("shop.yaml");
        let validated = Command::new(kubernetes_validate())
            .arg("--strict")
            .arg(&manifest)
            .output()
            .expect("run kubernetes-validate");
        let said = format!("{}{}", text(&validated.stdout), text(&validated.stderr));
        assert!(validated.status.success(), "{file}: {said}");
        let passed = said.lines().filter(|line| line.contains("passed")).count();
        let documents = std::fs::read_to_string(&manifest).unwrap().matches("---\n").count();
        assert_eq!(passed, documents, "{file}: {said}");
        assert!(!said.contains("WARN") && !said.contains("ERROR"), "{file}: {said}");
    }
}

#[test]
fn the_nomad_job_has_the_job_specifications_structure() {
    for file in ["full.toml", "small.toml", "escaping.toml"] {
        let output = export(&["nomad", file, "-p", "shop", "--namespace", "ns"]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let job: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        let mut errors = Vec::new();
        conforms(&job, &crate::export_nomad_schema::job(), "", &mut errors);
        assert!(errors.is_empty(), "{file}: {errors:#?}");
    }
    // The check can fail.
    let mut errors = Vec::new();
    let wrong = json!({"Job": {"ID": "x", "Name": "x", "Type": "service", "TaskGroups": [{"Name": "g", "Count": "1", "Tasks": [{"Name": "t", "Driver": "raw_exec", "Comand": "x"}]}]}});
    conforms(&wrong, &crate::export_nomad_schema::job(), "", &mut errors);
    assert_eq!(errors.len(), 2, "{errors:#?}");
}

/// Checks `value` against `schema`: an object schema lists every field allowed (with `!` in
/// front of a required one's name); `"string"`, `"int"`, `"bool"` are scalars; `["…"]` a list
/// of that; `{"*": …}` a map with any keys.
fn conforms(value: &Value, schema: &Value, at: &str, errors: &mut Vec<String>) {
    match schema {
        Value::String(kind) => {
            let ok = match kind.as_str() {
                "string" => value.is_string(),
                "int" => value.is_u64() || value.is_i64(),
                "bool" => value.is_boolean(),
                other => panic!("unknown kind {other}"),
            };
            if !ok {
                errors.push(format!("{at}: {value} is not a {kind}"));
            }
        }
        Value::Array(item) => match value.as_array() {
            Some(items) => {
                for (i, entry) in items.iter().enumerate() {
                    conforms(entry, &item[0], &format!("{at}[{i}]"), errors);
                }
            }
            None => errors.push(format!("{at}: {value} is not a list")),
        },
        Value::Object(fields) => {
            let Some(object) = value.as_object() else {
                errors.push(format!("{at}: {value} is not an object"));
                return;
            };
            if let Some(any) = fields.get("*") {
                for (key, entry) in object {
                    conforms(entry, any, &format!("{at}.{key}"), errors);
                }
                return;
            }
            for (name, field) in fields {
                let (name, required) = match name.strip_prefix('!') {
                    Some(name) => (name, true),
                    None => (name.as_str(), false),
                };
                match object.get(name) {
                    Some(entry) => conforms(entry, field, &format!("{at}.{name}"), errors),
                    None if required => errors.push(format!("{at}: `{name}` is missing")),
                    None => {}
                }
            }
            for key in object.keys() {
                if !fields.contains_key(key) && !fields.contains_key(&format!("!{key}")) {
                    errors.push(format!("{at}: `{key}` is not a field of the job specification"));
                }
            }
        }
        other => panic!("bad schema {other}"),
    }
}
