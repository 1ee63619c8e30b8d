//! Steps from any serde format: what a pipeline file holds under `steps`, for callers that
//! receive pipelines as data. Always compiled; the file formats (`files` feature) build on
//! the same schema.

use super::schema::StepsSeed;
use super::spec::Step;

/// Reads steps from any serde format: `steps` is what a pipeline file holds under its
/// `steps` key — a map of step name to settings, in declaration order — with the same keys,
/// values and error messages (naming the step and the key), except `env_file`, which is
/// refused: steps given as data name no file to be relative to (an API request would name
/// files on the machine of the server that reads it). The steps are not validated as
/// a graph yet (see [`Pipeline::new`](super::Pipeline::new)).
///
/// For callers that receive pipelines as data, such as an API taking JSON. Keep the map's
/// order: with `serde_json`, build the deserializer over an ordered list of entries (as here),
/// since its `Map` sorts keys unless its `preserve_order` feature is on.
///
/// ```
/// use serde::de::value::MapDeserializer;
/// use serde_json::json;
///
/// let entries = vec![
///     ("build".to_owned(), json!({ "command": "make" })),
///     ("test".to_owned(), json!({ "run": "make test", "after": ["build"], "timeout": "5m" })),
/// ];
/// let steps = tend::runner::steps_from(MapDeserializer::<_, serde_json::Error>::new(
///     entries.into_iter(),
/// ))
/// .unwrap();
/// assert_eq!(steps[1].after, ["build"]);
///
/// let bad = vec![("lint".to_owned(), json!({ "command": "x", "tiemout": "1s" }))];
/// let err = tend::runner::steps_from(MapDeserializer::<_, serde_json::Error>::new(
///     bad.into_iter(),
/// ))
/// .unwrap_err();
/// assert!(err.to_string().contains("step `lint`: unknown key `tiemout`"));
/// ```
pub fn steps_from<'de, D: serde::Deserializer<'de>>(steps: D) -> Result<Vec<Step>, D::Error> {
    serde::de::DeserializeSeed::deserialize(StepsSeed { base: None }, steps)
}
