//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of every route and schema,
//! written by hand so it says exactly what the routes do (schemathesis checks it in CI).

use axum::Json;
use serde_json::{Value, json};

pub(crate) async fn document() -> Json<Value> {
    Json(openapi())
}

pub(crate) fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

pub(crate) fn json_response(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn info_ref() -> Value {
    json!({ "$ref": "#/components/schemas/ProcessInfo" })
}

fn id_param() -> Value {
    json!({
        "name": "id", "in": "path", "required": true,
        "description": "Full id, unique id prefix of at least 4 characters, or name.",
        "schema": { "type": "string", "minLength": 1 }
    })
}

/// Adds the responses every `/api` route can give.
pub(crate) fn op(mut operation: Value, errors: &[(&str, &str)]) -> Value {
    let responses = operation["responses"].as_object_mut().expect("responses");
    for (code, what) in [("401", "Missing or wrong token."), ("403", "Foreign Host or Origin.")]
        .iter()
        .chain(errors)
    {
        responses.insert((*code).to_owned(), error_response(what));
    }
    operation["security"] = json!([{ "bearer": [] }]);
    operation
}

/// `schema` (an object schema) with each optional property also allowing `null`: the
/// actions behind the routes read a `null` option as an absent one.
fn nullable_optionals(mut schema: Value) -> Value {
    let required: Vec<Value> =
        schema.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, property) in properties.iter_mut() {
            if !required.contains(&Value::String(name.clone())) {
                *property = json!({ "anyOf": [property.take(), { "type": "null" }] });
            }
        }
    }
    schema
}

pub(crate) fn body(schema: Value, required: bool) -> Value {
    json!({ "required": required, "content": { "application/json": { "schema": schema } } })
}

pub(crate) const BAD: (&str, &str) = ("400", "Malformed body or parameter (named in the message).");
const MISSING: (&str, &str) = ("404", "No such process.");
const EVICTED: (&str, &str) =
    ("410", "The process ended and its record was dropped (`tend daemon --max-finished`).");
const STATE: (&str, &str) = ("409", "The process is in the wrong state.");
pub(crate) const LARGE: (&str, &str) = ("413", "Body over 1 MiB.");

