//! A small INI reader with line numbers, as supervisord reads its configuration (Python's
//! `configparser` with supervisord's settings): `[section]` headers, `key = value` or
//! `key: value` (keys in lower case), whole-line `;`/`#` comments and inline ones after
//! whitespace, indented continuation lines joined with a newline, a section or key given
//! again merged with the last value winning.

/// One `[section]`, in the order of first appearance.
#[derive(Debug)]
pub(super) struct Section {
    pub(super) name: String,
    /// The line of its (first) header.
    pub(super) line: usize,
    pub(super) entries: Vec<Entry>,
}

/// One `key = value`.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) key: String,
    pub(super) value: String,
    pub(super) line: usize,
}

#[cfg(test)]
impl Section {
    /// The entry `key`, if given.
    pub(super) fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|entry| entry.key == key)
    }
}

/// Reads `text`; an error is `(line, message)`.
pub(super) fn parse(text: &str) -> Result<Vec<Section>, (usize, String)> {
    let mut sections: Vec<Section> = Vec::new();
    let mut current: Option<usize> = None;
    // The entry a continuation line extends: (section, entry).
    let mut last: Option<(usize, usize)> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with(';') || trimmed.starts_with('#') {
            last = if trimmed.is_empty() { None } else { last };
            continue;
        }
        let indented = raw.starts_with([' ', '\t']);
        if indented && let Some((s, e)) = last {
            let entry = &mut sections[s].entries[e];
            entry.value.push('\n');
            entry.value.push_str(strip_comment(trimmed));
            continue;
        }
        if let Some(header) = trimmed.strip_prefix('[') {
            let Some(name) =
                header.strip_suffix(']').or_else(|| strip_comment(header).strip_suffix(']'))
            else {
                return Err((line, format!("a section header needs a closing `]`: `{trimmed}`")));
            };
            let name = name.trim();
            let at = match sections.iter().position(|s| s.name == name) {
                Some(at) => at,
                None => {
                    sections.push(Section { name: name.to_owned(), line, entries: Vec::new() });
                    sections.len() - 1
                }
            };
            current = Some(at);
            last = None;
            continue;
        }
        let Some(section) = current else {
            return Err((line, format!("a key before any [section] header: `{trimmed}`")));
        };
        let Some(split) = trimmed.find(['=', ':']) else {
            return Err((line, format!("expected `key = value`, found `{trimmed}`")));
        };
        let key = trimmed[..split].trim().to_ascii_lowercase();
        if key.is_empty() {
            return Err((line, format!("a value without a key: `{trimmed}`")));
        }
        let value = strip_comment(trimmed[split + 1..].trim()).to_owned();
        let entries = &mut sections[section].entries;
        let at = match entries.iter().position(|entry| entry.key == key) {
            Some(at) => {
                entries[at] = Entry { key, value, line };
                at
            }
            None => {
                entries.push(Entry { key, value, line });
                entries.len() - 1
            }
        };
        last = Some((section, at));
    }
    Ok(sections)
}

/// `value` without an inline `;` or `#` comment (one that follows whitespace).
fn strip_comment(value: &str) -> &str {
    let bytes = value.as_bytes();
    let cut = (1..bytes.len())
        .find(|&i| matches!(bytes[i], b';' | b'#') && bytes[i - 1].is_ascii_whitespace());
    match cut {
        Some(i) => value[..i].trim_end(),
        None => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_keys_comments_and_continuations() {
        let text = "; top\n[program:web]\nCommand = /bin/web --port 80 ; inline\nenvironment=A=\"1\",\n  B=\"2\"\n# c\n[program:web]\ncommand: /bin/other#not a comment\n";
        let sections = parse(text).unwrap();
        assert_eq!(sections.len(), 1);
        let web = &sections[0];
        assert_eq!((web.name.as_str(), web.line), ("program:web", 2));
        assert_eq!(web.get("command").unwrap().value, "/bin/other#not a comment");
        assert_eq!(web.get("command").unwrap().line, 8);
        assert_eq!(web.get("environment").unwrap().value, "A=\"1\",\nB=\"2\"");
    }

    #[test]
    fn malformed_lines_are_named() {
        assert_eq!(parse("command=x\n").unwrap_err().0, 1);
        assert_eq!(parse("[program:a]\ncommand=x\njust words\n").unwrap_err().0, 3);
        assert_eq!(parse("[program:a\n").unwrap_err().0, 1);
    }
}
