//! The `/pipelines` part of the OpenAPI document: routes and schemas.

use serde_json::{Value, json};

use crate::openapi::{BAD, LARGE, body, json_response, op};

const MISSING: (&str, &str) = ("404", "No such pipeline (or no longer kept).");

fn id_param() -> Value {
    json!({
        "name": "id", "in": "path", "required": true,
        "description": "The id `POST /pipelines` returned.",
        "schema": { "type": "string", "minLength": 1 }
    })
}

fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

pub(crate) fn paths() -> Value {
    json!({
        "/pipelines": {
            "get": op(json!({
                "summary": "Pipelines running and recently finished", "operationId": "listPipelines",
                "responses": { "200": json_response("Summaries, oldest first.",
                    json!({ "type": "array", "items": schema("PipelineSummary") })) }
            }), &[BAD]),
            "post": op(json!({
                "summary": "Run a pipeline on the server's service", "operationId": "startPipeline",
                "description": "Checked first (as a pipeline file would be), then run in the background. Step processes are managed processes labelled `pipeline=<id>` and `step=<name>`.",
                "requestBody": body(schema("PipelineRequest"), true),
                "responses": { "202": json_response("Started.", json!({ "type": "object",
                    "required": ["id"], "properties": { "id": { "type": "string" } } })) }
            }), &[BAD, LARGE, ("429", "Process limit reached.")])
        },
        "/pipelines/{id}": {
            "parameters": [id_param()],
            "get": op(json!({
                "summary": "A pipeline and its live report", "operationId": "getPipeline",
                "responses": { "200": json_response("Its state.", schema("Pipeline")) }
            }), &[BAD, MISSING])
        },
        "/pipelines/{id}/cancel": {
            "parameters": [id_param()],
            "post": op(json!({
                "summary": "Cancel: running steps get SIGTERM, their grace, SIGKILL; the rest are cancelled",
                "operationId": "cancelPipeline",
                "responses": { "202": json_response("Cancelling; poll it to the end.", schema("Pipeline")) }
            }), &[BAD, MISSING, ("409", "The pipeline has already ended.")])
        }
    })
}

pub(crate) fn schemas() -> Value {
    let nullable = |t: &str| json!({ "type": [t, "null"] });
    let duration =
        json!({ "type": "string", "description": "Humantime, such as 500ms, 2s, 1m30s." });
    let ms = json!({ "type": "number", "minimum": 0 });
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    let totals = json!({ "type": "object",
        "required": ["passed", "failed", "allowed_failures", "skipped", "cancelled"],
        "properties": {
            "passed": { "type": "integer", "minimum": 0 }, "failed": { "type": "integer", "minimum": 0 },
            "allowed_failures": { "type": "integer", "minimum": 0 },
            "skipped": { "type": "integer", "minimum": 0 }, "cancelled": { "type": "integer", "minimum": 0 } } });
    json!({
        "PipelineRequest": {
            "type": "object", "required": ["steps"], "additionalProperties": false,
            "properties": {
                "steps": { "type": "array", "minItems": 1, "items": schema("PipelineStep") },
                "mode": { "type": "string", "enum": ["dag", "sequential", "parallel"] },
                "jobs": { "type": "integer", "minimum": 0, "description": "Steps at once at most; 0: no bound." },
                "fail_fast": { "type": "boolean" }
            }
        },
        "PipelineStep": {
            "type": "object", "required": ["name"], "additionalProperties": false,
            "description": "The keys of a pipeline file's [steps.NAME] table, plus `name`: `command` (+ `args`) or `run` (a bash script). Durations: strings or *_ms numbers.",
            "properties": {
                "name": { "type": "string", "minLength": 1 },
                "command": { "type": "string", "minLength": 1 }, "args": strings,
                "run": { "type": "string", "minLength": 1 }, "dir": { "type": "string" },
                "env": { "type": "object", "additionalProperties": { "type": ["string", "number", "boolean"] } },
                "after": strings, "allow_failure": { "type": "boolean" },
                "timeout": duration, "timeout_ms": ms, "grace": duration, "grace_ms": ms,
                "retry_delay": duration, "retry_delay_ms": ms,
                "retries": { "type": "integer", "minimum": 0, "maximum": u32::MAX }
            }
        },
        "PipelineTotals": totals,
        "PipelineStepState": {
            "type": "object", "required": ["name", "status"],
            "description": "`pending` (not started yet), `running` (an attempt runs or waits to retry), else its final report.",
            "properties": {
                "name": { "type": "string" },
                "status": { "type": "string", "enum": ["pending", "running", "passed", "failed",
                    "allowed_failure", "skipped", "cancelled", "timed_out"] },
                "exit_code": nullable("integer"), "signal": nullable("string"),
                "duration_ms": nullable("number"), "output": { "type": "string" },
                "error": nullable("string"), "attempts": { "type": "integer", "minimum": 0 },
                "blocked_by": nullable("string"), "process_id": nullable("string"),
                "started_at": nullable("string")
            }
        },
        "PipelineReport": {
            "type": "object", "required": ["mode", "success", "duration_ms", "totals", "steps"],
            "properties": {
                "mode": { "type": "string", "enum": ["dag", "sequential", "parallel"] },
                "success": { "type": ["boolean", "null"], "description": "null while running." },
                "duration_ms": { "type": "number" },
                "totals": schema("PipelineTotals"),
                "steps": { "type": "array", "items": schema("PipelineStepState") }
            }
        },
        "Pipeline": {
            "type": "object",
            "required": ["id", "status", "created_at", "ended_at", "cancel_requested", "error", "report"],
            "properties": {
                "id": { "type": "string" },
                "status": { "type": "string", "enum": ["running", "finished", "cancelled"] },
                "created_at": { "type": "string" }, "ended_at": nullable("string"),
                "cancel_requested": { "type": "boolean" }, "error": nullable("string"),
                "report": schema("PipelineReport")
            }
        },
        "PipelineSummary": {
            "type": "object",
            "required": ["id", "status", "created_at", "ended_at", "mode", "success", "totals", "steps"],
            "properties": {
                "id": { "type": "string" },
                "status": { "type": "string", "enum": ["running", "finished", "cancelled"] },
                "created_at": { "type": "string" }, "ended_at": nullable("string"),
                "cancel_requested": { "type": "boolean" }, "error": nullable("string"),
                "mode": { "type": "string" }, "success": { "type": ["boolean", "null"] },
                "totals": schema("PipelineTotals"), "steps": { "type": "integer", "minimum": 1 }
            }
        },
        "PipelineEvent": {
            "type": "object", "required": ["seq", "time", "event", "pipeline"],
            "description": "On /events beside process events: pipeline_started {mode, steps}, step_started {step, process_id, attempt}, step_finished {step, status, exit_code, duration_ms, attempts, error}, pipeline_finished {status, success, duration_ms, totals, error}.",
            "properties": {
                "seq": { "type": "integer" }, "time": { "type": "string" },
                "event": { "type": "string", "enum": ["pipeline_started", "step_started", "step_finished", "pipeline_finished"] },
                "pipeline": { "type": "string" }
            }
        }
    })
}
