//! Stacks given as data: what a stack file holds (`env`, `env_file`, `steps`, `services`) as a
//! [`serde_json::Value`], read by the file's own reader, for callers that receive stacks
//! over an API (the daemon's projects).

use std::path::Path;

use serde::de::DeserializeSeed;

use super::document::DocumentSeed;
use super::file::{FileError, validate};
use super::graph::Pipeline;

/// Reads a stack from JSON: `value` is what a pipeline file holds (an object with `steps`
/// and/or `services` tables, and optionally `env` and `env_file`), with the same keys, values
/// and error messages as [`load`](super::load) gives for a file, only without a path, line
/// and column. `base` plays the file's directory: `env_file`s, relative `dir`s and `log`
/// paths are taken from it, and steps and services without a `dir` run there.
///
/// A `serde_json` object keeps its keys sorted (unless its `preserve_order` feature is on),
/// so steps and services come in name order where a file would keep declaration order;
/// dependencies are ordered by `after` either way.
///
/// ```
/// use serde_json::json;
///
/// let stack = json!({
///     "services": {
///         "db": {"command": "postgres", "ready": {"tcp": "127.0.0.1:5432"}},
///         "web": {"run": "exec ./web", "after": ["db"], "restart": "always"}
///     }
/// });
/// let pipeline = tend::runner::from_json(stack, "/srv/shop".as_ref()).unwrap();
/// assert_eq!(pipeline.services()[1].after, ["db"]);
/// assert_eq!(pipeline.services()[1].dir.as_deref(), Some("/srv/shop".as_ref()));
///
/// let bad = json!({"services": {"web": {"run": "x", "restrat": "always"}}});
/// let err = tend::runner::from_json(bad, "/srv/shop".as_ref()).unwrap_err();
/// assert!(err.to_string().contains("service `web`: unknown key `restrat`"), "{err}");
/// ```
pub fn from_json(value: serde_json::Value, base: &Path) -> Result<Pipeline, FileError> {
    let document = DocumentSeed { base: Some(base) }.deserialize(value).map_err(|error| {
        FileError::Parse { path: None, line: None, column: None, message: error.to_string() }
    })?;
    validate(document)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::{Restart, Signal};

    fn base() -> &'static Path {
        Path::new("/srv/app")
    }

    fn error(value: serde_json::Value) -> String {
        from_json(value, base()).unwrap_err().to_string()
    }

    #[test]
    fn services_and_steps_read_as_from_a_file() {
        let pipeline = from_json(
            json!({
                "env": {"A": "top", "B": 2},
                "steps": {"migrate": {"command": "./migrate", "after": ["db"], "timeout": "5s"}},
                "services": {
                    "db": {"command": "db", "args": ["-p", "1"], "ready": {"tcp": "127.0.0.1:1", "timeout_ms": 500},
                           "stop_signal": "INT", "grace": "2s", "log": "logs/db.log", "log_keep": 2},
                    "web": {"run": "exec web", "after": ["migrate", "db"], "env": {"A": "own"},
                            "restart": "always", "max_restarts": 3, "dir": "web"}
                }
            }),
            base(),
        )
        .unwrap();
        let db = &pipeline.services()[0];
        assert_eq!(db.name, "db");
        assert_eq!(db.stop_signal, Signal::INT);
        assert_eq!(db.grace, Duration::from_secs(2));
        let log = db.log.as_ref().unwrap();
        assert_eq!((log.path.as_path(), log.keep), (Path::new("/srv/app/logs/db.log"), 2));
        assert_eq!(db.env["B"], "2");
        let web = &pipeline.services()[1];
        assert_eq!(web.env["A"], "own");
        assert_eq!(web.dir.as_deref(), Some(Path::new("/srv/app/web")));
        assert_eq!(format!("{:?}", web.restart.policy), format!("{:?}", Restart::always().policy));
        assert_eq!(pipeline.steps()[0].timeout, Some(Duration::from_secs(5)));
        assert_eq!(pipeline.steps()[0].dir.as_deref(), Some(base()));
    }

    #[test]
    fn errors_name_the_service_and_the_key_as_for_a_file() {
        let bad_probe = json!({"services": {"db": {"command": "x", "ready": {"tcp": "a:1", "http": "http://a/"}}}});
        assert!(error(bad_probe).contains("service `db`: `ready`: exactly one of"));
        let bad_signal = json!({"services": {"db": {"command": "x", "stop_signal": "NOPE"}}});
        assert!(error(bad_signal).contains("service `db`"));
        let both = json!({"services": {"db": {"command": "x", "run": "y"}}});
        assert!(error(both).contains("service `db`"));
        let wrong_type = json!({"services": {"db": {"command": "x", "grace": true}}});
        assert!(error(wrong_type).contains("`grace`"));
        let unknown_top = json!({"services": {}, "stepz": {}});
        assert!(error(unknown_top).contains("unknown key `stepz`"));
        let nothing = json!({});
        assert!(error(nothing).contains("no steps or services"));
    }

    #[test]
    fn the_graph_is_checked() {
        let unknown = json!({"services": {"web": {"run": "x", "after": ["db"]}}});
        assert!(error(unknown.clone()).contains("`db`"), "{}", error(unknown));
        let cycle = json!({"services": {"a": {"run": "x", "after": ["b"]}, "b": {"run": "x", "after": ["a"]}}});
        assert!(error(cycle).contains("cycle"));
        let twice = json!({"steps": {"a": {"run": "x"}}, "services": {"a": {"run": "x"}}});
        assert!(error(twice).contains("`a`"));
    }

    #[test]
    fn env_files_are_read_from_the_base() {
        let dir = std::env::temp_dir().join(format!("tend-json-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("app.env"), "FROM_FILE=1\n").unwrap();
        let pipeline =
            from_json(json!({"env_file": "app.env", "services": {"a": {"run": "x"}}}), &dir)
                .unwrap();
        assert_eq!(pipeline.services()[0].env["FROM_FILE"], "1");
        let missing =
            from_json(json!({"env_file": "nope.env", "services": {"a": {"run": "x"}}}), &dir);
        assert!(missing.unwrap_err().to_string().contains("nope.env"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