fn process_paths() -> Value {
    let start_body = body(json!({ "$ref": "#/components/schemas/StartRequest" }), true);
    json!({
        "/processes": {
            "get": op(json!({
                "summary": "List managed processes", "operationId": "listProcesses",
                "parameters": [
                    { "name": "status", "in": "query", "schema": { "$ref": "#/components/schemas/Status" } },
                    { "name": "label", "in": "query", "description": "key=value", "schema": { "type": "string" } }
                ],
                "responses": { "200": json_response("Process info, in start order.", json!({ "type": "array", "items": info_ref() })) }
            }), &[BAD]),
            "post": op(json!({
                "summary": "Start a process", "operationId": "startProcess", "requestBody": start_body,
                "responses": { "201": json_response("Started.", info_ref()) }
            }), &[BAD, LARGE, ("422", "The program could not be started."), ("429", "Process limit reached.")])
        },
        "/processes/run": {
            "post": op(json!({
                "summary": "Run a process to the end", "operationId": "runProcess", "requestBody": start_body,
                "responses": { "200": json_response("Ended (whatever its exit status).", json!({ "$ref": "#/components/schemas/RunResult" })) }
            }), &[BAD, LARGE, ("422", "The program could not be started."), ("429", "Process limit reached.")])
        },
        "/processes/{id}": {
            "parameters": [id_param()],
            "get": op(json!({ "summary": "One process", "operationId": "getProcess",
                "responses": { "200": json_response("Its info.", info_ref()) } }), &[BAD, MISSING, EVICTED]),
            "delete": op(json!({ "summary": "Remove a finished record", "operationId": "removeProcess",
                "responses": { "200": json_response("The removed record.", info_ref()) } }), &[BAD, MISSING, EVICTED, STATE])
        },
        "/processes/{id}/output": {
            "parameters": [id_param()],
            "get": op(json!({
                "summary": "Output lines since a sequence number", "operationId": "processOutput",
                "parameters": [
                    { "name": "since", "in": "query", "schema": { "type": "integer", "minimum": 0 } },
                    { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 0 } },
                    { "name": "format", "in": "query", "schema": { "type": "string", "enum": ["json", "text"] } },
                    { "name": "offset", "in": "query", "description": "format=text: first byte wanted (0 = the first ever written)",
                      "schema": { "type": "integer", "minimum": 0 } },
                    { "name": "follow", "in": "query", "description": "format=text: wait up to 10 s for bytes past `offset` or the end",
                      "schema": { "type": "boolean" } }
                ],
                "responses": { "200": {
                    "description": "Lines (JSON), or the captured bytes with format=text.",
                    "content": {
                        "application/json": { "schema": { "$ref": "#/components/schemas/OutputPage" } },
                        "application/octet-stream": { "schema": { "type": "string" } }
                    }
                } }
            }), &[BAD, MISSING, EVICTED])
        },
        "/processes/{id}/wait": {
            "parameters": [id_param()],
            "post": op(json!({
                "summary": "Wait for the end (or the timeout)", "operationId": "waitProcess",
                "parameters": [{ "name": "timeout", "in": "query", "description": "Duration such as 2s.", "schema": { "type": "string" } }],
                "responses": { "200": json_response("Its info; still running if the timeout passed first.", info_ref()) }
            }), &[BAD, MISSING, EVICTED])
        },
        "/processes/{id}/input": {
            "parameters": [id_param()],
            "post": op(json!({
                "summary": "Write to stdin", "operationId": "processInput",
                "requestBody": body(json!({ "type": "object", "required": ["data"], "additionalProperties": false,
                    "properties": { "data": { "type": "string" } } }), true),
                "responses": { "200": json_response("Written.", json!({ "type": "object" })) }
            }), &[BAD, MISSING, EVICTED, STATE, LARGE])
        },
        "/processes/{id}/close-stdin": {
            "parameters": [id_param()],
            "post": op(json!({ "summary": "Close stdin", "operationId": "closeStdin",
                "responses": { "200": json_response("Closed.", json!({ "type": "object" })) } }), &[BAD, MISSING, EVICTED, STATE])
        },
        "/processes/{id}/signal": {
            "parameters": [id_param()],
            "post": op(json!({
                "summary": "Send a signal to the process (its leader, once)", "operationId": "signalProcess",
                "requestBody": body(json!({ "type": "object", "required": ["signal"], "additionalProperties": false,
                    "properties": { "signal": { "oneOf": [{ "type": "string" }, { "type": "integer" }] } } }), true),
                "responses": { "200": json_response("Its info.", info_ref()) }
            }), &[BAD, MISSING, EVICTED, STATE, LARGE])
        },
        "/processes/{id}/kill": {
            "parameters": [id_param()],
            "post": op(json!({ "summary": "SIGKILL its group", "operationId": "killProcess",
                "responses": { "200": json_response("Its info.", info_ref()) } }), &[BAD, MISSING, EVICTED])
        },
        "/processes/{id}/stop": {
            "parameters": [id_param()],
            "post": op(json!({
                "summary": "Stop gracefully: SIGTERM, grace, SIGKILL", "operationId": "stopProcess",
                "requestBody": body(nullable_optionals(json!({ "type": "object", "additionalProperties": false,
                    "properties": { "grace": { "type": "string" }, "grace_ms": { "type": "number", "minimum": 0 } } })), false),
                "responses": { "200": json_response("Its final info.", info_ref()) }
            }), &[BAD, MISSING, EVICTED, LARGE])
        }
    })
}

