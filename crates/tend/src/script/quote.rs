//! Shell quoting: turning argument vectors into bash words that mean exactly themselves.
//!
//! gpud joined arguments into its scripts with spaces and nothing else, so an argument with a
//! space was split in two and one with `;` or `$(…)` ran code. Here every word is wrapped in
//! single quotes, inside which bash gives no character a special meaning; a single quote
//! itself is written as `'\''` (close the quotes, an escaped quote, reopen).

/// Quotes `word` for bash so that it is read back as exactly one word with exactly these
/// characters: no expansion, no splitting, no globbing, no command or alias lookup surprises.
///
/// ```
/// use tend::script::quote;
/// assert_eq!(quote("plain"), "'plain'");
/// assert_eq!(quote("it's $HOME; rm -rf /"), r"'it'\''s $HOME; rm -rf /'");
/// assert_eq!(quote(""), "''");
/// ```
pub fn quote(word: &str) -> String {
    let mut quoted = String::with_capacity(word.len() + 2);
    quoted.push('\'');
    for (i, piece) in word.split('\'').enumerate() {
        if i > 0 {
            quoted.push_str(r"'\''");
        }
        quoted.push_str(piece);
    }
    quoted.push('\'');
    quoted
}

/// Quotes every word of `argv` and joins them with spaces: one bash command line that runs
/// `argv[0]` with the other words as its arguments, exactly.
///
/// ```
/// use tend::script::quote_command;
/// assert_eq!(quote_command(["echo", "a b", "c"]), "'echo' 'a b' 'c'");
/// ```
pub fn quote_command<I, S>(argv: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    argv.into_iter().map(|word| quote(word.as_ref())).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use std::process::{Command, Stdio};

    use proptest::prelude::*;

    use super::*;

    /// Runs `printf '%s\0' WORDS…` through bash and splits what it prints back into words.
    fn through_bash(words: &[String]) -> Vec<String> {
        let mut argv = vec!["printf".to_owned(), "%s\\0".to_owned()];
        argv.extend(words.iter().cloned());
        let output = Command::new("bash")
            .args(["-c", &quote_command(&argv)])
            .stdin(Stdio::null())
            .output()
            .expect("run bash");
        assert!(output.status.success(), "bash failed: {output:?}");
        let text = String::from_utf8(output.stdout).expect("UTF-8 back");
        let mut back: Vec<String> = text.split('\0').map(str::to_owned).collect();
        assert_eq!(back.pop().as_deref(), Some(""), "output ends with a NUL");
        back
    }

    #[test]
    fn hostile_words_survive_exactly() {
        let words: Vec<String> = [
            "a b",
            "",
            "'",
            "''",
            "\"",
            "$HOME",
            "$(touch /tmp/tend-quote-injected)",
            "`id`",
            "; echo injected",
            "a\nb",
            "\\",
            "*",
            "!!",
            "~",
            "-n",
            "ünïcödé ✓",
            "\t",
        ]
        .iter()
        .map(|w| (*w).to_owned())
        .collect();
        assert_eq!(through_bash(&words), words);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        /// Any words without NUL (which no argument can hold) round-trip through bash.
        #[test]
        fn any_words_round_trip(words in prop::collection::vec(
            prop::collection::vec(
                prop_oneof![
                    4 => prop::sample::select(vec!['\'', '"', '\\', '$', '`', ' ', '\n', ';', '&', '|', '*', '!', '{', '}', '(', ')', '#', '~', '<', '>']),
                    3 => prop::char::range('a', 'z'),
                    1 => any::<char>().prop_filter("no NUL", |c| *c != '\0'),
                ],
                0..12,
            ).prop_map(|chars| chars.into_iter().collect::<String>()),
            // printf applies its format once even without words, so at least one.
            1..6,
        )) {
            prop_assert_eq!(through_bash(&words), words);
        }
    }
}
