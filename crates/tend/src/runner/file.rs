//! Pipeline files: TOML, or YAML with the `yaml_serde` feature, with one table per step and
//! per service; and Procfiles.
//!
//! ```toml
//! env_file = [".env"]          # dotenv files for every step and service, relative to this file
//! env = { RUST_LOG = "info" }  # variables for every step and service
//!
//! [steps.build]
//! command = "cargo"
//! args = ["build", "--release"]
//!
//! [steps.test]
//! run = "cargo test --workspace 2>&1 | tail -n 30"
//! after = ["build"]
//! env = { RUST_BACKTRACE = "1" }
//! timeout = "10m"
//! retries = 1
//! retry_delay = "5s"
//!
//! [steps.docs]
//! run = "cargo doc --no-deps"
//! after = ["build"]
//! allow_failure = true
//!
//! [services.db]
//! command = "postgres"
//! args = ["-D", "data"]
//! ready = { tcp = "127.0.0.1:5432", timeout = "30s" }
//! stop_signal = "INT"
//! log = "logs/db.log"
//! log_max_size = "10MiB"
//! log_keep = 5
//!
//! [services.web]
//! run = "exec ./target/release/web"
//! after = ["build", "db"]       # a step that passed, a service that is ready
//! ready = { http = "http://127.0.0.1:8080/health", interval = "100ms" }
//! alive = { http = "http://127.0.0.1:8080/health", interval = "5s", failures = 3 }
//! restart = "always"
//! max_restarts = 10
//! restart_delay = "500ms"
//! restart_max_delay = "30s"
//! grace = "20s"
//! ```
//!
//! # Steps
//!
//! Keys of a step: `command` + `args` (a program, no shell) or `run` (a bash script), `dir`,
//! `env` (a table; numbers and booleans are taken as text), `env_file` (a path or a list of
//! paths of [dotenv](crate::dotenv) files), `after`, `allow_failure`,
//! `timeout`, `grace`, `retry_delay` (humantime strings such as `500ms`, `2s`, `1m30s`) and
//! `retries`. Steps keep their declaration order.
//!
//! # Services
//!
//! A service is a long-running process ([`ServiceSpec`](super::ServiceSpec)). Keys of a
//! `[services.NAME]` table:
//!
//! | key | value | default |
//! | --- | --- | --- |
//! | `command` + `args`, or `run` | a program and its arguments, or a bash script | required |
//! | `dir`, `env`, `env_file` | as for a step | the file's directory; none |
//! | `after` | names of steps (passed, or failed with `allow_failure`) and services (ready) | none |
//! | `ready` | a table: exactly one of `tcp = "HOST:PORT"`, `http = "URL"`, `exec = "COMMAND"`, `log = "REGEX"`; `interval`, `timeout`, `initial_delay` | ready once started; `250ms`, `60s`, `0s` |
//! | `alive` | a table: exactly one of `tcp`, `http`, `exec`; `interval`, `failures` | none; `10s`, `3` |
//! | `restart` | `always`, `on_failure` or `never` | `on_failure` |
//! | `max_restarts` | a number, or `"unlimited"` | unlimited |
//! | `restart_delay`, `restart_max_delay` | the first delay and the cap of the exponential backoff | `100ms`, `30s` |
//! | `stop_signal` | a name (`TERM`, `SIGINT`) or a number | `TERM` |
//! | `grace` | time between the stop signal and SIGKILL of the process group | `10s` |
//! | `log` | a file both output streams are appended to, relative to this file | none |
//! | `log_max_size`, `log_keep` | rotate before the file passes this size (`512KiB`, `10MiB`, `1GiB`); rotated files kept | `10MiB`, `5` |
//!
//! An `exec` probe runs in the service's directory and environment. `log_max_size` and
//! `log_keep` need `log`; `alive` refuses `log` (a line that matched once matches for ever).
//! See [`crate::probe`] for what each probe kind checks.
//!
//! # Both
//!
//! Every duration (`timeout`, `grace`, `retry_delay`, `restart_delay`, `restart_max_delay`,
//! and `interval`, `timeout`, `initial_delay` in `ready`/`alive`) is a humantime string, or a
//! number of milliseconds under `KEY_ms` (never both). Unknown keys, a step or service with
//! both or neither of `command` and `run`, a `ready` or `alive` with zero or two probe kinds,
//! an invalid regex, URL, address, size, signal or restart policy, and values of the wrong
//! kind are errors naming the step or service, the key and the line:
//! `` tend.toml:7:9: service `db`: `ready`: exactly one of tcp, http, exec, log is needed, found tcp and http ``.
//! So are a NUL byte in any string, and an `env` name that is empty or holds `=` (the same
//! words as [`StartOptions::check`](crate::StartOptions::check)). Names are unique across
//! steps and services, and checked as one graph by
//! [`Pipeline::with_services`](super::Pipeline::with_services).
//!
//! Top-level keys beside `steps` and `services`: `env` and `env_file`, for every step and
//! service. A step's or service's environment is, lowest first: the top-level `env_file`s in
//! list order, the top-level `env`, its own `env_file`s in list order, its `env`. Env files
//! are read by [`load`], relative to the pipeline file's directory (following a symlink, as
//! the pipeline file itself is read), bounded like it; a missing or malformed one is an error
//! naming the line of the `env_file` key, the step, the env file and its line:
//! `` tend.toml:3:12: step `web`: `env_file`: ./web.env:4: expected KEY=VALUE, found `B` ``.
//! [`parse_toml`] and [`parse_yaml`] have no directory, and refuse `env_file`.
//!
//! A `timeout` of zero means no timeout; a duration of [`FOREVER`](crate::FOREVER) (100 years)
//! or more never ends (no timeout, no SIGKILL after `grace`, no retry). A file larger than
//! [`MAX_FILE_SIZE`] (16 MiB) is refused before it is parsed.
//!
//! # Procfiles
//!
//! A file named `Procfile` or `Procfile.*` ([`is_procfile`]) is read as foreman and honcho
//! read one: each `NAME: COMMAND` line is a service running `COMMAND` with bash in the
//! Procfile's directory, with restart `never`. Names hold ASCII letters, digits, `_` and `-`;
//! lines starting with `#` and blank lines are skipped. A `.env` file beside the Procfile, when
//! there is one, gives every process its variables ([`crate::dotenv`] syntax), and each
//! process gets `PORT` = 5000 + 100 × its index (from 0) unless `.env` sets `PORT`. A line
//! without a colon, an empty or bad name, an empty command and a name given twice are errors
//! naming the file and the line: `` Procfile:3: expected `NAME: COMMAND`, found `worker` ``.
//!
//! ```text
//! # Procfile
//! web: exec python3 -m http.server $PORT
//! worker: exec ./worker --queue default
//! ```

