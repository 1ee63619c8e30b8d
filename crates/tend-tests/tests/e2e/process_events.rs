//! The event broadcast: order, sequence numbers, JSON shape, and subscribers that lag.

use std::collections::BTreeMap;
use std::time::Duration;

use tend::{
    Event, EventKind, Process, ProcessId, ProcessInfo, Reason, Received, Service, ServiceConfig,
    Signal, Status, Stream, Subscription,
};

use crate::support::{DEADLINE, fixture, wait_for_line};

async fn finished(process: &Process) -> ProcessInfo {
    tokio::time::timeout(DEADLINE, process.wait()).await.expect("the process ends in time")
}

async fn next(events: &mut Subscription) -> Received {
    tokio::time::timeout(DEADLINE, events.recv())
        .await
        .expect("an event within the deadline")
        .expect("the bus is open")
}

/// Every event until each of `ids` has published `exited`; fails on a lag.
async fn until_exited(events: &mut Subscription, ids: &[ProcessId]) -> Vec<Event> {
    let mut seen = Vec::new();
    let mut open = ids.len();
    while open > 0 {
        match next(events).await {
            Received::Event(event) => {
                if ids.contains(&event.id) && matches!(event.kind, EventKind::Exited { .. }) {
                    open -= 1;
                }
                seen.push(event);
            }
            Received::Lagged { missed } => panic!("lagged by {missed} with the default capacity"),
        }
    }
    seen
}

