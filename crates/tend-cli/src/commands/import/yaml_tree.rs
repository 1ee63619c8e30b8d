//! A YAML file read into a [`Node`] tree (the CLI's `yaml` feature).
//!
//! `yaml_serde` gives the line of a syntax error but no positions for values, so each value's
//! line is found in the text from its key path: in block style a mapping's keys are the lines
//! at one indentation below their parent's line (a list's items the `- ` lines). A value this
//! cannot place (flow style, `{a: 1}`) gets its nearest placed parent's line.

use std::collections::HashMap;

use super::node::{Node, Source, Value};
use crate::UsageError;

/// Parses `text` (anchors and `<<` merges applied).
pub(super) fn parse(source: Source<'_>, text: &str) -> Result<Node, UsageError> {
    let mut value: yaml_serde::Value = yaml_serde::from_str(text).map_err(|error| {
        let line = error.location().map_or(1, |at| at.line());
        UsageError(format!("{}:{line}: not valid YAML: {error}", source.file))
    })?;
    value
        .apply_merge()
        .map_err(|error| UsageError(format!("{}:1: not valid YAML: {error}", source.file)))?;
    let lines: Vec<&str> = text.lines().collect();
    let locator = Locator { lines: &lines };
    Ok(convert(&value, &locator, Place { line: 1, indent: None, index: 0, dash: false }))
}

/// Where a value stands: its line (1-based), the indentation of its key or dash (`None` at
/// the top), the index of its line in the text, and whether it is a mapping that starts on a
/// list item's line (`- name: x`, its first key on that very line).
#[derive(Debug, Clone, Copy)]
struct Place {
    line: usize,
    indent: Option<usize>,
    index: usize,
    dash: bool,
}

struct Locator<'a> {
    lines: &'a [&'a str],
}

impl Locator<'_> {
    /// The lines of the block below `parent` at its children's indentation: (index, indent,
    /// text after the indentation), up to the end of the block.
    fn children(&self, parent: Place) -> Vec<(usize, usize, &str)> {
        let start = match parent.indent {
            None => 0,
            Some(_) if parent.dash => parent.index,
            Some(_) => parent.index + 1,
        };
        let mut found = Vec::new();
        let mut child_indent = None;
        for (index, line) in self.lines.iter().enumerate().skip(start) {
            let mut content = line.trim_start_matches(' ');
            if content.is_empty() || content.starts_with('#') || content.starts_with("---") {
                continue;
            }
            if parent.dash && index == parent.index {
                // The item's first key, after its dash.
                content = content[1..].trim_start_matches(' ');
            } else if parent.indent.is_some_and(|parent| line.len() - content.len() <= parent) {
                break;
            }
            let indent = line.len() - content.len();
            let wanted = *child_indent.get_or_insert(indent);
            if indent < wanted {
                break;
            }
            if indent == wanted {
                found.push((index, indent, content));
            }
        }
        found
    }

    /// The places of the keys of the mapping below `parent`, by key (the first of a key
    /// given twice). One pass over the block: a mapping of many keys is not read once per key.
    fn keys(&self, parent: Place) -> HashMap<&str, Place> {
        let mut keys = HashMap::new();
        for (index, indent, content) in self.children(parent) {
            if let Some(key) = key_of(content) {
                let place = Place { line: index + 1, indent: Some(indent), index, dash: false };
                keys.entry(key).or_insert(place);
            }
        }
        keys
    }

    /// The places of the items (`- `) of the list below `parent`.
    fn items(&self, parent: Place) -> Vec<Place> {
        let items = self.children(parent).into_iter().filter(|(_, _, c)| c.starts_with('-'));
        items
            .map(|(index, indent, _)| Place {
                line: index + 1,
                indent: Some(indent),
                index,
                dash: false,
            })
            .collect()
    }
}

/// The key a block-mapping line starts with: `key:`, `"key":` or `'key':`.
fn key_of(content: &str) -> Option<&str> {
    if let Some(quote) = content.chars().next().filter(|c| matches!(c, '"' | '\'')) {
        let end = content[1..].find(quote)? + 1;
        return content[end + 1..].starts_with(':').then(|| &content[1..end]);
    }
    match content.find(": ") {
        Some(end) => Some(&content[..end]),
        None => content.strip_suffix(':'),
    }
}

fn convert(value: &yaml_serde::Value, locator: &Locator<'_>, at: Place) -> Node {
    use yaml_serde::Value as Yaml;
    let value = match value {
        Yaml::Null => Value::Null,
        Yaml::Bool(flag) => Value::Bool(*flag),
        Yaml::Number(number) => Value::Number(number.as_f64().unwrap_or(f64::NAN)),
        Yaml::String(text) => Value::Text(text.clone()),
        Yaml::Sequence(items) => {
            let places = locator.items(at);
            Value::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(n, item)| {
                        let place = places.get(n).copied().unwrap_or(at);
                        // A `- key: value` item's first key is on its own line.
                        let dash = item.is_mapping() && place.index != at.index;
                        convert(item, locator, Place { dash, ..place })
                    })
                    .collect(),
            )
        }
        Yaml::Mapping(entries) => {
            let places = locator.keys(at);
            Value::Map(
                entries
                    .iter()
                    .map(|(key, value)| {
                        let key = match key {
                            Yaml::String(text) => text.clone(),
                            other => {
                                yaml_serde::to_string(other).unwrap_or_default().trim().to_owned()
                            }
                        };
                        let place = places.get(key.as_str()).copied().unwrap_or(at);
                        (key, convert(value, locator, place))
                    })
                    .collect(),
            )
        }
        Yaml::Tagged(tagged) => return convert(&tagged.value, locator, at),
    };
    Node { line: at.line, value }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line of the value at `path` (keys, or list indexes as numbers).
    fn line_of(node: &Node, path: &[&str]) -> usize {
        let mut node = node;
        for step in path {
            node = match &node.value {
                Value::Map(entries) => &entries.iter().find(|(k, _)| k == step).expect(step).1,
                Value::List(items) => &items[step.parse::<usize>().unwrap()],
                other => panic!("{other:?} at {step}"),
            };
        }
        node.line
    }

    #[test]
    fn values_get_the_line_of_their_key_or_dash() {
        let text = "\
# comment
processes:
  web:
    readiness_probe:
      exec:
        command: probe
    command: serve   # the process's own, after a deeper `command`
    environment:
      - 'A=1'

      - \"B=2\"
  \"db\":
    command: {a: 1}
    items:
      - name: x
        port: 1
      - name: y
        port: 2
";
        let node = parse(Source { file: "pc.yaml" }, text).unwrap();
        assert_eq!(line_of(&node, &["processes", "web", "command"]), 7);
        assert_eq!(line_of(&node, &["processes", "web", "readiness_probe", "exec", "command"]), 6);
        assert_eq!(line_of(&node, &["processes", "web", "environment", "1"]), 11);
        assert_eq!(line_of(&node, &["processes", "db"]), 12);
        // Flow style: the key's line.
        assert_eq!(line_of(&node, &["processes", "db", "command", "a"]), 13);
        assert_eq!(line_of(&node, &["processes", "db", "items", "1", "name"]), 17);
        assert_eq!(line_of(&node, &["processes", "db", "items", "1", "port"]), 18);
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let error =
            parse(Source { file: "pc.yaml" }, "processes:\n  web: [a,\n  b: c\n").unwrap_err();
        assert!(error.0.starts_with("pc.yaml:"), "{}", error.0);
        assert!(error.0.contains("not valid YAML"), "{}", error.0);
    }
}
