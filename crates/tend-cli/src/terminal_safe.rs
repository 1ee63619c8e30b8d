//! Text that is safe to show on a terminal: control characters made visible.
//!
//! Names, commands, arguments, labels, paths and error messages come from users, files, the
//! daemon or the host's process table. Printed raw, an ESC could clear the screen, move the
//! cursor or retitle the window, and a `\n` or `\r` could forge a row of `tend ps`. Every
//! table cell and every human-readable message the CLI prints goes through [`escape`]; raw
//! output streams (`tend logs`, `tend run`, the lines of `tend up`'s steps) do not: they
//! must stay byte for byte what the program wrote.
//!
//! Each control character becomes a visible ASCII escape:
//!
//! | character                                   | shown as       |
//! |---------------------------------------------|----------------|
//! | ESC (U+001B)                                | `\e`           |
//! | LF, CR, TAB                                 | `\n`, `\r`, `\t` |
//! | other C0 (U+0000–U+001F) and DEL (U+007F)   | `\x00`–`\x1f`, `\x7f` |
//! | C1 (U+0080–U+009F)                          | `\u{80}`–`\u{9f}` |
//! | bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069), line and paragraph separators (U+2028, U+2029) | `\u{202e}` etc. |
//!
//! Everything else, backslashes included, is shown as it is: the result is for reading, not
//! for parsing back (a name that really is `\e` looks the same as one holding ESC). The
//! `--json` outputs carry the exact values.

use std::borrow::Cow;

/// `text` with every control character replaced by its visible escape (see the module docs).
/// Borrows when there is nothing to replace, which is nearly always.
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// [`escape`] for an owned string: the same string back when there is nothing to replace.
pub(crate) fn escape_owned(text: String) -> String {
    match escape(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(escaped) => escaped,
    }
}

/// [`escape`], except that `\n` is kept: for messages of several lines whose line breaks
/// are ours (clap's usage errors), where any other control character is still shown.
pub(crate) fn escape_keeping_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && needs_escape(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c == '\n' {
            out.push(c);
        } else {
            push_escaped(&mut out, c);
        }
    }
    Cow::Owned(out)
}

/// Whether a terminal could act on `c` rather than just show it.
fn needs_escape(c: char) -> bool {
    c.is_control() // C0, DEL and C1
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write as _;
    match c {
        '\x1b' => out.push_str("\\e"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x80 && needs_escape(c) => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if needs_escape(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        for text in ["", "web-1", "sh -c 'printf \"a\\n\"'", "é ü 日本", "a\\eb"] {
            assert!(matches!(escape(text), Cow::Borrowed(t) if t == text), "{text}");
        }
    }

    #[test]
    fn every_control_character_becomes_visible_ascii() {
        assert_eq!(escape("evil\x1b[2J\nFAKE ROW"), "evil\\e[2J\\nFAKE ROW");
        assert_eq!(escape("a\rb\tc\0d\x07e\x7f"), "a\\rb\\tc\\x00d\\x07e\\x7f");
        assert_eq!(escape("\u{9b}31m\u{85}"), "\\u{9b}31m\\u{85}");
        assert_eq!(escape("abc\u{202e}fed\u{2066}\u{2028}"), "abc\\u{202e}fed\\u{2066}\\u{2028}");
        for code in (0..=0x9f_u32).filter_map(char::from_u32) {
            let shown = escape(&code.to_string()).into_owned();
            assert!(
                shown.chars().all(|c| c == ' ' || c.is_ascii_graphic()),
                "U+{:04X} is shown as {shown:?}",
                code as u32
            );
        }
    }

    #[test]
    fn messages_keep_their_line_breaks_only() {
        assert_eq!(escape_keeping_lines("error: '\x1b[2J'\n\nUsage"), "error: '\\e[2J'\n\nUsage");
        assert!(matches!(escape_keeping_lines("a\nb"), Cow::Borrowed(_)));
    }
}
