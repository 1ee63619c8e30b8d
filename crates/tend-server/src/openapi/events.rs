//! Hand-written schemas of what no Rust type holds: the messages of the `/events` WebSocket
//! beside the process [`Event`] (pipeline events, built in `pipelines/events.rs`, and the
//! `lagged` notice of `ws.rs`), and the union of them all. The pieces they carry (modes,
//! statuses, totals, ids) are the typed ones, referenced.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Value, json};
use tend::runner::{Mode, StepStatus, Totals};
use tend::{Event, ProcessId};

/// One message of the `/api/v1/events` WebSocket: a process [`Event`], a [`PipelineEvent`]
/// or a [`Lagged`] notice.
pub(crate) struct EventMessage;

impl JsonSchema for EventMessage {
    fn schema_name() -> Cow<'static, str> {
        "EventMessage".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "One text message of the /events WebSocket (JSON): a process event, a pipeline event, or a lagged notice. `seq` is the event log's sequence, shared by process and pipeline events.",
            "oneOf": [
                generator.subschema_for::<Event>(),
                generator.subschema_for::<PipelineEvent>(),
                generator.subschema_for::<Lagged>(),
            ],
        })
    }
}

/// `{"event": "lagged", "missed": N}`: the client was too slow and N events are gone.
pub(crate) struct Lagged;

impl JsonSchema for Lagged {
    fn schema_name() -> Cow<'static, str> {
        "Lagged".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The client fell behind the event log's bound: `missed` events are gone; the next message is the oldest still held (reconnect with `since` to resume).",
            "type": "object",
            "required": ["event", "missed"],
            "properties": {
                "event": { "const": "lagged" },
                "missed": { "type": "integer", "minimum": 1 },
            },
            "additionalProperties": false,
        })
    }
}

/// A pipeline's progress, in the event log beside the process events.
pub(crate) struct PipelineEvent;

impl JsonSchema for PipelineEvent {
    fn schema_name() -> Cow<'static, str> {
        "PipelineEvent".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let nullable = |schema: Value| json!({ "anyOf": [schema, { "type": "null" }] });
        let integer = json!({ "type": "integer", "minimum": 0 });
        let text = json!({ "type": "string" });
        let kinds = [
            (
                "pipeline_started",
                json!({
                    "mode": generator.subschema_for::<Mode>(),
                    "steps": { "type": "array", "items": text },
                }),
            ),
            (
                "step_started",
                json!({
                    "step": text,
                    "process_id": generator.subschema_for::<ProcessId>(),
                    "attempt": { "type": "integer", "minimum": 1 },
                }),
            ),
            (
                "step_finished",
                json!({
                    "step": text,
                    "status": generator.subschema_for::<StepStatus>(),
                    "exit_code": nullable(json!({ "type": "integer" })),
                    "duration_ms": nullable(json!({ "type": "number" })),
                    "attempts": integer,
                    "error": nullable(text.clone()),
                }),
            ),
            (
                "pipeline_finished",
                json!({
                    "status": { "enum": ["finished", "cancelled"] },
                    "success": { "type": "boolean" },
                    "duration_ms": nullable(json!({ "type": "number" })),
                    "totals": nullable(generator.subschema_for::<Totals>().to_value()),
                    "error": nullable(text.clone()),
                }),
            ),
        ];
        let variants: Vec<Value> = kinds
            .into_iter()
            .map(|(event, mut properties)| {
                let fields = properties.as_object_mut().expect("an object");
                let own: Vec<String> = fields.keys().cloned().collect();
                fields.insert("seq".into(), integer.clone());
                fields.insert("time".into(), json!({ "type": "string", "format": "date-time" }));
                fields.insert("event".into(), json!({ "const": event }));
                fields.insert("pipeline".into(), text.clone());
                let mut required =
                    vec!["seq".to_owned(), "time".into(), "event".into(), "pipeline".into()];
                required.extend(own);
                json!({ "type": "object", "required": required, "properties": properties })
            })
            .collect();
        json_schema!({
            "description": "A pipeline's progress (written by hand: the server builds these events as JSON). Per pipeline: pipeline_started, then each step's step_started (again for each retry, with a higher attempt) and step_finished (a step that never started has only step_finished), then pipeline_finished.",
            "oneOf": variants,
        })
    }
}
