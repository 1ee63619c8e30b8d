//! PM2 ecosystem files: JSON, or a `.js` file that is a plain `module.exports = {…}` object
//! literal. A small reader of that literal (JSON plus what such files use: comments, unquoted
//! keys, single-quoted strings, trailing commas), with the line of every value and of every
//! error. Code (a `require`, a variable, `process.env.X`, a function) is refused naming its
//! line: `tend import` never runs JavaScript.

use super::node::{Node, Value};

/// The deepest nesting accepted (lists and objects), so a hostile file cannot overflow the
/// stack.
const MAX_DEPTH: usize = 64;

/// Reads `text`: a bare value (JSON), or `module.exports = VALUE;` (JavaScript). An error is
/// `(line, message)`.
pub(super) fn parse(text: &str) -> Result<Node, (usize, String)> {
    let mut reader = Reader { text: text.as_bytes(), at: 0, line: 1 };
    reader.blank()?;
    // A `"use strict";` directive may come first.
    for directive in ["\"use strict\"", "'use strict'"] {
        if reader.rest().starts_with(directive.as_bytes()) {
            reader.advance(directive.len());
            reader.blank()?;
            reader.eat(b';');
            reader.blank()?;
        }
    }
    for head in ["module.exports", "exports"] {
        if reader.rest().starts_with(head.as_bytes()) {
            reader.advance(head.len());
            reader.blank()?;
            reader.expect(b'=', "`=` after `module.exports`")?;
            reader.blank()?;
            break;
        }
    }
    let value = reader.value(0)?;
    reader.blank()?;
    reader.eat(b';');
    reader.blank()?;
    if reader.at < reader.text.len() {
        return Err(reader.unexpected("the end of the file"));
    }
    Ok(value)
}

struct Reader<'a> {
    text: &'a [u8],
    at: usize,
    line: usize,
}

