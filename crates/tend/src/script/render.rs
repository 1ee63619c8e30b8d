//! Turning a [`Script`] into the text bash reads, and its environment into pairs.

use crate::process::{check_env_name, check_no_nul};
use std::collections::HashSet;

use super::error::ScriptError;
use super::quote::quote_command;
use super::spec::{STRICT_HEADER, Script, ScriptMode, ScriptSource};

impl Script {
    /// The exact text bash will read, header and (in inline mode) wrapper included.
    ///
    /// The strict header shares the script's first line, so the line numbers bash reports
    /// (and `$LINENO`) are those of the script as written. In inline mode the script is
    /// wrapped in `{ …\n} </dev/null`: bash reads a compound command to its end before it runs
    /// any of it, so no command can read the script's remaining lines as its input.
    ///
    /// ```
    /// use tend::script::Script;
    /// let text = Script::commands([["echo", "a b"]]).strict(true).render().unwrap();
    /// assert_eq!(text, "set -o errexit -o nounset -o pipefail; 'echo' 'a b'\n");
    /// ```
    pub fn render(&self) -> Result<String, ScriptError> {
        let body = self.body()?;
        let header = if self.strict { format!("{STRICT_HEADER}; ") } else { String::new() };
        let newline = if body.ends_with('\n') || body.is_empty() { "" } else { "\n" };
        Ok(match self.mode {
            ScriptMode::File { .. } => format!("{header}{body}{newline}"),
            // `:` keeps the group non-empty (an empty `{ }` is a syntax error) and leaves `$?`
            // at 0 for an empty script.
            ScriptMode::Inline => format!("{{ :; {header}{body}{newline}}} </dev/null\n"),
        })
    }

    fn body(&self) -> Result<String, ScriptError> {
        match &self.source {
            ScriptSource::Text(text) => Ok(text.clone()),
            ScriptSource::Commands(commands) => {
                let mut lines = Vec::with_capacity(commands.len());
                for (index, argv) in commands.iter().enumerate() {
                    if argv.is_empty() {
                        return Err(ScriptError::InvalidCommand { index, reason: "it is empty" });
                    }
                    if argv.iter().any(|word| word.contains('\0')) {
                        return Err(ScriptError::InvalidCommand {
                            index,
                            reason: "an argument contains a NUL byte, which no argument can hold",
                        });
                    }
                    lines.push(quote_command(argv));
                }
                Ok(lines.join("\n"))
            }
        }
    }

    /// The environment entries split into `(key, value)`, each checked.
    pub(super) fn env_pairs(&self) -> Result<Vec<(String, String)>, ScriptError> {
        let mut seen = HashSet::new();
        let mut pairs = Vec::with_capacity(self.env.len());
        for entry in &self.env {
            let invalid = |reason| ScriptError::InvalidEnv { entry: entry.clone(), reason };
            let Some((key, value)) = entry.split_once('=') else {
                return Err(invalid("expected KEY=VALUE"));
            };
            if key.is_empty() {
                return Err(invalid("the key is empty"));
            }
            check_env_name(key).and_then(|()| check_no_nul(value)).map_err(|message| {
                ScriptError::Start(crate::Error::InvalidOption { option: "env", message })
            })?;
            if !seen.insert(key) {
                return Err(ScriptError::DuplicateEnv { key: key.to_owned() });
            }
            pairs.push((key.to_owned(), value.to_owned()));
        }
        Ok(pairs)
    }
}

/// Splits a file name pattern around its last `*` (or at its end when it has none).
pub(super) fn split_pattern(pattern: &str) -> Result<(&str, &str), ScriptError> {
    if pattern.contains('/') {
        return Err(ScriptError::InvalidPattern {
            pattern: pattern.to_owned(),
            reason: "a file name pattern cannot contain `/`; set the directory instead",
        });
    }
    if pattern.contains('\0') {
        return Err(ScriptError::InvalidPattern {
            pattern: pattern.to_owned(),
            reason: "contains a NUL byte",
        });
    }
    Ok(pattern.rsplit_once('*').unwrap_or((pattern, "")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_wraps_and_file_does_not() {
        let script = Script::new("echo hi").strict(true);
        assert_eq!(script.render().unwrap(), format!("{STRICT_HEADER}; echo hi\n"));
        assert_eq!(
            script.inline().render().unwrap(),
            format!("{{ :; {STRICT_HEADER}; echo hi\n}} </dev/null\n")
        );
        assert_eq!(Script::new("").inline().render().unwrap(), "{ :; } </dev/null\n");
    }

    #[test]
    fn env_entries_are_checked_and_named() {
        let pairs = Script::new("").envs(["A=1", "B=x=y", "C="]).env_pairs().unwrap();
        assert_eq!(pairs[1], ("B".to_owned(), "x=y".to_owned()));
        assert_eq!(pairs[2], ("C".to_owned(), String::new()));
        let err = Script::new("").env("NOEQUALS").env_pairs().unwrap_err();
        assert!(err.to_string().contains("`NOEQUALS`"), "{err}");
        let err = Script::new("").env("=v").env_pairs().unwrap_err();
        assert!(err.to_string().contains("`=v`"), "{err}");
        let err = Script::new("").envs(["K=1", "K=2"]).env_pairs().unwrap_err();
        assert!(matches!(&err, ScriptError::DuplicateEnv { key } if key == "K"), "{err}");
    }

    #[test]
    fn patterns_split_at_the_last_star() {
        assert_eq!(split_pattern("a-*.sh").unwrap(), ("a-", ".sh"));
        assert_eq!(split_pattern("a*b*c").unwrap(), ("a*b", "c"));
        assert_eq!(split_pattern("plain").unwrap(), ("plain", ""));
        assert!(split_pattern("x/*.sh").is_err());
    }

    #[test]
    fn empty_commands_are_refused_by_index() {
        let err = Script::commands(vec![vec!["true"], vec![]]).render().unwrap_err();
        assert!(matches!(err, ScriptError::InvalidCommand { index: 1, .. }), "{err}");
    }
}