use std::path::{Path, PathBuf};

use serde::de::DeserializeSeed;

use super::document::{Document, DocumentSeed};
use super::env_file::EnvFileBase;
use super::graph::{Pipeline, PipelineError};

/// The largest pipeline file [`load`] reads: 16 MiB. A larger one is refused before parsing.
pub const MAX_FILE_SIZE: u64 = 16 << 20;

/// Why a pipeline file could not be loaded. Displays as `PATH:LINE:COLUMN: message`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The file could not be read.
    #[error("cannot read `{}`: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_FILE_SIZE`]; it was not parsed.
    #[error("`{}` is larger than {} MiB; a pipeline file must not be", .path.display(), MAX_FILE_SIZE >> 20)]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// The text is not a valid pipeline file: bad syntax, an unknown key, a value of the
    /// wrong kind, a step or service with both or neither of `command` and `run`, a
    /// malformed Procfile line.
    #[error("{}{message}", location(.path.as_deref(), *.line, *.column))]
    Parse {
        /// The file, when parsed from one.
        path: Option<PathBuf>,
        /// Line of the offending key or value, from 1.
        line: Option<usize>,
        /// Column, from 1.
        column: Option<usize>,
        /// What is wrong, naming the step and key.
        message: String,
    },
    /// The steps and services do not form a valid pipeline (see [`PipelineError`]).
    #[error("{}{source}", location(.path.as_deref(), None, None))]
    Invalid {
        /// The file, when parsed from one.
        path: Option<PathBuf>,
        /// What is wrong.
        #[source]
        source: PipelineError,
    },
    /// A YAML file, and YAML support was not compiled in.
    #[error("`{}` is YAML, and this build has no YAML support (cargo feature `yaml_serde`)", .path.display())]
    YamlUnsupported {
        /// The file.
        path: PathBuf,
    },
}