impl Reader<'_> {
    fn rest(&self) -> &[u8] {
        &self.text[self.at..]
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn advance(&mut self, count: usize) {
        for _ in 0..count {
            if self.peek() == Some(b'\n') {
                self.line += 1;
            }
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.advance(1);
        }
        found
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), (usize, String)> {
        if self.eat(byte) { Ok(()) } else { Err(self.unexpected(what)) }
    }

    /// The error for what stands here when `what` was expected.
    fn unexpected(&self, what: &str) -> (usize, String) {
        let found: String = String::from_utf8_lossy(self.rest())
            .chars()
            .take_while(|c| *c != '\n')
            .take(24)
            .collect();
        let found =
            if found.is_empty() { "the end of the file".to_owned() } else { format!("`{found}`") };
        (
            self.line,
            format!(
                "expected {what}, found {found} (only a plain object literal is read: no code)"
            ),
        )
    }

    /// Skips whitespace and comments.
    fn blank(&mut self) -> Result<(), (usize, String)> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.advance(1),
                Some(b'/') if self.rest().starts_with(b"//") => {
                    while self.peek().is_some_and(|b| b != b'\n') {
                        self.advance(1);
                    }
                }
                Some(b'/') if self.rest().starts_with(b"/*") => {
                    let line = self.line;
                    let Some(end) = self.rest().windows(2).position(|w| w == b"*/") else {
                        return Err((line, "a `/*` comment is never closed".to_owned()));
                    };
                    self.advance(end + 2);
                }
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, (usize, String)> {
        let line = self.line;
        if depth > MAX_DEPTH {
            return Err((line, format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let start = (self.at, self.line);
        let value = match self.peek() {
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.list(depth)?,
            Some(quote @ (b'"' | b'\'' | b'`')) => Value::Text(self.string(quote)?),
            Some(b'-' | b'+' | b'.' | b'0'..=b'9') => self.number()?,
            _ => match self.word().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" | "undefined" => Value::Null,
                _ => {
                    // Named from its start: `require(…)`, not `(…)`.
                    (self.at, self.line) = start;
                    return Err(self.unexpected("a value"));
                }
            },
        };
        Ok(Node { line, value })
    }

    fn object(&mut self, depth: usize) -> Result<Value, (usize, String)> {
        self.advance(1);
        let mut entries: Vec<(String, Node)> = Vec::new();
        loop {
            self.blank()?;
            if self.eat(b'}') {
                return Ok(Value::Map(entries));
            }
            let line = self.line;
            let key = match self.peek() {
                Some(quote @ (b'"' | b'\'')) => self.string(quote)?,
                _ => self.word(),
            };
            if key.is_empty() {
                return Err(self.unexpected("a key"));
            }
            if entries.iter().any(|(seen, _)| *seen == key) {
                return Err((line, format!("the key `{key}` is given twice")));
            }
            self.blank()?;
            self.expect(b':', &format!("`:` after the key `{key}`"))?;
            self.blank()?;
            entries.push((key, self.value(depth + 1)?));
            self.blank()?;
            if !self.eat(b',') {
                self.blank()?;
                self.expect(b'}', "`,` or `}`")?;
                return Ok(Value::Map(entries));
            }
        }
    }

    fn list(&mut self, depth: usize) -> Result<Value, (usize, String)> {
        self.advance(1);
        let mut items = Vec::new();
        loop {
            self.blank()?;
            if self.eat(b']') {
                return Ok(Value::List(items));
            }
            items.push(self.value(depth + 1)?);
            self.blank()?;
            if !self.eat(b',') {
                self.blank()?;
                self.expect(b']', "`,` or `]`")?;
                return Ok(Value::List(items));
            }
        }
    }

    /// An identifier (a key, `true`, …): letters, digits, `_` and `$`.
    fn word(&mut self) -> String {
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$') {
            self.advance(1);
        }
        String::from_utf8_lossy(&self.text[start..self.at]).into_owned()
    }

    fn number(&mut self) -> Result<Value, (usize, String)> {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'_'))
        {
            self.advance(1);
        }
        let written = String::from_utf8_lossy(&self.text[start..self.at]).replace('_', "");
        written
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(Value::Number)
            .ok_or((self.line, format!("`{written}` is not a number")))
    }

    /// A string in `quote`s, its escapes decoded. A template literal (`` ` ``) is taken as a
    /// plain string when it has no `${…}`.
    fn string(&mut self, quote: u8) -> Result<String, (usize, String)> {
        let line = self.line;
        self.advance(1);
        let mut bytes = Vec::new();
        loop {
            let Some(byte) = self.peek() else {
                return Err((line, "a string is never closed".to_owned()));
            };
            self.advance(1);
            match byte {
                b if b == quote => break,
                b'\n' if quote != b'`' => {
                    return Err((line, "a string is never closed on its line".to_owned()));
                }
                b'$' if quote == b'`' && self.peek() == Some(b'{') => {
                    return Err((
                        self.line,
                        "a template string with `${…}` is code; write the value".to_owned(),
                    ));
                }
                b'\\' => self.escape(&mut bytes)?,
                b => bytes.push(b),
            }
        }
        String::from_utf8(bytes).map_err(|_| (line, "a string is not valid UTF-8".to_owned()))
    }

    fn escape(&mut self, bytes: &mut Vec<u8>) -> Result<(), (usize, String)> {
        let line = self.line;
        let Some(byte) = self.peek() else {
            return Err((line, "a string is never closed".to_owned()));
        };
        self.advance(1);
        let decoded = match byte {
            b'n' => '\n',
            b't' => '\t',
            b'r' => '\r',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'v' => '\u{b}',
            b'0' => '\0',
            b'\n' => return Ok(()),
            b'u' => {
                let hex: String = self.rest().iter().take(4).map(|b| *b as char).collect();
                let code = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                let Some(c) = code.filter(|_| hex.len() == 4) else {
                    return Err((line, format!("`\\u{hex}` is not a \\uXXXX escape")));
                };
                self.advance(4);
                c
            }
            other => other as char,
        };
        let mut buffer = [0; 4];
        bytes.extend_from_slice(decoded.encode_utf8(&mut buffer).as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(node: &Node) -> Vec<(&str, usize)> {
        let Value::Map(entries) = &node.value else { panic!("{node:?}") };
        entries.iter().map(|(key, value)| (key.as_str(), value.line)).collect()
    }

    #[test]
    fn a_plain_module_exports_literal_is_read_with_lines() {
        let text = "// ecosystem\nmodule.exports = {\n  apps: [{\n    name: 'api', /* inline */\n    \"script\": `./api.js`,\n    args: ['--port', 3000,],\n  }],\n};\n";
        let node = parse(text).unwrap();
        assert_eq!(keys(&node), [("apps", 3)]);
        let Value::Map(top) = &node.value else { panic!() };
        let Value::List(apps) = &top[0].1.value else { panic!() };
        assert_eq!(keys(&apps[0]), [("name", 4), ("script", 5), ("args", 6)]);
    }

    #[test]
    fn code_is_refused_naming_its_line() {
        let text =
            "module.exports = {\n  apps: [{\n    script: require('path').join('a'),\n  }]\n}\n";
        let (line, message) = parse(text).unwrap_err();
        assert_eq!(line, 3);
        assert!(message.contains("found `require('path')"), "{message}");
        let (line, _) = parse("{\n \"a\": `x${y}`\n}").unwrap_err();
        assert_eq!(line, 2);
        assert_eq!(parse("{\"a\": 1} extra").unwrap_err().0, 1);
        assert_eq!(parse(&"[".repeat(100)).unwrap_err().0, 1);
    }

    #[test]
    fn escapes_are_decoded() {
        let node = parse(r#"{"a": "x\"y\\z\u00e9\n", b: 'it\'s'}"#).unwrap();
        let Value::Map(entries) = node.value else { panic!() };
        assert!(matches!(&entries[0].1.value, Value::Text(t) if t == "x\"y\\zé\n"));
        assert!(matches!(&entries[1].1.value, Value::Text(t) if t == "it's"));
    }
}
