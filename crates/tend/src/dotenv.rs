//! `.env` files: environment variables as `KEY=VALUE` lines, as docker compose, foreman and
//! honcho read them.
//!
//! ```text
//! # a comment line, and blank lines, are skipped
//! DATABASE_URL=postgres://localhost/app   # a comment after whitespace
//! export RUST_LOG=debug                    # `export ` is allowed and ignored
//! GREETING='single quotes: $HOME and \n stay as written'
//! MOTD="double quotes: \"escapes\" \\ and a\nnewline"
//! EMPTY=
//! ```
//!
//! * `KEY=VALUE`, with optional whitespace around `KEY` and before `VALUE`; an optional
//!   `export ` first.
//! * An unquoted value ends at a `#` preceded by whitespace (a comment) and has its trailing
//!   whitespace removed; a `#` inside a word (`URL=http://host/#top`) is kept.
//! * `'…'` is literal. `"…"` understands `\n`, `\r`, `\t`, `\"` and `\\`; any other backslash is
//!   kept as written. A quoted value ends on its line; after the closing quote only whitespace
//!   and a comment may follow.
//! * No interpolation: `$OTHER` and `${OTHER}` are kept as written.
//! * Lines may end in CRLF. A key given twice keeps its last value.
//! * A line that is none of these, a key that is not an environment variable name (empty, or
//!   holding `=`, see [`check_env_name`](crate::process::check_env_name)), and a NUL byte are
//!   errors naming the line. A file larger than [`MAX_FILE_SIZE`] (16 MiB, as pipeline files)
//!   or not UTF-8 is refused.
//!
//! ```
//! let vars = tend::dotenv::parse("export A=1\nB = 'two words' # note\nC=\"x\\ny\"\n").unwrap();
//! assert_eq!(vars, [("A".into(), "1".into()), ("B".into(), "two words".into()),
//!                   ("C".into(), "x\ny".into())]);
//!
//! let error = tend::dotenv::parse("A=1\nnot a line\n").unwrap_err();
//! assert_eq!(error.line(), Some(2));
//! assert_eq!(error.to_string(), "line 2: expected KEY=VALUE, found `not a line`");
//! ```

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::process::{check_env_name, check_no_nul};

/// The largest file [`read`] takes: 16 MiB, the bound of pipeline files. A larger one is
/// refused once that many bytes have come, whatever its size on disk says.
pub const MAX_FILE_SIZE: u64 = 16 << 20;

/// Why a `.env` file could not be read. Displays as `PATH:LINE: message` (without the path
/// when parsed from text).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DotenvError {
    /// The file could not be read (missing, unreadable, not UTF-8).
    #[error("cannot read `{}`: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_FILE_SIZE`]; it was not parsed.
    #[error("`{}` is larger than {} MiB; an env file must not be", .path.display(), MAX_FILE_SIZE >> 20)]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// A line is not `KEY=VALUE`, a comment or blank.
    #[error("{}: {message}", located(.path.as_deref(), *.line))]
    Syntax {
        /// The file, when read from one.
        path: Option<PathBuf>,
        /// The offending line, from 1.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
}

/// `PATH:LINE`, or `line LINE` without a file.
fn located(path: Option<&Path>, line: usize) -> String {
    match path {
        Some(path) => format!("{}:{line}", path.display()),
        None => format!("line {line}"),
    }
}

impl DotenvError {
    /// The line the error points at, from 1, when it points at one.
    pub fn line(&self) -> Option<usize> {
        match self {
            DotenvError::Syntax { line, .. } => Some(*line),
            _ => None,
        }
    }
}

/// Reads a `.env` file (following a symlink, as pipeline files are read) and parses it: the
/// variables in file order, a repeated key once per line (the last wins when collected into a
/// map).
///
/// ```no_run
/// let vars = tend::dotenv::read(".env")?;
/// let options = vars.iter().fold(tend::StartOptions::new("env"), |o, (k, v)| o.env(k, v));
/// # Ok::<(), tend::dotenv::DotenvError>(())
/// ```
pub fn read(path: impl AsRef<Path>) -> Result<Vec<(String, String)>, DotenvError> {
    let path = path.as_ref();
    let text = read_text_bounded(path, MAX_FILE_SIZE).map_err(|error| match error {
        BoundedReadError::TooLarge => DotenvError::TooLarge { path: path.to_owned() },
        BoundedReadError::Io(source) => DotenvError::Read { path: path.to_owned(), source },
    })?;
    parse(&text).map_err(|error| match error {
        DotenvError::Syntax { line, message, .. } => {
            DotenvError::Syntax { path: Some(path.to_owned()), line, message }
        }
        other => other,
    })
}