fn location(path: Option<&Path>, line: Option<usize>, column: Option<usize>) -> String {
    let mut out = path.map(|p| p.display().to_string()).unwrap_or_default();
    if let Some(line) = line {
        out.push_str(&format!(":{line}"));
        if let Some(column) = column {
            out.push_str(&format!(":{column}"));
        }
    }
    if !out.is_empty() {
        out.push_str(": ");
    }
    out
}

impl FileError {
    pub(super) fn in_file(mut self, file: &Path) -> Self {
        match &mut self {
            FileError::Parse { path, .. } | FileError::Invalid { path, .. } => {
                *path = Some(file.to_owned());
            }
            FileError::Read { .. }
            | FileError::TooLarge { .. }
            | FileError::YamlUnsupported { .. } => {}
        }
        self
    }

    /// The line the error points at, from 1, when it points at one.
    pub fn line(&self) -> Option<usize> {
        match self {
            FileError::Parse { line, .. } => *line,
            _ => None,
        }
    }
}

/// Reads, parses and validates a pipeline file: a [Procfile](is_procfile) when its name is
/// `Procfile` or `Procfile.*`, YAML when it ends in `.yaml` or `.yml`, TOML otherwise.
///
/// Relative `dir`s and `log` paths are taken from the file's directory, and steps and
/// services without a `dir` run there, so a pipeline behaves the same from wherever it is
/// started. The keys of a step, a service and its `ready` and `alive` tables are
/// [`STEP_KEYS`](super::STEP_KEYS), [`SERVICE_KEYS`](super::SERVICE_KEYS),
/// [`READY_KEYS`](super::READY_KEYS) and [`ALIVE_KEYS`](super::ALIVE_KEYS); see
/// [`parse_toml`] for an example.
///
/// ```no_run
/// let pipeline = tend::runner::load("tend.toml")?;
/// println!("{} steps, {} services", pipeline.len(), pipeline.services().len());
/// # Ok::<(), tend::runner::FileError>(())
/// ```
pub fn load(path: impl AsRef<Path>) -> Result<Pipeline, FileError> {
    let path = path.as_ref();
    let text = read_bounded(path)?;
    let base = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    if is_procfile(path) {
        return super::procfile::parse(path, &text, &base);
    }
    let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
    let document =
        if yaml { parse_yaml_file(path, &text, &base) } else { toml_document(&text, Some(&base)) };
    let document = document.map_err(|e| e.in_file(path))?;
    validate(document).map_err(|e| e.in_file(path))
}

/// Whether `path` names a Procfile: its file name is `Procfile` or starts with `Procfile.`
/// (`Procfile.dev`), whatever it ends in.
///
/// [`load`] reads one as foreman and honcho do: each `NAME: COMMAND` line is a service
/// running `COMMAND` with bash in the Procfile's directory, restart `never`; names hold ASCII
/// letters, digits, `_` and `-`; `#` comment lines and blank lines are skipped. A `.env` beside
/// the Procfile, when there is one, gives every process its variables, and each process gets
/// `PORT` = [`PROCFILE_BASE_PORT`](super::PROCFILE_BASE_PORT) (5000) + 100 × its index (from 0)
/// unless `.env` sets `PORT`. A malformed line is a [`FileError`] naming the file and the
/// line: `` Procfile:3: expected `NAME: COMMAND`, found `worker` ``.
///
/// ```
/// use tend::runner::is_procfile;
///
/// assert!(is_procfile("app/Procfile") && is_procfile("Procfile.dev"));
/// assert!(!is_procfile("tend.toml") && !is_procfile("Procfiles") && !is_procfile("Procfile/x"));
/// ```
pub fn is_procfile(path: impl AsRef<Path>) -> bool {
    path.as_ref()
        .file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name == "Procfile" || name.starts_with("Procfile."))
}

/// The document's steps and services checked as one graph.
pub(super) fn validate(document: Document) -> Result<Pipeline, FileError> {
    let pipeline = Pipeline::with_services(document.steps, document.services)
        .map_err(|source| FileError::Invalid { path: None, source })?;
    Ok(if document.services_first { pipeline.declared_services_first() } else { pipeline })
}

/// Reads the file as text, refusing it once more than [`MAX_FILE_SIZE`] bytes have come: its
/// size on disk is not trusted (`/dev/zero`, a pipe or a growing file have none that counts).
pub(super) fn read_bounded(path: &Path) -> Result<String, FileError> {
    use crate::dotenv::{BoundedReadError, read_text_bounded};
    read_text_bounded(path, MAX_FILE_SIZE).map_err(|error| match error {
        BoundedReadError::TooLarge => FileError::TooLarge { path: path.to_owned() },
        BoundedReadError::Io(source) => FileError::Read { path: path.to_owned(), source },
    })
}

