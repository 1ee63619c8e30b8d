//! Issue 11, the typed wire model: every rule lives in the actions (the process limit obeyed
//! by any caller of `ServerState::actions()`), `process.stop` is a library action, every
//! route of the router table answers its method, and the same bad input has one code
//! whichever action refuses it.

use std::time::Duration;

use serde_json::{Value, json};
use tend::Service;
use tend::actions::{Actions, register_process_actions};

use crate::server_support::{TestServer, fixture};

/// Every action call here answers well within this.
const PATIENCE: Duration = Duration::from_secs(20);

async fn dispatch(actions: &Actions, name: &str, options: Value) -> Result<Value, String> {
    let answer = tokio::time::timeout(PATIENCE, actions.dispatch(name, options))
        .await
        .expect("the action to answer in time");
    answer.map_err(|error| error.code().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatching_through_the_server_actions_obeys_max_processes() {
    let server = TestServer::start_with(|mut config| {
        config.max_processes = Some(1);
        config
    })
    .await;
    let actions = server.state.actions();
    let first = dispatch(actions, "process.start", fixture(&["sleep", "30"])).await.unwrap();
    for name in ["process.start", "process.run"] {
        let refused = dispatch(actions, name, fixture(&["sleep", "30"])).await;
        assert_eq!(refused, Err("limit_reached".to_owned()), "{name}");
    }
    let pipeline = json!({ "steps": [{ "name": "a", "command": "true" }] });
    assert_eq!(
        dispatch(actions, "pipeline.start", pipeline).await,
        Err("limit_reached".to_owned())
    );
    assert_eq!(server.service.running().len(), 1, "nothing else started");
    // Through the API too, with its status.
    let reply = server.call("POST", "/api/v1/processes", Some(fixture(&["sleep", "30"]))).await;
    assert_eq!((reply.status, reply.code().as_str()), (429, "limit_reached"));
    dispatch(actions, "process.kill", json!({ "id": first["id"] })).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_stop_is_registered_by_the_library() {
    let actions = Actions::new();
    register_process_actions(&actions, Service::new());
    assert!(actions.is_registered("process.stop"));
    let started =
        dispatch(&actions, "process.start", json!({ "command": "sleep", "args": ["30"] })).await;
    let id = started.unwrap()["id"].clone();
    let stopped =
        dispatch(&actions, "process.stop", json!({ "id": id, "grace_ms": 10_000 })).await.unwrap();
    assert_eq!(stopped["status"], "killed", "{stopped}");
    assert_eq!(stopped["signal"], "SIGTERM", "sleep ends at SIGTERM, within the grace");
    let bare = dispatch(&actions, "process.stop", json!({ "id": id, "grace": 5 })).await;
    assert_eq!(bare, Err("invalid_request".to_owned()));
    let unknown = dispatch(&actions, "process.stop", json!({ "id": "no-such-process" })).await;
    assert_eq!(unknown, Err("not_found".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_of_the_table_answers_its_method() {
    let server = TestServer::start().await;
    let routes = tend_server::api_routes();
    for path in ["/processes/{id}/kill", "/processes/{id}/stop", "/processes/{id}/signal"] {
        assert!(routes.iter().any(|(_, listed)| *listed == path), "{path} is listed");
    }
    for (method, path) in routes {
        let concrete = path
            .replace("{id}", "no-such-id")
            .replace("{code}", "code")
            .replace("{daemon}", "daemon");
        let uri = format!("/api/v1{concrete}");
        let body = (method != "GET" && method != "DELETE").then(|| json!({}));
        let reply = server.call(method.as_str(), &uri, body).await;
        let text = String::from_utf8_lossy(&reply.body).into_owned();
        assert_ne!(reply.status, 405, "{method} {uri}: {text}");
        // An unknown id is the action's 404, naming the id; never "no route".
        assert!(!text.contains("no route"), "{method} {uri}: {} {text}", reply.status);
    }
    // A control verb that is not in the table is no route at all.
    let reply = server.call("POST", "/api/v1/processes/no-such-id/bogus", Some(json!({}))).await;
    assert_eq!(reply.status, 404);
    assert!(String::from_utf8_lossy(&reply.body).contains("no route"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_bad_option_is_invalid_request_from_a_process_and_a_pipeline() {
    let server = TestServer::start().await;
    let process = json!({ "command": "true", "timeout": 5 });
    let pipeline = json!({ "steps": [{ "name": "a", "command": "true", "timeout": 5 }] });
    for (path, body) in
        [("/api/v1/processes", process.clone()), ("/api/v1/pipelines", pipeline.clone())]
    {
        let reply = server.call("POST", path, Some(body)).await;
        assert_eq!((reply.status, reply.code().as_str()), (400, "invalid_request"), "{path}");
        let message = reply.json()["error"]["message"].as_str().unwrap_or_default().to_owned();
        assert!(message.contains("timeout_ms"), "{path}: {message}");
    }
    let actions = server.state.actions();
    for (name, options) in [("process.start", process), ("pipeline.start", pipeline)] {
        assert_eq!(dispatch(actions, name, options).await, Err("invalid_request".to_owned()));
    }
    assert!(server.service.list().is_empty(), "nothing was started");
}