fn other_paths() -> Value {
    let code =
        json!({ "name": "code", "in": "path", "required": true, "schema": { "type": "string" } });
    let daemon =
        json!({ "name": "daemon", "in": "path", "required": true, "schema": { "type": "string" } });
    let entry = json!({ "$ref": "#/components/schemas/DaemonEntry" });
    json!({
        "/daemons": { "get": op(json!({ "summary": "Running daemons in the registry", "operationId": "listDaemons",
            "responses": { "200": json_response("Live entries.", json!({ "type": "array", "items": entry.clone() })) } }), &[]) },
        "/daemons/{code}/{daemon}": { "parameters": [code, daemon],
            "get": op(json!({ "summary": "One daemon", "operationId": "getDaemon",
                "responses": { "200": json_response("Its entry.", entry.clone()) } }), &[BAD, ("404", "No such daemon.")]) },
        "/daemons/{code}/{daemon}/health": { "parameters": [code, daemon],
            "get": op(json!({ "summary": "Probe a daemon's health", "operationId": "daemonHealth",
                "responses": { "200": json_response("The probe's outcome.", json!({ "type": "object",
                    "required": ["healthy", "message"],
                    "properties": { "healthy": { "type": "boolean" }, "message": { "type": "string" } } })) } }),
                &[BAD, ("404", "No such daemon.")]) },
        "/daemons/{code}/{daemon}/stop": { "parameters": [code, daemon],
            "post": op(json!({ "summary": "SIGTERM a registered daemon whose PID still matches its entry", "operationId": "stopDaemon",
                "responses": { "200": json_response("Signalled.", json!({ "type": "object", "required": ["signalled", "entry"],
                    "properties": { "signalled": { "type": "boolean" }, "entry": entry } })) } }),
                &[BAD, ("404", "No such daemon."), ("409", "The entry cannot be verified (no start time).")]) },
        "/events": { "get": op(json!({
            "summary": "WebSocket of events: replay from the log since `since`, then live",
            "operationId": "events",
            "parameters": [
                { "name": "since", "in": "query", "schema": { "type": "integer", "minimum": 0 } },
                { "name": "token", "in": "query", "schema": { "type": "string" } }
            ],
            "responses": { "101": { "description": "Switching to WebSocket; each message is an Event, a PipelineEvent or {event: lagged, missed}." } }
        }), &[BAD]) },
        "/hello": { "get": {
            "summary": "The server proves it holds the token (no token needed)", "operationId": "hello",
            "parameters": [{ "name": "nonce", "in": "query", "required": true,
                "schema": { "type": "string", "pattern": "^[0-9a-fA-F]{32,128}$" } }],
            "responses": {
                "200": json_response("The bound address and hex HMAC-SHA256(token, \"tend-hello-v1\\0\" + nonce + \"\\0\" + addr).",
                    json!({ "type": "object", "required": ["addr", "proof"], "additionalProperties": false,
                        "properties": { "addr": { "type": "string" }, "proof": { "type": "string" } } })),
                "400": error_response(BAD.1), "403": error_response("Foreign Host.")
            },
            "security": [] } },
        "/openapi.json": { "get": op(json!({ "summary": "This document", "operationId": "openapi",
            "responses": { "200": json_response("OpenAPI 3.1.", json!({ "type": "object" })) } }), &[]) }
    })
}