#[cfg(feature = "yaml_serde")]
fn parse_yaml_file(_path: &Path, text: &str, base: &Path) -> Result<Document, FileError> {
    yaml_document(text, Some(base))
}

#[cfg(not(feature = "yaml_serde"))]
fn parse_yaml_file(path: &Path, _text: &str, _base: &Path) -> Result<Document, FileError> {
    Err(FileError::YamlUnsupported { path: path.to_owned() })
}

/// Parses and validates a TOML pipeline file: its steps and services in declaration order,
/// `dir`s and `log` paths kept as written. A top-level `env` is merged into each step's and
/// service's; `env_file` is refused, as there is no file for its paths to be relative to: use
/// [`load`].
///
/// ```
/// let pipeline = tend::runner::parse_toml(r#"
///     [steps.hello]
///     run = "echo hello"
///
///     [services.web]
///     run = "exec python3 -m http.server 8000"
///     ready = { http = "http://127.0.0.1:8000/" }
///     after = ["hello"]
/// "#).unwrap();
/// assert_eq!(pipeline.steps()[0].name, "hello");
/// assert_eq!(pipeline.services()[0].after, ["hello"]);
///
/// let err = tend::runner::parse_toml("[steps.hello]\ncomand = \"echo\"\n").unwrap_err();
/// assert_eq!(err.line(), Some(2));
/// assert!(err.to_string().contains("step `hello`: unknown key `comand`"));
/// ```
pub fn parse_toml(text: &str) -> Result<Pipeline, FileError> {
    toml_document(text, None).and_then(validate)
}

/// [`parse_toml`] before validation, with `env_file`, `dir` and `log` paths taken from `base`.
pub(super) fn toml_document(text: &str, base: EnvFileBase<'_>) -> Result<Document, FileError> {
    let document = toml::Deserializer::parse(text)
        .and_then(|deserializer| DocumentSeed { base }.deserialize(deserializer));
    document.map_err(|error| {
        let (line, column) = match error.span() {
            Some(span) => {
                let (line, column) = line_and_column(text, span.start);
                (Some(line), Some(column))
            }
            None => (None, None),
        };
        FileError::Parse { path: None, line, column, message: error.message().trim().to_owned() }
    })
}

/// Parses and validates a YAML pipeline file (same schema as TOML: `steps` and `services`
/// mappings of name to settings), as [`parse_toml`] does.
///
/// ```
/// let pipeline = tend::runner::parse_yaml("steps:\n  hello:\n    run: echo hello\n").unwrap();
/// assert_eq!(pipeline.steps()[0].name, "hello");
/// ```
#[cfg(feature = "yaml_serde")]
pub fn parse_yaml(text: &str) -> Result<Pipeline, FileError> {
    yaml_document(text, None).and_then(validate)
}

/// [`parse_yaml`] before validation, with `env_file`, `dir` and `log` paths taken from `base`.
#[cfg(feature = "yaml_serde")]
fn yaml_document(text: &str, base: EnvFileBase<'_>) -> Result<Document, FileError> {
    let document = DocumentSeed { base }.deserialize(yaml_serde::Deserializer::from_str(text));
    document.map_err(|error| {
        let location = error.location();
        let mut message = error.to_string();
        if let Some(at) = &location {
            // The location is kept apart; take it off the end of the message.
            let suffix = format!(" at line {} column {}", at.line(), at.column());
            if let Some(stripped) = message.strip_suffix(&suffix) {
                message = stripped.to_owned();
            }
        }
        // yaml_serde puts the path of the value first (`steps.a.timeout: …`); our messages
        // name the step or service and key themselves.
        if let Some((path, rest)) = message.split_once(": ")
            && (path.starts_with("steps") || path.starts_with("services"))
            && !path.contains(' ')
        {
            message = rest.to_owned();
        }
        FileError::Parse {
            path: None,
            line: location.as_ref().map(|l| l.line()),
            column: location.as_ref().map(|l| l.column()),
            message,
        }
    })
}

/// Line and column (both from 1, the column in characters) of byte offset `at`.
fn line_and_column(text: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}
