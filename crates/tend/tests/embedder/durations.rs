//! Item 4: durations as `Duration`s (the wire keeps `duration_ms`), printable rounded.

use std::time::Duration;

use tend::runner::{Pipeline, Runner, Step};
use tend::{EventKind, Received, Service, StartOptions};

use crate::{LIMIT, within};

#[tokio::test]
async fn process_info_and_exited_event_carry_a_duration() {
    let service = Service::new();
    let mut events = service.subscribe();
    let process = service.start(StartOptions::new("sleep").arg("0.2")).unwrap();
    let info = within(LIMIT, process.wait()).await;

    let took = info.duration().expect("a run that started has a duration");
    assert!(took >= Duration::from_millis(150), "{took:?}");
    let from_wire = info.duration_ms.unwrap();
    assert!((took.as_secs_f64() * 1000.0 - from_wire).abs() < 0.001, "{took:?} vs {from_wire}");
    // Rounded for people: one decimal, never `606.7523030000001ms`.
    let shown = format!("{took:.1?}");
    let digits = shown.split('.').nth(1).unwrap_or_default();
    assert!(digits.trim_end_matches(char::is_alphabetic).len() <= 1, "{shown}");

    let exited = within(LIMIT, async {
        loop {
            match events.recv().await {
                Some(Received::Event(event)) if matches!(event.kind, EventKind::Exited { .. }) => {
                    break event;
                }
                Some(_) => {}
                None => panic!("the feed ended before `exited`"),
            }
        }
    })
    .await;
    assert_eq!(exited.kind.duration(), Some(took));
}

#[tokio::test]
async fn a_process_not_started_yet_has_no_duration_and_other_events_none() {
    let service = Service::new();
    let mut events = service.subscribe();
    let process = service.start(StartOptions::new("true")).unwrap();
    let started = within(LIMIT, events.recv()).await;
    let Some(Received::Event(started)) = started else { panic!("{started:?}") };
    assert!(matches!(started.kind, EventKind::Started { .. }));
    assert_eq!(started.kind.duration(), None);
    within(LIMIT, process.wait()).await;
}

#[tokio::test]
async fn reports_carry_durations_too() {
    let pipeline = Pipeline::new(vec![
        Step::command("nap", "sleep").arg("0.1"),
        Step::command("never", "false").after(["nap"]),
        Step::command("skipped", "true").after(["never"]),
    ])
    .unwrap();
    let report = within(LIMIT, Runner::new(Service::new()).run(&pipeline)).await;
    let nap = report.step("nap").unwrap();
    let nap_took = nap.duration().unwrap();
    assert!(nap_took >= Duration::from_millis(80), "{nap_took:?}");
    assert!(report.duration() >= nap_took, "{:?} < {nap_took:?}", report.duration());
    assert_eq!(report.step("skipped").unwrap().duration(), None);
}
