//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document, generated from the route list
//! ([`routes()`]) and the wire types' JSON Schemas.
//!
//! The schemas come from schemars (DESIGN.md §5; behind `tend`'s `schema` feature, which
//! this crate enables), derived on the types the routes read and write, so a change to a wire
//! type changes the document, and the test comparing it with the checked-in `openapi.json`
//! (`tests/openapi.rs`) fails until it is regenerated with
//! `cargo run -p tend-server --example openapi > openapi.json`, so the change shows in review.
//! Hand-written are only the schemas of types with custom serde (next to the type, as nextest
//! does) and of the WebSocket messages no Rust type holds (`events.rs`). aide and utoipa were
//! not taken: both want the handlers written their way, and a route list is all the document
//! needs. `routes.rs` is that list; a test checks it against the router's
//! [`api_routes`](crate::api_routes) both ways.

mod components;
mod events;
mod project_routes;
mod routes;
mod table;

use axum::Json;
use serde_json::{Map, Value, json};

use components::{Schemas, not_null};
use table::{Content, Mount, Route};

use routes::routes;

pub(crate) async fn document() -> Json<Value> {
    Json(openapi())
}

/// The OpenAPI 3.1 document of every route, as served at `/api/v1/openapi.json`: paths
/// relative to the server `/api/v1`, except `/health`, `/ready` and `/metrics`, whose path
/// items name the root as their server.
pub fn openapi() -> Value {
    let mut schemas = Schemas::new();
    let mut paths = Map::new();
    for route in routes() {
        let item = paths.entry(route.path).or_insert_with(|| match route.mount {
            Mount::Api => json!({}),
            Mount::Root => json!({ "servers": [{ "url": "/" }] }),
        });
        item[route.method.as_str()] = operation(&route, &mut schemas);
    }
    let mut document = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "tend supervisor API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Managed processes, pipelines, the daemon registry and live events. Durations are humantime strings or *_ms numbers; times RFC 3339 UTC. Every 4xx and 5xx answer of /api carries the error body {\"error\": {\"code\", \"message\"}} (ErrorBody).",
        },
        "servers": [{ "url": "/api/v1" }],
        "paths": paths,
        "security": [{ "bearer": [] }],
    });
    let components = schemas.finish(&mut document);
    document["components"] = json!({
        "schemas": components,
        "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
    });
    document
}

fn operation(route: &Route, schemas: &mut Schemas) -> Value {
    let path_keys: Vec<&str> = route.path_params.iter().map(|(name, _)| *name).collect();
    let mut parameters: Vec<Value> = route
        .path_params
        .iter()
        .map(|(name, description)| {
            json!({ "name": name, "in": "path", "required": true, "description": description,
                    "schema": { "type": "string", "minLength": 1 } })
        })
        .collect();
    if let Some((query, only)) = route.query {
        for (name, required, schema) in schemas.request_fields(query, &path_keys) {
            if only.is_none_or(|only| only.contains(&name.as_str())) {
                parameters.push(query_parameter(&name, required, schema));
            }
        }
    }
    for param in &route.extra_query {
        let mut parameter = query_parameter(param.name, param.required, param.schema.clone());
        parameter["description"] = Value::from(param.description);
        parameters.push(parameter);
    }
    let mut operation = json!({ "summary": route.summary, "operationId": route.operation_id });
    if let Some(description) = route.description {
        operation["description"] = Value::from(description);
    }
    if !parameters.is_empty() {
        operation["parameters"] = Value::Array(parameters);
    }
    if let Some((body, required)) = route.body {
        let schema = schemas.request(body, &path_keys);
        operation["requestBody"] = json!({
            "required": required,
            "content": { "application/json": { "schema": schema } },
        });
        for media in &route.text_bodies {
            operation["requestBody"]["content"][*media] = json!({ "schema": { "type": "string" } });
        }
    }
    let mut responses = Map::new();
    for answer in &route.answers {
        let content = match answer.content {
            Content::Json(schema) => {
                json!({ "application/json": { "schema": schemas.answer(schema) } })
            }
            Content::JsonOrBytes(schema) => json!({
                "application/json": { "schema": schemas.answer(schema) },
                "application/octet-stream": { "schema": { "type": "string" } },
            }),
            Content::Text(media) => json!({ (media): { "schema": { "type": "string" } } }),
            Content::Upgrade => Value::Null,
        };
        let mut response = json!({ "description": answer.description });
        if !content.is_null() {
            response["content"] = content;
        }
        responses.insert(answer.status.to_string(), response);
    }
    let error = schemas.answer(table::schema_of::<tend::wire::ErrorBody>);
    let common: &[(u16, &str)] = if route.token {
        &[(401, "Missing or wrong token."), (403, "Foreign Host or Origin.")]
    } else {
        &[(403, "Foreign Host.")]
    };
    for (status, description) in common.iter().chain(&route.failures) {
        responses.entry(status.to_string()).or_insert_with(|| {
            json!({ "description": description,
                    "content": { "application/json": { "schema": error.clone() } } })
        });
    }
    operation["responses"] = Value::Object(responses);
    operation["security"] = if route.token { json!([{ "bearer": [] }]) } else { json!([]) };
    for (key, schema) in &route.extensions {
        operation[*key] = schemas.answer(*schema);
    }
    operation
}

/// A query parameter from a request field: its description moves to the parameter.
fn query_parameter(name: &str, required: bool, schema: Value) -> Value {
    let mut schema = not_null(schema);
    let description = schema.as_object_mut().and_then(|map| map.remove("description"));
    let mut parameter =
        json!({ "name": name, "in": "query", "required": required, "schema": schema });
    if let Some(description) = description {
        parameter["description"] = description;
    }
    parameter
}

#[cfg(test)]
mod tests;
