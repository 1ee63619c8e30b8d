//! A small YAML writer for the Kubernetes manifests: block mappings and sequences, every
//! string double-quoted (JSON's escapes are YAML's), so no value is ever read back as a
//! number, a boolean or a null.

use serde_json::Value;

/// `value` (an object) as one YAML document, without the `---` line.
pub(super) fn document(value: &Value) -> String {
    let mut out = String::new();
    block(&mut out, value, 0);
    out
}

/// Writes the entries of an object or array at `indent`, each on its own line(s).
fn block(out: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                out.push_str(&pad);
                out.push_str(&key_text(key));
                out.push(':');
                nested(out, item, indent);
            }
        }
        Value::Array(items) => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                match item {
                    // `- key: value` then the other keys under the first.
                    Value::Object(map) if !map.is_empty() => {
                        let mut first = String::new();
                        block(&mut first, item, indent + 2);
                        out.push(' ');
                        out.push_str(&first[indent + 2..]);
                    }
                    _ => nested(out, item, indent),
                }
            }
        }
        scalar => {
            out.push_str(&pad);
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

/// What follows `key:` or `-`: a scalar on the same line, or a block below.
fn nested(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            block(out, value, indent + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            block(out, value, indent + 2);
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Object(_) => "{}".to_owned(),
        Value::Array(_) => "[]".to_owned(),
        // JSON's string escapes are valid in a YAML double-quoted scalar.
        other => other.to_string(),
    }
}

/// A key plain when it cannot be misread, else quoted.
fn key_text(key: &str) -> String {
    let plain = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || "_./-".contains(c))
        && !matches!(
            key.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        );
    if plain { key.to_owned() } else { Value::String(key.to_owned()).to_string() }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nested_maps_and_lists_are_blocks() {
        let value = json!({"kind": "Pod", "spec": {"containers": [{"name": "a\"b", "args": ["1", "x y"], "ports": []}], "on": true}});
        assert_eq!(
            document(&value),
            "kind: \"Pod\"\nspec:\n  containers:\n    - args:\n        - \"1\"\n        - \"x y\"\n      name: \"a\\\"b\"\n      ports: []\n  \"on\": true\n"
        );
    }
}
