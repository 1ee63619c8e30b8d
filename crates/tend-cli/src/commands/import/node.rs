//! A parsed YAML or JavaScript-object source as a tree whose every value knows its line, and
//! typed reads of it whose errors name the file, the line and the key.

use std::collections::BTreeMap;

use crate::UsageError;

/// A value of the source and the line (1-based) it starts on.
#[derive(Debug, Clone)]
pub(super) struct Node {
    pub(super) line: usize,
    pub(super) value: Value,
}

/// The kinds of value the sources hold.
#[derive(Debug, Clone)]
pub(super) enum Value {
    Null,
    Bool(bool),
    /// A number, as written.
    Number(f64),
    Text(String),
    List(Vec<Node>),
    /// Keys in the source's order.
    Map(Vec<(String, Node)>),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::Text(_) => "a string",
            Value::List(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// The file being read, for error messages (`FILE:LINE: `key`: …`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Source<'a> {
    pub(super) file: &'a str,
}

impl Source<'_> {
    /// A usage error at `line` about `key`.
    pub(super) fn error(
        &self,
        line: usize,
        key: &str,
        message: impl std::fmt::Display,
    ) -> UsageError {
        UsageError(format!("{}:{line}: `{key}`: {message}", self.file))
    }

    fn expected(&self, node: &Node, key: &str, what: &str) -> UsageError {
        self.error(node.line, key, format!("expected {what}, found {}", node.value.kind()))
    }

    /// The entries of a mapping (null reads as none).
    pub(super) fn map<'n>(
        &self,
        node: &'n Node,
        key: &str,
    ) -> Result<&'n [(String, Node)], UsageError> {
        match &node.value {
            Value::Map(entries) => Ok(entries),
            Value::Null => Ok(&[]),
            _ => Err(self.expected(node, key, "a mapping")),
        }
    }

    /// A string; numbers and booleans read as their text, as the tools themselves take them.
    pub(super) fn text(&self, node: &Node, key: &str) -> Result<String, UsageError> {
        match &node.value {
            Value::Text(text) => Ok(text.clone()),
            Value::Number(number) => Ok(number_text(*number)),
            Value::Bool(flag) => Ok(flag.to_string()),
            _ => Err(self.expected(node, key, "a string")),
        }
    }

    /// A boolean (`true`/`false`, also as strings).
    pub(super) fn flag(&self, node: &Node, key: &str) -> Result<bool, UsageError> {
        match &node.value {
            Value::Bool(flag) => Ok(*flag),
            Value::Text(text) if text == "true" || text == "false" => Ok(text == "true"),
            _ => Err(self.expected(node, key, "true or false")),
        }
    }

    /// A number zero or more (also as a string of digits).
    pub(super) fn number(&self, node: &Node, key: &str) -> Result<f64, UsageError> {
        let number = match &node.value {
            Value::Number(number) => Some(*number),
            Value::Text(text) => text.trim().parse::<f64>().ok(),
            _ => None,
        };
        match number {
            Some(number) if number.is_finite() && number >= 0.0 => Ok(number),
            _ => Err(self.expected(node, key, "a number, zero or more")),
        }
    }

    /// A whole number zero or more.
    pub(super) fn count(&self, node: &Node, key: &str) -> Result<u64, UsageError> {
        let number = self.number(node, key)?;
        if number.fract() != 0.0 || number > u32::MAX as f64 {
            return Err(self.expected(node, key, "a whole number"));
        }
        Ok(number as u64)
    }

    /// A list of strings; a single string reads as a list of one.
    pub(super) fn texts(&self, node: &Node, key: &str) -> Result<Vec<String>, UsageError> {
        match &node.value {
            Value::List(items) => items.iter().map(|item| self.text(item, key)).collect(),
            _ => Ok(vec![self.text(node, key)?]),
        }
    }

    /// Variables as a mapping `{NAME: value}` or a list of `NAME=value` strings.
    pub(super) fn env(
        &self,
        node: &Node,
        key: &str,
    ) -> Result<BTreeMap<String, String>, UsageError> {
        let mut env = BTreeMap::new();
        match &node.value {
            Value::List(items) => {
                for item in items {
                    let pair = self.text(item, key)?;
                    let Some((name, value)) = pair.split_once('=') else {
                        return Err(self.error(
                            item.line,
                            key,
                            format!("expected NAME=value, found `{pair}`"),
                        ));
                    };
                    env.insert(name.to_owned(), value.to_owned());
                }
            }
            _ => {
                for (name, value) in self.map(node, key)? {
                    env.insert(name.clone(), self.text(value, key)?);
                }
            }
        }
        Ok(env)
    }
}

/// A number as the source would write it: `8080`, not `8080.0`.
pub(super) fn number_text(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e15 {
        format!("{}", number as i64)
    } else {
        number.to_string()
    }
}
