//! Turning a [`Script`] into the text bash reads.

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