fn kind_name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::Started { .. } => "started",
        EventKind::Output { .. } => "output",
        EventKind::Killed { .. } => "killed",
        EventKind::Restarted { .. } => "restarted",
        EventKind::Exited { .. } => "exited",
        EventKind::Ready { .. } => "ready",
        EventKind::NotAlive { .. } => "not_alive",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_numbered_service_wide_and_ordered_per_process() {
    let service = Service::new();
    let mut events = service.subscribe();
    let printer = service.start(fixture(&["lines", "50", "--stream", "both"])).unwrap();
    let victim = service.start(fixture(&["ignore-term"])).unwrap();
    let obedient = service.start(fixture(&["sleep", "30"])).unwrap();
    wait_for_line(&victim, "ready").await;
    wait_for_line(&obedient, "ready").await;
    victim.kill().unwrap();
    obedient.shutdown(Duration::from_secs(5)).await.unwrap();
    let ids = [printer.id(), victim.id(), obedient.id()];
    let seen = until_exited(&mut events, &ids).await;

    let seqs: Vec<u64> = seen.iter().map(|e| e.seq).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "one sequence for the service: {seqs:?}");
    assert_eq!(seqs[0], 1, "the first event of a fresh service");

    let mut per_process: BTreeMap<ProcessId, Vec<&Event>> = BTreeMap::new();
    for event in &seen {
        per_process.entry(event.id).or_default().push(event);
    }
    let shape = |id: ProcessId| -> String {
        let mut names: Vec<&str> = per_process[&id].iter().map(|e| kind_name(&e.kind)).collect();
        names.dedup();
        names.join(" ")
    };
    assert_eq!(shape(printer.id()), "started output exited");
    assert_eq!(shape(victim.id()), "started output killed exited");
    assert_eq!(shape(obedient.id()), "started output killed exited");

    let printer_events = &per_process[&printer.id()];
    let EventKind::Started { pid, command, args } = &printer_events[0].kind else { unreachable!() };
    assert_eq!((Some(*pid), command.as_str()), (printer.pid(), crate::support::fixture_path()));
    assert_eq!(args, &["lines", "50", "--stream", "both"]);
    let lines = |stream: Stream| -> Vec<String> {
        printer_events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Output { stream: s, line, .. } if *s == stream => {
                    Some(String::from_utf8(line.to_vec()).unwrap())
                }
                _ => None,
            })
            .collect()
    };
    let expected: Vec<String> = (1..=50).map(|i| format!("line {i}")).collect();
    assert_eq!(lines(Stream::Stdout), expected, "in order, on stdout");
    assert_eq!(lines(Stream::Stderr), expected, "in order, on stderr");

    for (process, signal, reason) in
        [(&victim, Signal::KILL, Reason::Killed), (&obedient, Signal::TERM, Reason::Shutdown)]
    {
        let info = finished(process).await;
        let list = &per_process[&process.id()];
        let [.., killed, exited] = list.as_slice() else { unreachable!() };
        assert!(
            matches!(killed.kind, EventKind::Killed { signal: s } if s == signal),
            "{killed:?}"
        );
        let EventKind::Exited { status, exit_code, signal: s, reason: r, duration_ms, error } =
            &exited.kind
        else {
            panic!("last is {exited:?}")
        };
        assert_eq!(
            (*status, *exit_code, *s, *r, error),
            (Status::Killed, None, Some(signal), Some(reason), &None)
        );
        assert!((duration_ms - info.duration_ms.unwrap()).abs() < 1e-6, "the same duration");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_serialise_flat_with_an_event_tag() {
    let service = Service::new();
    let mut events = service.subscribe();
    let process = service.start(fixture(&["exit", "3"])).unwrap();
    let seen = until_exited(&mut events, &[process.id()]).await;
    let json: Vec<serde_json::Value> =
        seen.iter().map(|e| serde_json::to_value(e).unwrap()).collect();
    let keys = |value: &serde_json::Value| {
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys.join(",")
    };
    assert_eq!(keys(&json[0]), "args,command,event,id,pid,seq,time");
    assert_eq!(json[0]["event"], "started");
    let exited = json.last().unwrap();
    assert_eq!(keys(exited), "duration_ms,error,event,exit_code,id,reason,seq,signal,status,time");
    assert_eq!(
        (exited["status"].as_str(), exited["exit_code"].as_i64()),
        (Some("failed"), Some(3))
    );
    assert!(exited["signal"].is_null() && exited["reason"].is_null());
    assert_eq!(exited["id"], process.id().to_string());
    let time = exited["time"].as_str().unwrap();
    assert!(time.parse::<jiff::Timestamp>().is_ok() && time.ends_with('Z'), "RFC 3339 UTC: {time}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_seq_is_the_newest_event_published() {
    let service = Service::new();
    assert_eq!(service.last_seq(), 0, "nothing published yet");
    let mut events = service.subscribe();
    let process = service.start(fixture(&["lines", "3"])).unwrap();
    let seen = until_exited(&mut events, &[process.id()]).await;
    let newest = seen.last().unwrap().seq;
    // Nothing else publishes, so a subscriber that read `exited` has caught up exactly.
    assert_eq!(service.last_seq(), newest);
    assert_eq!(newest, seen.len() as u64, "started, three lines, exited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_subscriber_is_told_exactly_how_many_events_it_missed() {
    // Room for one batch. The child may write faster than the reader reads, so lines come in
    // batches of up to one read each; but 2000 lines (18 KiB) take several reads, and with
    // `started` and `exited` that is surely more batches than one.
    let service =
        Service::with_config(ServiceConfig { event_capacity: 1, ..ServiceConfig::default() });
    let mut events = service.subscribe();
    let process = service.start(fixture(&["lines", "2000"])).unwrap();
    finished(&process).await;

    let (mut received, mut missed, mut lags) = (0u64, 0u64, 0);
    let mut last_seq = 0;
    let mut after_lag = None;
    loop {
        match next(&mut events).await {
            Received::Lagged { missed: n } => {
                assert!(n > 0);
                missed += n;
                lags += 1;
                after_lag = Some(n);
            }
            Received::Event(event) => {
                if let Some(n) = after_lag.take() {
                    assert_eq!(event.seq, last_seq + n + 1, "continues right after the gap");
                } else if last_seq > 0 {
                    assert_eq!(event.seq, last_seq + 1);
                }
                last_seq = event.seq;
                received += 1;
                if matches!(event.kind, EventKind::Exited { .. }) {
                    break;
                }
            }
        }
    }
    assert!(lags >= 1, "one batch cannot hold it all");
    assert_eq!(received + missed, last_seq, "every event was either received or counted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_never_reads_does_not_hold_up_the_child() {
    let service =
        Service::with_config(ServiceConfig { event_capacity: 8, ..ServiceConfig::default() });
    let mut idle = service.subscribe();
    let process =
        service.start(fixture(&["flood", &(20 << 20).to_string(), "--line-len", "50"])).unwrap();
    let info = finished(&process).await;
    assert_eq!(info.exit_code, Some(0), "20 MiB of lines went through");
    assert!(matches!(next(&mut idle).await, Received::Lagged { missed } if missed > 1000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_start_now_and_end_with_the_service() {
    let service = Service::new();
    let before = service.start(fixture(&["lines", "3"])).unwrap();
    finished(&before).await;
    let mut events = service.subscribe();
    let after = service.start(fixture(&["exit", "0"])).unwrap();
    let Received::Event(first) = next(&mut events).await else { panic!("lagged") };
    assert_eq!(first.id, after.id(), "nothing from before subscribing is replayed");
    assert!(matches!(first.kind, EventKind::Started { .. }));
    finished(&after).await;

    drop((service, before, after));
    let end = tokio::time::timeout(DEADLINE, async {
        while let Some(received) = events.recv().await {
            assert!(matches!(received, Received::Event(_)));
        }
    });
    end.await.expect("the subscription ends once the service and its processes are gone");
}
