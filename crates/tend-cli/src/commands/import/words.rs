//! Splitting a command line into words as a POSIX shell would (Python's `shlex.split`, which
//! supervisord uses): `'…'` literal, `"…"` with `\` escaping `"`, `\`, `$` and `` ` ``, a `\`
//! outside quotes escaping the next character. No expansion.

/// The words of `line`, or a message when a quote is left open.
pub(super) fn split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if let Some(done) = word.take() {
                    words.push(done);
                }
            }
            '\'' => {
                let current = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => current.push(c),
                        None => return Err("a `'` quote is never closed".to_owned()),
                    }
                }
            }
            '"' => {
                let current = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => current.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                current.push('\\');
                                current.push(c);
                            }
                            None => return Err("a `\"` quote is never closed".to_owned()),
                        },
                        Some(c) => current.push(c),
                        None => return Err("a `\"` quote is never closed".to_owned()),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(c) => word.get_or_insert_with(String::new).push(c),
                None => return Err("the line ends in a lone `\\`".to_owned()),
            },
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn quotes_and_escapes_make_words() {
        let words = split(r#"/bin/x -a 'one two' "say \"hi\" $HOME" a\ b "" é"#).unwrap();
        assert_eq!(words, ["/bin/x", "-a", "one two", "say \"hi\" $HOME", "a b", "", "é"]);
        assert!(split("x 'open").is_err());
        assert!(split("x \"open").is_err());
    }
}
