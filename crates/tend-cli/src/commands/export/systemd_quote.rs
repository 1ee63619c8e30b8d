//! systemd's quoting, so that what a unit runs is exactly the argv tend runs.
//!
//! systemd reads a line in three passes (systemd.service(5), systemd.unit(5)): `%`
//! specifiers are resolved on the whole value (`%%` is a `%`); the value is split into words,
//! double-quoted words C-unescaped (`\"`, `\\`, `\n`, `\xNN`); then, in `ExecStart=` and its
//! kin, `$VAR` and `${VAR}` are replaced by variables (`$$` is a `$`). So each argument is
//! written double-quoted with `\`, `"` and control characters escaped, `%` doubled and (in
//! commands) `$` doubled. Other bytes, non-ASCII UTF-8 included, are written as they are.

use std::fmt::Write as _;
use std::path::Path;

use crate::UsageError;

/// One argument of `ExecStart=` (or `ExecStartPost=`), quoted.
pub(super) fn exec_word(word: &str) -> String {
    quoted(word, true)
}

/// A whole command line: the program unquoted when it is a plain path (systemd looks for
/// one, and it reads better), every argument quoted.
pub(super) fn exec_line(argv: &[String]) -> String {
    let mut line = String::new();
    for (i, word) in argv.iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        let plain = !word.is_empty()
            && word.chars().all(|c| c.is_ascii_alphanumeric() || "/._+-".contains(c))
            && !word.starts_with(['-', '+', '@', '!', ':', '|']);
        if i == 0 && plain {
            line.push_str(word);
        } else if i == 0 {
            line.push_str(&program_word(word));
        } else {
            line.push_str(&exec_word(word));
        }
    }
    line
}

/// The program of a command, quoted: systemd does not replace `$` variables in it (only
/// in the arguments), so `$` stays single.
pub(super) fn program_word(program: &str) -> String {
    quoted(program, false)
}

/// An `Environment=` assignment, quoted: `"KEY=VALUE"` (no `$` expansion there).
pub(super) fn environment(key: &str, value: &str) -> String {
    quoted(&format!("{key}={value}"), false)
}

/// A path for `WorkingDirectory=` or `StandardOutput=append:`: `%` doubled. A path systemd
/// cannot hold on one line (a control character) is a usage error naming it.
pub(super) fn path(path: &Path, what: &str) -> Result<String, UsageError> {
    let text = path.to_str().ok_or_else(|| {
        UsageError(format!(
            "{what} `{}` is not valid UTF-8, which a unit cannot hold",
            path.display()
        ))
    })?;
    if text.chars().any(char::is_control) {
        return Err(UsageError(format!(
            "{what} `{}` holds a control character, which a unit file cannot hold",
            text.escape_debug()
        )));
    }
    Ok(text.replace('%', "%%"))
}

/// `text` in double quotes, escaped for systemd; `$` doubled when `dollars`.
fn quoted(text: &str, dollars: bool) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '%' => out.push_str("%%"),
            '$' if dollars => out.push_str("$$"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_special_character_is_escaped() {
        assert_eq!(exec_word("a b"), r#""a b""#);
        assert_eq!(exec_word(r#"say "hi"\"#), r#""say \"hi\"\\""#);
        assert_eq!(exec_word("$HOME 100%"), r#""$$HOME 100%%""#);
        assert_eq!(exec_word("x\ny\u{1}"), r#""x\ny\x01""#);
        assert_eq!(exec_word("é☃"), "\"é☃\"");
        assert_eq!(exec_word(""), r#""""#);
        assert_eq!(environment("A", "$x %y"), r#""A=$x %%y""#);
    }

    #[test]
    fn a_plain_program_stays_unquoted() {
        let argv = ["/usr/bin/env".to_owned(), "-i".to_owned()];
        assert_eq!(exec_line(&argv), r#"/usr/bin/env "-i""#);
        assert_eq!(exec_line(&["my prog".to_owned()]), r#""my prog""#);
        assert_eq!(exec_line(&["-x".to_owned()]), r#""-x""#);
        assert_eq!(exec_line(&["/a$b".to_owned(), "$c".to_owned()]), r#""/a$b" "$$c""#);
    }
}