fn schemas() -> Value {
    let nullable = |t: &str| json!({ "type": [t, "null"] });
    json!({
        "Status": { "type": "string", "enum": ["pending", "running", "exited", "failed", "killed"] },
        "Error": { "type": "object", "required": ["error"], "properties": { "error": {
            "type": "object", "required": ["code", "message"],
            "properties": { "code": { "type": "string" }, "message": { "type": "string" } } } } },
        "ProcessInfo": {
            "type": "object",
            "required": ["id", "name", "command", "args", "dir", "pid", "status", "exit_code", "signal",
                         "reason", "started_at", "ended_at", "duration_ms", "restarts", "labels", "error"],
            "properties": {
                "id": { "type": "string", "format": "uuid" },
                "name": nullable("string"), "command": { "type": "string" },
                "args": { "type": "array", "items": { "type": "string" } },
                "dir": nullable("string"), "pid": nullable("integer"),
                "status": { "$ref": "#/components/schemas/Status" },
                "exit_code": nullable("integer"), "signal": nullable("string"),
                "reason": { "type": ["string", "null"], "enum": ["timeout", "killed", "shutdown", null] },
                "started_at": nullable("string"), "ended_at": nullable("string"),
                "duration_ms": nullable("number"), "restarts": { "type": "integer", "minimum": 0 },
                "labels": { "type": "object", "additionalProperties": { "type": "string" } },
                "error": nullable("string")
            }
        },
        "StartRequest": nullable_optionals(json!({
            "type": "object", "additionalProperties": false,
            "description": "`command` (+ `args`) or `run` (a bash script). Durations: strings such as \"2s\", or `*_ms` numbers. `null` is the same as leaving a key out.",
            "properties": {
                "command": { "type": "string", "minLength": 1 },
                "args": { "type": "array", "items": { "type": "string" } },
                "run": { "type": "string" }, "dir": { "type": "string" },
                "env": { "type": "object", "additionalProperties": { "type": "string" } },
                "name": { "type": "string" },
                "labels": { "type": "object", "additionalProperties": { "type": "string" } },
                "timeout": { "type": "string" }, "timeout_ms": { "type": "number", "minimum": 0 },
                "grace": { "type": "string" }, "grace_ms": { "type": "number", "minimum": 0 },
                "capture": { "type": "boolean" }, "detach": { "type": "boolean" },
                "stdin": { "type": "string", "enum": ["null", "piped"] },
                "restart": { "type": "string", "enum": ["never", "on_failure", "always"] },
                "max_restarts": { "oneOf": [{ "type": "integer", "minimum": 0 }, { "type": "string", "enum": ["unlimited"] }] },
                "restart_delay": { "type": "string" }, "restart_delay_ms": { "type": "number", "minimum": 0 }
            }
        })),
        "RunResult": { "type": "object", "required": ["info", "output"], "properties": {
            "info": info_ref(), "output": { "type": "string" } } },
        "OutputPage": { "type": "object", "required": ["lines", "next_seq", "dropped"], "properties": {
            "lines": { "type": "array", "items": { "type": "object", "required": ["seq", "stream", "line"], "properties": {
                "seq": { "type": "integer" }, "stream": { "type": "string", "enum": ["stdout", "stderr"] },
                "line": { "type": "string" }, "partial": { "type": "boolean" } } } },
            "next_seq": { "type": "integer", "minimum": 0 }, "dropped": { "type": "integer", "minimum": 0 } } },
        "DaemonEntry": { "type": "object", "required": ["code", "daemon", "pid"], "properties": {
            "code": { "type": "string" }, "daemon": { "type": "string" }, "pid": { "type": "integer" },
            "health": { "type": "string" }, "project": { "type": "string" }, "binary": { "type": "string" },
            "started": { "type": "string" } } }
    })
}

/// The OpenAPI 3.1 document of the `/api/v1` routes, as served at `/api/v1/openapi.json`.
pub fn openapi() -> Value {
    let mut paths = process_paths();
    if let Some(paths) = paths.as_object_mut() {
        for more in [other_paths(), crate::pipelines::openapi::paths()] {
            if let Value::Object(more) = more {
                paths.extend(more);
            }
        }
    }
    let mut schemas = schemas();
    if let (Some(schemas), Value::Object(more)) =
        (schemas.as_object_mut(), crate::pipelines::openapi::schemas())
    {
        schemas.extend(more);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "tend supervisor API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Managed processes, pipelines, the daemon registry and live events. Durations are humantime strings or *_ms numbers; times RFC 3339 UTC."
        },
        "servers": [{ "url": "/api/v1" }],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } }
        },
        "security": [{ "bearer": [] }]
    })
}