/// Why [`read_text_bounded`] failed.
pub(crate) enum BoundedReadError {
    /// More than the bound came.
    TooLarge,
    /// Opening or reading failed, or the text is not UTF-8 (`InvalidData`).
    Io(std::io::Error),
}

/// Reads a file as UTF-8 text, refusing it once more than `max` bytes have come: its size on
/// disk is not trusted (`/dev/zero`, a pipe or a growing file have none that counts).
pub(crate) fn read_text_bounded(path: &Path, max: u64) -> Result<String, BoundedReadError> {
    let file = std::fs::File::open(path).map_err(BoundedReadError::Io)?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1)).read_to_end(&mut bytes).map_err(BoundedReadError::Io)?;
    if bytes.len() as u64 > max {
        return Err(BoundedReadError::TooLarge);
    }
    String::from_utf8(bytes).map_err(|error| {
        BoundedReadError::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, error))
    })
}

/// Parses `.env` text (see the module's rules): the variables in order.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, DotenvError> {
    let mut vars = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let syntax = |message: String| DotenvError::Syntax { path: None, line: index + 1, message };
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(pair) = parse_line(line).map_err(syntax)? {
            vars.push(pair);
        }
    }
    Ok(vars)
}

/// One line: `None` for a blank or comment line.
fn parse_line(line: &str) -> Result<Option<(String, String)>, String> {
    check_no_nul(line)?;
    let trimmed = line.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(None);
    }
    let assignment = match trimmed.strip_prefix("export") {
        Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
        _ => trimmed,
    };
    let Some((key, value)) = assignment.split_once('=') else {
        return Err(format!("expected KEY=VALUE, found `{}`", line.trim()));
    };
    let key = key.trim();
    check_env_name(key)?;
    if key.contains(char::is_whitespace) {
        return Err(format!("`{key}` is not an environment variable name (holds whitespace)"));
    }
    let value = parse_value(key, value.trim_start())?;
    Ok(Some((key.to_owned(), value)))
}

/// The value after `=`, leading whitespace already gone.
fn parse_value(key: &str, value: &str) -> Result<String, String> {
    let (text, rest) = match value.chars().next() {
        Some('\'') => {
            let body = &value[1..];
            let end = body
                .find('\'')
                .ok_or_else(|| format!("`{key}`: the single quote is not closed on this line"))?;
            (body[..end].to_owned(), &body[end + 1..])
        }
        Some('"') => double_quoted(key, &value[1..])?,
        _ => return Ok(unquoted(value).to_owned()),
    };
    let rest = rest.trim_start();
    if !rest.is_empty() && !rest.starts_with('#') {
        return Err(format!(
            "`{key}`: unexpected `{rest}` after the closing quote (only a `# comment` may follow)"
        ));
    }
    Ok(text)
}

/// An unquoted value: up to a `#` that follows whitespace, trailing whitespace removed.
fn unquoted(value: &str) -> &str {
    let mut end = value.len();
    let mut previous_blank = true;
    for (at, c) in value.char_indices() {
        if c == '#' && previous_blank {
            end = at;
            break;
        }
        previous_blank = c.is_whitespace();
    }
    value[..end].trim_end()
}

