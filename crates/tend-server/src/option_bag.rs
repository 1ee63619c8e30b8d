//! Checking the option bag of an action the server registers.

use serde_json::{Map, Value};

use crate::actions::ActionError;

/// `options` as an object holding only `keys`; else an error naming the culprit.
pub(crate) fn object(options: Value, keys: &[&str]) -> Result<Map<String, Value>, ActionError> {
    let Value::Object(options) = options else {
        return Err(ActionError::invalid("options", "must be a JSON object"));
    };
    if let Some(key) = options.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(ActionError::invalid(key, "unknown option"));
    }
    Ok(options)
}
