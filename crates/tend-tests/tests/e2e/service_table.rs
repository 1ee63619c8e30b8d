//! The service's process table: lookup, listing, removal and the retention limit.

use tend::{Error, Process, ProcessInfo, Service, ServiceConfig, Status, StdinMode};

use crate::support::{DEADLINE, fixture};

async fn finished(process: &Process) -> ProcessInfo {
    tokio::time::timeout(DEADLINE, process.wait()).await.expect("the process ends in time")
}

/// A process that runs until its stdin is closed.
fn held(service: &Service, name: &str) -> Process {
    service.start(fixture(&["echo"]).stdin(StdinMode::Piped).name(name)).unwrap()
}

async fn release(process: &Process) {
    process.close_stdin().await.unwrap();
    finished(process).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_finds_by_id_unique_prefix_or_name() {
    let service = Service::new();
    let first = held(&service, "web");
    let id = first.id().to_string();
    assert_eq!(service.get(&id).unwrap().id(), first.id());
    assert_eq!(service.get("web").unwrap().id(), first.id());
    // With one record any 4+ character prefix is unique; shorter ones are not looked up.
    assert_eq!(service.get(&id[..4]).unwrap().id(), first.id());
    assert!(matches!(service.get(&id[..3]), Err(Error::NotFound(_))));
    assert!(matches!(service.get("nope"), Err(Error::NotFound(_))));

    // UUID v7 ids begin with the time in milliseconds: ids minted together share a prefix.
    let second = held(&service, "web");
    let other = second.id().to_string();
    let shared = id.chars().zip(other.chars()).take_while(|(a, b)| a == b).count();
    assert!(shared >= 4, "{id} and {other}");
    let error = service.get(&id[..4]).unwrap_err();
    assert!(matches!(&error, Error::Ambiguous(key) if key == &id[..4]), "{error:?}");
    assert_eq!(service.get(&other[..shared + 1]).unwrap().id(), second.id(), "a longer prefix");
    assert_eq!(service.get(&id).unwrap().id(), first.id());

    release(&first).await;
    release(&second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_two_records_have_is_ambiguous_and_acts_on_neither() {
    let service = Service::new();
    let older = held(&service, "web");
    let newer = held(&service, "web");
    let ids = vec![older.id(), newer.id()];
    let error = service.kill("web").unwrap_err();
    assert!(
        matches!(&error, Error::AmbiguousName { name, ids: found } if name == "web" && *found == ids),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!("name `web` matches 2 processes: {}, {}; use an id", ids[0], ids[1])
    );
    let running: Vec<_> = service.running().iter().map(Process::id).collect();
    assert_eq!(running, ids, "neither was killed");

    // One running and one finished: still ambiguous (the finished one is a record `logs web`
    // or `rm web` could mean); once the finished record is removed the name is the running one's.
    release(&older).await;
    assert!(matches!(service.get("web"), Err(Error::AmbiguousName { .. })));
    service.remove(&older.id().to_string()).unwrap();
    assert_eq!(service.get("web").unwrap().id(), newer.id());
    release(&newer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unique_name_waits_for_its_holder_to_finish_not_to_be_removed() {
    let service = Service::new();
    let unique = || fixture(&["echo"]).stdin(StdinMode::Piped).name("web").unique_name(true);
    let holder = service.start(unique()).unwrap();
    let error = service.start(unique()).unwrap_err();
    assert!(
        matches!(&error, Error::NameTaken { name, id } if name == "web" && *id == holder.id()),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!("name `web` is taken by process {}, which has not finished", holder.id())
    );
    assert_eq!(service.list().len(), 1, "the refused start left no record");

    release(&holder).await;
    let next = service.start(unique()).expect("a finished process does not hold its name");
    release(&next).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_running_remove_and_clear() {
    let service = Service::new();
    let a = held(&service, "a");
    let b = service.run(fixture(&["exit", "0"]).name("b")).await.unwrap().info;
    let c = held(&service, "c");
    let d = service.run_checked(fixture(&["exit", "1"]).name("d")).await.unwrap_err();
    assert!(matches!(d, Error::Failed(_)));

    let names =
        |infos: Vec<ProcessInfo>| infos.into_iter().map(|i| i.name.unwrap()).collect::<Vec<_>>();
    assert_eq!(names(service.list()), ["a", "b", "c", "d"], "start order");
    let running: Vec<_> = service.running().iter().map(Process::id).collect();
    assert_eq!(running, [a.id(), c.id()]);

    let error = service.remove("a").unwrap_err();
    assert!(matches!(&error, Error::StillRunning(id) if *id == a.id().to_string()), "{error:?}");
    assert_eq!(service.list().len(), 4, "a refused removal removes nothing");
    let removed = service.remove("b").unwrap();
    assert_eq!((removed.id, removed.status), (b.id, Status::Exited));
    assert!(matches!(service.get("b"), Err(Error::NotFound(_))));
    assert!(matches!(service.remove("b"), Err(Error::NotFound(_))));

    release(&a).await;
    assert_eq!(service.clear(), 2, "a and d are finished");
    assert_eq!(names(service.list()), ["c"], "running processes stay");
    assert_eq!(service.clear(), 0);
    release(&c).await;
    assert_eq!(service.remove(&c.id().to_string()).unwrap().status, Status::Exited);
    assert!(service.list().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_records_beyond_the_limit_are_dropped_in_the_order_they_ended() {
    let service =
        Service::with_config(ServiceConfig { max_finished: 3, ..ServiceConfig::default() });
    let old_but_running = held(&service, "keeper");
    for i in 0..8 {
        let name = format!("run-{i}");
        service.run(fixture(&["exit", "0"]).name(name)).await.unwrap();
    }
    let names: Vec<_> = service.list().into_iter().map(|i| i.name.unwrap()).collect();
    assert_eq!(names, ["keeper", "run-5", "run-6", "run-7"], "running ones never count");

    // Once the keeper ends, the record that ended first goes, not the one started first:
    // the keeper's end is the newest news.
    release(&old_but_running).await;
    let names: Vec<_> = service.list().into_iter().map(|i| i.name.unwrap()).collect();
    assert_eq!(names, ["keeper", "run-6", "run-7"]);

    // More than the limit at once (a lower limit on a fresh service) is trimmed just as well.
    for i in 8..12 {
        service.run(fixture(&["exit", "0"]).name(format!("run-{i}"))).await.unwrap();
    }
    let names: Vec<_> = service.list().into_iter().map(|i| i.name.unwrap()).collect();
    assert_eq!(names, ["run-9", "run-10", "run-11"]);
    // A handle outlives its record.
    assert_eq!(old_but_running.info().status, Status::Exited);
}
