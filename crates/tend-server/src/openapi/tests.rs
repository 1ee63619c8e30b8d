//! The route list against the router: every route the router table names is documented, and
//! every documented route is answered by the router (not its "no route" fallback).

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, header};
use tower_service::Service;

use super::routes;
use super::table::Mount;
use crate::routes::api_routes;

/// `(method, path)` of every route: the `/api/v1` table ([`api_routes`]), and the routes
/// outside it, read from the router's source (`.route("/health", get(..))`).
fn router_table() -> BTreeSet<(String, String)> {
    let mut found: BTreeSet<(String, String)> = api_routes()
        .into_iter()
        .map(|(method, path)| (method.as_str().to_lowercase(), path.to_owned()))
        .collect();
    let source = include_str!("../routes/mod.rs");
    for call in source.split(".route(\"").skip(1) {
        let (path, rest) = call.split_once('"').expect("a quoted path");
        let (method, _) = rest.trim_start_matches([',', ' ']).split_once('(').expect("a method");
        found.insert((method.to_owned(), path.to_owned()));
    }
    found
}

#[test]
fn every_route_of_the_router_table_is_documented_and_nothing_else() {
    let table = router_table();
    assert!(table.len() > 20, "the router table's source was not understood: {table:?}");
    let documented: BTreeSet<(String, String)> = routes()
        .iter()
        .map(|route| (route.method.as_str().to_owned(), route.path.to_owned()))
        .collect();
    let undocumented: Vec<_> = table.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&table).collect();
    assert!(
        undocumented.is_empty() && extra.is_empty(),
        "routes/mod.rs and openapi/routes.rs disagree: undocumented {undocumented:?}, \
         documented but not routed {extra:?}"
    );
}

#[tokio::test]
async fn the_router_answers_every_documented_route() {
    let addr: std::net::SocketAddr = "127.0.0.1:7420".parse().unwrap();
    let state = crate::ServerState::new(tend::Service::new(), "token", addr);
    let mut router = crate::router(state);
    for route in routes() {
        let mut path = route.path.to_owned();
        for (name, _) in &route.path_params {
            path = path.replace(&format!("{{{name}}}"), "nosuch");
        }
        if route.mount == Mount::Api {
            path = format!("/api/v1{path}");
        }
        let method = route.method.as_str().to_uppercase();
        let request = Request::builder()
            .method(method.as_str())
            .uri(&path)
            .header(header::HOST, "127.0.0.1:7420")
            .header(header::AUTHORIZATION, "Bearer token")
            .body(Body::empty())
            .unwrap();
        std::future::poll_fn(|cx| Service::<Request<Body>>::poll_ready(&mut router, cx))
            .await
            .unwrap();
        let response = router.call(request).await.unwrap();
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(status != 405 && !text.contains("no route"), "{method} {path}: {status} {text}");
        let documented =
            route.answers.iter().map(|a| a.status).chain(route.failures.iter().map(|f| f.0));
        assert!(
            documented.clone().any(|s| s == status) || [401, 403].contains(&status),
            "{method} {path}: {status} is not documented ({text})"
        );
    }
}