/// A double-quoted value after its opening quote: the text and what follows the closing quote.
fn double_quoted<'a>(key: &str, body: &'a str) -> Result<(String, &'a str), String> {
    let mut text = String::new();
    let mut chars = body.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Ok((text, &body[at + 1..])),
            '\\' => match chars.next().map(|(_, c)| c) {
                Some('n') => text.push('\n'),
                Some('r') => text.push('\r'),
                Some('t') => text.push('\t'),
                Some('"') => text.push('"'),
                Some('\\') => text.push('\\'),
                Some(other) => {
                    text.push('\\');
                    text.push(other);
                }
                None => break,
            },
            c => text.push(c),
        }
    }
    Err(format!("`{key}`: the double quote is not closed on this line"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(text: &str) -> Vec<(String, String)> {
        parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn one(text: &str) -> String {
        let vars = vars(text);
        assert_eq!(vars.len(), 1, "{text:?}: {vars:?}");
        vars[0].1.clone()
    }

    fn error(text: &str) -> (usize, String) {
        let error = parse(text).unwrap_err();
        (error.line().unwrap(), error.to_string())
    }

    #[test]
    fn every_syntax_form_reads() {
        assert_eq!(one("A=1"), "1");
        assert_eq!(one("  A  =  spaced value  "), "spaced value");
        assert_eq!(one("export A=1"), "1");
        assert_eq!(one("export\tA=1"), "1");
        assert_eq!(vars("exported=1"), [("exported".into(), "1".into())]);
        assert_eq!(one("A="), "");
        assert_eq!(one("A=''"), "");
        assert_eq!(one("A=\"\""), "");
        assert_eq!(one("A=a=b=c"), "a=b=c");
        assert_eq!(one("A='$HOME \\n # not a comment'"), "$HOME \\n # not a comment");
        assert_eq!(one(r#"A="say \"hi\"\n\\ \t\r \$x""#), "say \"hi\"\n\\ \t\r \\$x");
        assert_eq!(one("A=\"it's\""), "it's");
        assert_eq!(one("A='say \"hi\"'"), "say \"hi\"");
        assert_eq!(one("A=value # comment"), "value");
        assert_eq!(one("A=value\t# comment"), "value");
        assert_eq!(one("A=http://host/#top"), "http://host/#top");
        assert_eq!(one("A=# only a comment"), "");
        assert_eq!(one("A='quoted' # comment"), "quoted");
        assert_eq!(one("A=\"quoted\"   "), "quoted");
        assert_eq!(one("A=${OTHER}"), "${OTHER}");
        assert_eq!(one("A=ünïcødé ✓"), "ünïcødé ✓");
    }

    #[test]
    fn comments_blank_lines_and_crlf_are_skipped() {
        let text = "# comment\r\n\r\n   \r\n  # indented comment\r\nA=1\r\nB='two'\r\n\nC=3";
        assert_eq!(
            vars(text),
            [("A".into(), "1".into()), ("B".into(), "two".into()), ("C".into(), "3".into())]
        );
        assert!(vars("").is_empty());
    }

    #[test]
    fn a_repeated_key_is_kept_in_order_so_the_last_wins() {
        let vars = vars("A=1\nA=2\n");
        let map: std::collections::BTreeMap<_, _> = vars.into_iter().collect();
        assert_eq!(map["A"], "2");
    }

    #[test]
    fn every_error_names_its_line() {
        assert_eq!(
            error("A=1\nnot a line"),
            (2, "line 2: expected KEY=VALUE, found `not a line`".into())
        );
        assert_eq!(error("export"), (1, "line 1: expected KEY=VALUE, found `export`".into()));
        let (line, message) = error("\n\n=value");
        assert_eq!(line, 3);
        assert!(message.contains("is not an environment variable name"), "{message}");
        let (line, message) = error("A B=1");
        assert_eq!(line, 1);
        assert!(message.contains("`A B` is not an environment variable name"), "{message}");
        let (line, message) = error("A=1\nB='open");
        assert_eq!(line, 2);
        assert!(message.contains("`B`: the single quote is not closed"), "{message}");
        let (line, message) = error("B=\"open\\\"");
        assert_eq!(line, 1);
        assert!(message.contains("`B`: the double quote is not closed"), "{message}");
        let (line, message) = error("#\nB='x' y");
        assert_eq!(line, 2);
        assert!(message.contains("unexpected `y` after the closing quote"), "{message}");
        let (line, message) = error("A=1\r\nB=a\0b\r\n");
        assert_eq!(line, 2);
        assert!(message.contains("NUL"), "{message}");
    }

    #[test]
    fn a_file_is_read_and_its_errors_name_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.env");
        std::fs::write(&path, "A=1\n\nB\n").unwrap();
        let error = read(&path).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("{}:3: expected KEY=VALUE, found `B`", path.display())
        );
        let missing = read(dir.path().join("missing.env")).unwrap_err();
        assert!(matches!(missing, DotenvError::Read { .. }), "{missing}");
        assert!(missing.to_string().contains("missing.env"), "{missing}");
        std::fs::write(&path, [b'A', b'=', 0xff]).unwrap();
        let message = read(&path).unwrap_err().to_string();
        assert!(
            message.to_lowercase().contains("utf-8") && message.contains("app.env"),
            "{message}"
        );
    }

    #[test]
    fn a_file_past_the_bound_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.env");
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(MAX_FILE_SIZE + 1).unwrap();
        assert!(matches!(read(&path), Err(DotenvError::TooLarge { .. })));
        assert!(read_text_bounded(&path, MAX_FILE_SIZE + 1).is_ok());
    }
}
