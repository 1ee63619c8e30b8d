//! `tend import FILE [-o tend.toml]`: a process-compose.yaml, supervisord.conf or PM2
//! ecosystem file (JSON, or a `.js` file that is a plain `module.exports = {…}` literal) as a
//! commented tend.toml, on stdout or into a file.
//!
//! Every source key without an equivalent is named on stderr (`FILE:LINE: `key`: why`) and
//! kept as a `# unmapped:` comment where it stood. A file that is not valid in its own format
//! exits 2 naming its line; so does one whose import `tend up` would refuse (checked with the
//! same loader before anything is written).

mod ini;
mod js_object;
mod model;
mod node;
mod pm2;
#[cfg(feature = "yaml")]
mod process_compose;
#[cfg(feature = "yaml")]
mod process_compose_probe;
mod supervisord;
mod toml_out;
mod words;
#[cfg(feature = "yaml")]
mod yaml_tree;

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};

use self::model::{Imported, Unmapped};
use self::node::Source;
use crate::UsageError;

/// The largest file imported (the same bound as a pipeline file).
const MAX_SIZE: u64 = tend::runner::MAX_FILE_SIZE;

/// Arguments of `tend import`.
#[derive(Debug, Args)]
#[command(after_help = "Formats: process-compose.yaml (.yaml/.yml), supervisord.conf \
    (.conf/.ini), PM2 ecosystem files (.json, or .js/.cjs holding a plain `module.exports = \
    {…}`). Keys with no tend.toml equivalent are listed on stderr and as comments.")]
pub(crate) struct ImportArgs {
    /// The file to import.
    file: PathBuf,
    /// Write the tend.toml here instead of stdout (refused when it exists, unless --force).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Overwrite the -o file when it exists.
    #[arg(long, requires = "output")]
    force: bool,
    /// The format, when the file name does not tell it.
    #[arg(long, value_enum)]
    from: Option<Format>,
}

/// The formats `tend import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    ProcessCompose,
    Supervisord,
    Pm2,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::ProcessCompose => "process-compose",
            Format::Supervisord => "supervisord",
            Format::Pm2 => "PM2 ecosystem",
        }
    }

    /// The format a file name tells.
    fn of(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let extension = name.rsplit_once('.').map(|(_, ext)| ext)?;
        match extension {
            "yaml" | "yml" => Some(Format::ProcessCompose),
            "conf" | "ini" => Some(Format::Supervisord),
            "json" | "js" | "cjs" => Some(Format::Pm2),
            _ => None,
        }
    }
}

pub(crate) fn run(args: ImportArgs) -> anyhow::Result<i32> {
    let shown = args.file.display().to_string();
    let Some(format) = args.from.or_else(|| Format::of(&args.file)) else {
        return Err(UsageError(format!(
            "cannot tell the format of `{shown}` from its name (.yaml/.yml, .conf/.ini, \
             .json/.js/.cjs); name it with --from process-compose|supervisord|pm2"
        ))
        .into());
    };
    let text = read(&args.file)?;
    let imported = convert(format, &args.file, &shown, &text)?;
    let toml = toml_out::write(&imported, &shown, format.name());
    if let Err(error) = tend::runner::parse_toml(&toml) {
        return Err(UsageError(format!(
            "{shown}: the imported tend.toml would be refused by `tend up` (line numbers are \
             the output's): {error}"
        ))
        .into());
    }
    let mut unmapped: Vec<&Unmapped> =
        imported.unmapped.iter().chain(imported.items.iter().flat_map(|i| &i.unmapped)).collect();
    unmapped.sort_by_key(|entry| entry.line);
    for entry in unmapped {
        eprintln!("tend import: {}", describe(&shown, entry));
    }
    match &args.output {
        Some(path) => write_output(path, &toml, args.force)?,
        None => print!("{toml}"),
    }
    Ok(0)
}

/// One unmapped key as stderr names it.
fn describe(file: &str, entry: &Unmapped) -> String {
    crate::terminal_safe::escape(&format!(
        "{file}:{}: `{}`: not imported: {}",
        entry.line, entry.key, entry.why
    ))
    .into_owned()
}

fn read(path: &Path) -> anyhow::Result<String> {
    let shown = path.display();
    let metadata =
        std::fs::metadata(path).map_err(|e| UsageError(format!("cannot read `{shown}`: {e}")))?;
    if metadata.len() > MAX_SIZE {
        return Err(UsageError(format!("`{shown}` is larger than {MAX_SIZE} bytes")).into());
    }
    let bytes =
        std::fs::read(path).map_err(|e| UsageError(format!("cannot read `{shown}`: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        UsageError(format!("{shown}:{line}: not valid UTF-8")).into()
    })
}

fn convert(format: Format, path: &Path, shown: &str, text: &str) -> Result<Imported, UsageError> {
    let source = Source { file: shown };
    match format {
        #[cfg(feature = "yaml")]
        Format::ProcessCompose => {
            let root = yaml_tree::parse(source, text)?;
            process_compose::convert(source, &root)
        }
        #[cfg(not(feature = "yaml"))]
        Format::ProcessCompose => Err(UsageError(format!(
            "`{shown}` is YAML, and this build of tend has no YAML support (cargo feature `yaml`)"
        ))),
        Format::Supervisord => {
            let sections = ini::parse(text)
                .map_err(|(line, message)| UsageError(format!("{shown}:{line}: {message}")))?;
            let here = path
                .canonicalize()
                .ok()
                .and_then(|full| full.parent().map(|dir| dir.display().to_string()))
                .unwrap_or_else(|| ".".to_owned());
            supervisord::convert(shown, &here, &sections)
        }
        Format::Pm2 => {
            let is_json = path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
            if is_json {
                // Strict JSON first: a trailing comma is valid JavaScript, not JSON.
                serde_json::from_str::<serde_json::Value>(text).map_err(|e| {
                    UsageError(format!("{shown}:{}: not valid JSON: {e}", e.line()))
                })?;
            }
            let root = js_object::parse(text)
                .map_err(|(line, message)| UsageError(format!("{shown}:{line}: {message}")))?;
            pm2::convert(source, &root)
        }
    }
}

/// Writes `text` to `path`, refusing to replace a file unless `force`.
fn write_output(path: &Path, text: &str, force: bool) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::Error::new(UsageError(format!(
                "`{}` exists; give --force to replace it",
                path.display()
            )))
        } else {
            anyhow::Error::new(e).context(format!("cannot write `{}`", path.display()))
        }
    })?;
    file.write_all(text.as_bytes()).with_context(|| format!("cannot write `{}`", path.display()))
}
