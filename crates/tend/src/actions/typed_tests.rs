//! [`Actions::call_typed`] answers exactly as [`Actions::call`] does, whichever way it goes.

use serde_json::{Value, json};

use super::{ActionError, Actions, register_process_actions};
use crate::wire::ListQuery;
use crate::{ProcessInfo, Service, StartOptions};

#[tokio::test]
async fn a_typed_list_is_the_json_list_byte_for_byte() {
    let service = Service::new();
    let actions = Actions::new();
    register_process_actions(&actions, service.clone());
    for code in ["0", "3"] {
        let options = StartOptions::new("sh").args(["-c", &format!("echo hi; exit {code}")]);
        service.start(options.name(format!("exit-{code}"))).unwrap().wait().await;
    }
    // Finished records: nothing in them moves between the two calls.
    let query = json!({"status": "failed"});
    let typed: Vec<ProcessInfo> =
        actions.call_typed::<ListQuery, _>("process.list", query.clone()).await.unwrap();
    let through_json: Vec<ProcessInfo> = actions.call("process.list", &query).await.unwrap();
    assert_eq!(typed.len(), 1);
    assert_eq!(
        serde_json::to_string(&typed).unwrap(),
        serde_json::to_string(&through_json).unwrap()
    );
}

#[tokio::test]
async fn bad_options_fail_typed_as_they_fail_through_json() {
    let actions = Actions::new();
    register_process_actions(&actions, Service::new());
    for bad in [json!({"status": "asleep"}), json!({"colour": "red"}), json!([1])] {
        let typed =
            actions.call_typed::<ListQuery, Vec<ProcessInfo>>("process.list", bad.clone()).await;
        let through_json = actions.call::<_, Vec<ProcessInfo>>("process.list", &bad).await;
        assert_eq!(typed.unwrap_err(), through_json.unwrap_err(), "{bad}");
    }
}

#[tokio::test]
async fn a_handler_registered_untyped_gets_the_options_as_they_are() {
    let actions = Actions::new();
    register_process_actions(&actions, Service::new());
    // A host's own `process.list`, which takes a key the typed request would refuse.
    actions.register("process.list", |options: Value| async move { Ok(json!([options])) });
    let answer: Vec<Value> =
        actions.call_typed::<ListQuery, _>("process.list", json!({"mine": 1})).await.unwrap();
    assert_eq!(answer, vec![json!({"mine": 1})]);
    let missing = actions.call_typed::<ListQuery, Value>("nothing", json!({})).await;
    assert_eq!(missing.unwrap_err(), ActionError::NotRegistered { name: "nothing".into() });
}

#[tokio::test]
async fn a_typed_handler_answers_without_json_in_between() {
    let actions = Actions::new();
    // NaN has no JSON: through JSON it comes back as `null`, which is no f64.
    actions.register_typed("nan", |_: crate::wire::Empty| async { Ok(f64::NAN) });
    let typed: f64 = actions.call_typed::<crate::wire::Empty, _>("nan", json!({})).await.unwrap();
    assert!(typed.is_nan());
    assert!(actions.call::<_, f64>("nan", &json!({})).await.is_err());
}
