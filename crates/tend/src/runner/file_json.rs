//! A pipeline file's keys as JSON: what a client sends a daemon to run the file there
//! (`tend up -d`, the daemon's `ProjectRequest`).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::file::{FileError, is_procfile, load, read_bounded, toml_document, validate};
use super::graph::Pipeline;

/// Loads the pipeline file at `path` as [`load`] does (so an invalid file is refused with the
/// same error, naming the step or service, the key and the line), and returns it with the
/// file's top-level keys as JSON: `steps`, `services`, `env` and `env_file` with the file's
/// own values (relative paths left as written, `env_file`s not read into them). A
/// [Procfile](is_procfile) becomes `{"services": {NAME: {"run": COMMAND, "env": {…}}}}`, each
/// `env` holding the variables of the `.env` beside it and the process's `PORT`, as [`load`]
/// gives them; the restart policy is left to the reader.
///
/// ```no_run
/// let (pipeline, keys) = tend::runner::load_json("tend.toml")?;
/// println!("{} services: {:?}", pipeline.services().len(), keys.get("services"));
/// # Ok::<(), tend::runner::FileError>(())
/// ```
pub fn load_json(path: impl AsRef<Path>) -> Result<(Pipeline, Map<String, Value>), FileError> {
    let path = path.as_ref();
    let pipeline = load(path)?;
    let text = read_bounded(path)?;
    let parse_error = |message: String| FileError::Parse {
        path: Some(path.to_owned()),
        line: None,
        column: None,
        message,
    };
    let keys = if is_procfile(path) {
        let base = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
            _ => PathBuf::from("."),
        };
        super::procfile::keys(path, &text, &base)?
    } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
        yaml_keys(path, &text)?
    } else {
        toml::from_str::<Map<String, Value>>(&text).map_err(|e| parse_error(e.to_string()))?
    };
    Ok((pipeline, keys))
}

/// [`load_json`] for the text of a TOML file named `name` in `dir`, not read from disk (the
/// web UI sends a pasted `tend.toml`): checked as [`load`] checks a file there (`env_file`s
/// relative to `dir` are read), errors naming `name`, the line and the column.
///
/// ```
/// use std::path::Path;
///
/// let text = "[services.web]\nrun = \"sleep 60\"\n";
/// let (pipeline, keys) = tend::runner::toml_json(text, "tend.toml", Path::new("/")).unwrap();
/// assert_eq!(pipeline.services()[0].name, "web");
/// assert_eq!(keys["services"]["web"]["run"], "sleep 60");
///
/// let error = tend::runner::toml_json("[services.web]\nrn = 1\n", "tend.toml", Path::new("/"));
/// assert!(error.unwrap_err().to_string().starts_with("tend.toml:2:1: service `web`"));
/// ```
pub fn toml_json(
    text: &str,
    name: &str,
    dir: &Path,
) -> Result<(Pipeline, Map<String, Value>), FileError> {
    let named = |error: FileError| error.in_file(Path::new(name));
    let pipeline = toml_document(text, Some(dir)).and_then(validate).map_err(named)?;
    // The text parsed as a document above, so it parses as a table.
    let keys = toml::from_str::<Map<String, Value>>(text).map_err(|e| {
        named(FileError::Parse { path: None, line: None, column: None, message: e.to_string() })
    })?;
    Ok((pipeline, keys))
}

#[cfg(feature = "yaml_serde")]
fn yaml_keys(path: &Path, text: &str) -> Result<Map<String, Value>, FileError> {
    // An empty YAML document is null: a file with nothing in it.
    let value: Option<Map<String, Value>> =
        yaml_serde::from_str(text).map_err(|e| FileError::Parse {
            path: Some(path.to_owned()),
            line: None,
            column: None,
            message: e.to_string(),
        })?;
    Ok(value.unwrap_or_default())
}

#[cfg(not(feature = "yaml_serde"))]
fn yaml_keys(path: &Path, _text: &str) -> Result<Map<String, Value>, FileError> {
    Err(FileError::YamlUnsupported { path: path.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tend-json-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (file, text) in files {
            std::fs::write(dir.join(file), text).unwrap();
        }
        dir
    }

    #[test]
    fn a_toml_file_keeps_its_keys_as_written() {
        let dir = scratch(
            "toml",
            &[(
                "tend.toml",
                "env = { A = 1 }\n[services.web]\nrun = \"sleep 9\"\nlog = \"web.log\"\n\
                 ready = { tcp = \"127.0.0.1:1\", timeout = \"2s\" }\n",
            )],
        );
        let (pipeline, keys) = load_json(dir.join("tend.toml")).unwrap();
        assert_eq!(pipeline.services().len(), 1);
        let expected = serde_json::json!({
            "env": {"A": 1},
            "services": {"web": {"run": "sleep 9", "log": "web.log",
                                 "ready": {"tcp": "127.0.0.1:1", "timeout": "2s"}}}
        });
        assert_eq!(Value::Object(keys), expected);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_procfile_becomes_services_with_run_and_port() {
        let dir =
            scratch("procfile", &[("Procfile", "web: exec web\nworker: ./w\n"), (".env", "X=1\n")]);
        let (_, keys) = load_json(dir.join("Procfile")).unwrap();
        let expected = serde_json::json!({"services": {
            "web": {"run": "exec web", "env": {"PORT": "5000", "X": "1"}},
            "worker": {"run": "./w", "env": {"PORT": "5100", "X": "1"}},
        }});
        assert_eq!(Value::Object(keys), expected);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn an_invalid_file_is_refused_as_load_refuses_it() {
        let dir = scratch("bad", &[("tend.toml", "[services.web]\nrn = \"x\"\n")]);
        let error = load_json(dir.join("tend.toml")).unwrap_err().to_string();
        assert!(error.contains("unknown key `rn`"), "{error}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
