//! The OpenAPI document, generated from the wire types, against the checked-in `openapi.json`:
//! a change to a wire type (or a route) shows in review as a change to that file.

use std::path::Path;

use axum::body::Body;
use axum::http::Request;
use serde_json::Value;
use tower_service::Service;

const REGENERATE: &str = "cargo run -p tend-server --example openapi > openapi.json";

fn checked_in() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; create it with `{REGENERATE}`", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{}: {e}; regenerate it with `{REGENERATE}`", path.display()))
}

/// A value for a message: absent, or its JSON cut to 200 characters.
fn short(value: Option<&Value>) -> String {
    match value {
        None => "(absent)".to_owned(),
        Some(value) => {
            let text = value.to_string();
            match text.char_indices().nth(200) {
                Some((cut, _)) => format!("{}…", &text[..cut]),
                None => text,
            }
        }
    }
}

/// The first place where `a` and `b` differ, as a JSON pointer with both values.
fn first_difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|key| match (x.get(key), y.get(key)) {
                (Some(v), Some(w)) => first_difference(v, w, &format!("{at}/{key}")),
                (v, w) => Some(format!("{at}/{key}: {} vs {}", short(v), short(w))),
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, &format!("{at}/{i}"))),
        _ => (a != b).then(|| format!("{at}: {} vs {}", short(Some(a)), short(Some(b)))),
    }
}

fn assert_same(served: &Value, what: &str) {
    if let Some(difference) = first_difference(served, &checked_in(), "") {
        panic!(
            "the {what} OpenAPI document differs from openapi.json (generated vs checked in) at \
             {difference}\nIf the change is intended, regenerate it: {REGENERATE}"
        );
    }
}

#[test]
fn the_generated_document_is_the_checked_in_one() {
    assert_same(&tend_server::openapi(), "generated");
}

#[tokio::test]
async fn the_served_document_is_the_checked_in_one() {
    let addr: std::net::SocketAddr = "127.0.0.1:7420".parse().unwrap();
    let state = tend_server::ServerState::new(tend::Service::new(), "token", addr);
    let mut router = tend_server::router(state);
    let request = Request::get("/api/v1/openapi.json")
        .header("host", "127.0.0.1:7420")
        .header("authorization", "Bearer token")
        .body(Body::empty())
        .unwrap();
    std::future::poll_fn(|cx| Service::<Request<Body>>::poll_ready(&mut router, cx)).await.unwrap();
    let response = router.call(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = axum::body::to_bytes(response.into_body(), 16 << 20).await.unwrap();
    assert_same(&serde_json::from_slice(&body).unwrap(), "served");
}
