//! The messages of the `/events` WebSocket: a process [`Event`], a pipeline event (its typed
//! fields in an envelope the server's log adds) or the `lagged` notice of `ws.rs`, which no
//! Rust type holds. Written by hand are only the envelope, the notice and the union.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Value, json};
use tend::Event;
use tend::wire::{
    PipelineFinishedEvent, PipelineStartedEvent, StepFinishedEvent, StepStartedEvent,
};

/// One message of the `/api/v1/events` WebSocket: a process [`Event`], a [`PipelineEventMessage`]
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
                generator.subschema_for::<PipelineEventMessage>(),
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

/// A pipeline event as the stream carries it: the fields of its kind (typed, in
/// `tend::wire::pipeline_events`) with the envelope every message of the log has.
pub(crate) struct PipelineEventMessage;

impl JsonSchema for PipelineEventMessage {
    fn schema_name() -> Cow<'static, str> {
        "PipelineEventMessage".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let kinds = [
            ("pipeline_started", generator.subschema_for::<PipelineStartedEvent>()),
            ("step_started", generator.subschema_for::<StepStartedEvent>()),
            ("step_finished", generator.subschema_for::<StepFinishedEvent>()),
            ("pipeline_finished", generator.subschema_for::<PipelineFinishedEvent>()),
        ];
        let variants: Vec<Value> = kinds
            .into_iter()
            .map(|(event, fields)| {
                json!({ "allOf": [fields, {
                    "type": "object",
                    "required": ["seq", "time", "event"],
                    "properties": {
                        "seq": { "type": "integer", "minimum": 0 },
                        "time": { "type": "string", "format": "date-time" },
                        "event": { "const": event },
                    },
                }] })
            })
            .collect();
        json_schema!({
            "description": "A pipeline's progress, with the log's seq, time and event name. Per pipeline: pipeline_started, then each step's step_started (again for each retry, with a higher attempt) and step_finished (a step that never started has only step_finished), then pipeline_finished.",
            "oneOf": variants,
        })
    }
}
