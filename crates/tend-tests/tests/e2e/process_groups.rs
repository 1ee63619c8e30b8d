//! Process groups: every child leads its own; kill, shutdown, the end of the service and the
//! death of the supervisor reach the whole group; detached children are left alone.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tend::{Process, ProcessInfo, Reason, Service, Signal, Status};

use crate::support::{
    DEADLINE, Strays, children_of, eventually, fixture, group_alive, group_members, line_channel,
    next_line, pid_alive, pids_in, runtime, send_signal, stat, until, wait_for_line,
};

async fn finished(process: &Process) -> ProcessInfo {
    tokio::time::timeout(DEADLINE, process.wait()).await.expect("the process ends in time")
}

/// Starts `tend-fixture spawn N 60` and returns it with the PIDs of its N children.
async fn start_family(
    service: &Service,
    children: usize,
    strays: &mut Strays,
) -> (Process, Vec<u32>) {
    let process = service.start(fixture(&["spawn", &children.to_string(), "60"])).unwrap();
    wait_for_line(&process, "ready").await;
    let pids = pids_in(&process.output().to_string_lossy());
    assert_eq!(pids.len(), children);
    for &pid in &pids {
        strays.watch(pid);
    }
    (process, pids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_child_leads_a_group_of_its_own_and_detached_ones_a_session() {
    let service = Service::new();
    let me = stat(std::process::id()).unwrap();
    let attached = service.start(fixture(&["sleep", "30"])).unwrap();
    let detached = service.start(fixture(&["sleep", "30"]).detach(true)).unwrap();
    for process in [&attached, &detached] {
        wait_for_line(process, "ready").await;
    }
    let (a, d) = (attached.pid().unwrap(), detached.pid().unwrap());
    let (a_stat, d_stat) = (stat(a).unwrap(), stat(d).unwrap());
    assert_eq!(a_stat.pgrp, a, "a group of its own");
    assert_ne!(a_stat.pgrp, me.pgrp);
    assert_eq!(a_stat.session, me.session, "attached children stay in our session");
    assert_eq!((d_stat.pgrp, d_stat.session), (d, d), "detached: its own session too");
    for process in [&attached, &detached] {
        process.kill().unwrap();
        finished(process).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_leaves_no_member_of_the_group() {
    let mut strays = Strays::default();
    let service = Service::new();
    let (process, children) = start_family(&service, 3, &mut strays).await;
    let pgid = process.pid().unwrap();
    let mut members = group_members(pgid);
    members.sort_unstable();
    let mut expected = [&[pgid][..], &children].concat();
    expected.sort_unstable();
    assert_eq!(members, expected, "the leader and its three children share the group");

    process.kill().unwrap();
    assert_eq!(finished(&process).await.signal, Some(Signal::KILL));
    until(DEADLINE, "the whole group to die", || !group_alive(pgid)).await;
    assert!(children.iter().all(|&pid| !pid_alive(pid)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_reaches_the_whole_group() {
    let mut strays = Strays::default();
    let service = Service::new();
    let (process, children) = start_family(&service, 2, &mut strays).await;
    let info = process.shutdown(Duration::from_secs(5)).await.unwrap();
    assert_eq!((info.reason, info.signal), (Some(Reason::Shutdown), Some(Signal::TERM)));
    until(DEADLINE, "the children to die of SIGTERM", || children.iter().all(|&p| !pid_alive(p)))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_left_behind_by_the_leader_are_killed_after_the_leak_timeout() {
    let mut strays = Strays::default();
    let service = Service::new();
    let grandchild_of = |process: &Process| -> u32 {
        let stderr = String::from_utf8(process.output().stderr()).unwrap();
        let pid = stderr.trim_end().strip_prefix("grandchild ").expect("`grandchild PID`");
        pid.parse().unwrap()
    };

    // Default: the leader exits at once; its grandchild, same group, holds the pipes.
    let start = Instant::now();
    let process = service.start(fixture(&["grandchild", "60"])).unwrap();
    let info = finished(&process).await;
    let took = start.elapsed();
    let grandchild = strays.watch(grandchild_of(&process));
    assert_eq!(info.status, Status::Exited);
    assert!(took < Duration::from_secs(1), "exit reported after {took:?}");
    until(DEADLINE, "the left-behind member to be killed", || !pid_alive(grandchild)).await;
    assert!(!group_alive(info.pid.unwrap()));

    // A longer leak timeout: output is drained (and the member spared) that much longer.
    let start = Instant::now();
    let process = service
        .start(fixture(&["grandchild", "60"]).leak_timeout(Duration::from_millis(1500)))
        .unwrap();
    finished(&process).await;
    assert!(start.elapsed() >= Duration::from_millis(1500), "took {:?}", start.elapsed());
    let grandchild = strays.watch(grandchild_of(&process));
    until(DEADLINE, "the left-behind member to be killed", || !pid_alive(grandchild)).await;

    // Opting out keeps them: `kill_group(false)`, or a detached process.
    for (detach, options) in [
        (false, fixture(&["grandchild", "60"]).kill_group(false)),
        (true, fixture(&["grandchild", "60"]).detach(true)),
    ] {
        let start = Instant::now();
        let process = service.start(options).unwrap();
        let info = finished(&process).await;
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "exit reported after {:?}",
            start.elapsed()
        );
        assert_eq!(info.status, Status::Exited);
        let grandchild = strays.watch(grandchild_of(&process));
        assert!(pid_alive(grandchild), "detach={detach}: the member was killed");
        send_signal(grandchild, rustix::process::Signal::KILL);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_shutdown_stops_every_attached_process_concurrently() {
    let service = Service::new();
    let grace = Duration::from_millis(800);
    let mut stubborn = Vec::new();
    for _ in 0..3 {
        let process = service.start(fixture(&["ignore-term"]).grace(grace)).unwrap();
        wait_for_line(&process, "ready").await;
        stubborn.push(process);
    }
    let mut strays = Strays::default();
    let (family, children) = start_family(&service, 2, &mut strays).await;
    let detached = service.start(fixture(&["sleep", "60"]).detach(true)).unwrap();
    let done = service.start(fixture(&["exit", "0"])).unwrap();
    finished(&done).await;

    let start = Instant::now();
    tokio::time::timeout(DEADLINE, service.shutdown(grace)).await.expect("shutdown hangs");
    assert_eq!(family.info().reason, Some(Reason::Shutdown));
    assert!(children.iter().all(|&pid| !pid_alive(pid)), "a group member outlived shutdown");
    let took = start.elapsed();
    assert!(took >= grace, "SIGKILL before the grace period: {took:?}");
    assert!(took < grace * 2, "one after the other, not concurrently: {took:?}");
    for process in &stubborn {
        let info = process.info();
        assert_eq!(
            (info.status, info.reason, info.signal),
            (Status::Killed, Some(Reason::Shutdown), Some(Signal::KILL))
        );
    }
    assert_eq!(done.info().status, Status::Exited, "a finished process is left as it was");
    assert_eq!(detached.status(), Status::Running, "detached processes are not ours to stop");
    assert_eq!(service.running().len(), 1);
    detached.kill().unwrap();
    finished(&detached).await;
}

#[test]
fn dropping_the_last_service_kills_attached_groups_but_not_detached_ones() {
    let mut strays = Strays::default();
    let runtime = runtime();
    runtime.block_on(async {
        let service = Service::new();
        let (family, children) = start_family(&service, 2, &mut strays).await;
        let detached = service.start(fixture(&["sleep", "60"]).detach(true)).unwrap();
        wait_for_line(&detached, "ready").await;
        let detached_pid = strays.watch(detached.pid().unwrap());
        let leader = family.pid().unwrap();

        let clone = service.clone();
        drop(service);
        assert!(group_alive(leader), "a clone keeps the service, and its children, alive");
        drop(clone);

        until(DEADLINE, "the family to die with the service", || {
            !pid_alive(leader) && children.iter().all(|&p| !pid_alive(p))
        })
        .await;
        // The guardian has been reaped inside the drop, so its work is done: the detached
        // child's survival is not a matter of timing.
        assert!(pid_alive(detached_pid), "the detached child was killed");
        let info = finished(&family).await;
        assert_eq!(info.signal, Some(Signal::KILL));
        assert_eq!(detached.status(), Status::Running);
        detached.kill().unwrap();
        finished(&detached).await;
    });
}

/// Names this test for the copy of the test binary that plays the supervisor.
const SUPERVISOR_TEST: &str =
    "process_groups::sigkill_of_the_supervisor_kills_its_groups_but_not_detached_ones";
/// Set (to anything) in the copy that plays the supervisor.
const SUPERVISOR_ROLE: &str = "TEND_E2E_SUPERVISOR";
/// Prefix of the supervisor's lines to its parent, apart from the harness's own output.
const MARK: &str = "@tend-supervisor ";

/// The supervisor dies by SIGKILL, so no destructor runs: only the guardian can clean up.
/// The test binary re-runs itself, filtered to this test, to be that supervisor.
#[test]
fn sigkill_of_the_supervisor_kills_its_groups_but_not_detached_ones() {
    if std::env::var_os(SUPERVISOR_ROLE).is_some() {
        return play_supervisor();
    }
    let mut strays = Strays::default();
    let exe = std::env::current_exe().unwrap();
    let mut supervisor = Command::new(exe)
        .args([SUPERVISOR_TEST, "--exact", "--nocapture", "--test-threads", "1"])
        .env(SUPERVISOR_ROLE, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = line_channel(supervisor.stdout.take().unwrap());
    let said = || loop {
        let line = next_line(&lines, "the supervisor's report");
        if let Some(at) = line.find(MARK) {
            break line[at + MARK.len()..].to_owned();
        }
    };
    let family: Vec<u32> =
        said().strip_prefix("family ").unwrap().split(' ').map(|p| p.parse().unwrap()).collect();
    let detached: u32 = said().strip_prefix("detached ").unwrap().parse().unwrap();
    assert_eq!(said(), "ready");
    family.iter().chain([&detached]).for_each(|&pid| {
        strays.watch(pid);
    });
    // Its children: the family's leader, the detached child and the guardian (which may not
    // have renamed itself `tend-guardian` yet on a busy machine, so it is found by elimination).
    let guardians: Vec<u32> = children_of(supervisor.id())
        .into_iter()
        .filter(|pid| *pid != family[0] && *pid != detached)
        .collect();
    assert_eq!(guardians.len(), 1, "one guardian per service: {guardians:?}");
    assert!(family.iter().all(|&pid| pid_alive(pid)));

    supervisor.kill().unwrap();
    let killed = Instant::now();
    supervisor.wait().unwrap();
    let took = eventually(Duration::from_secs(1), "the family to die with its supervisor", || {
        family.iter().all(|&pid| !pid_alive(pid))
    });
    eprintln!(
        "family gone {took:?} after the supervisor's SIGKILL ({:?} in all)",
        killed.elapsed()
    );
    eventually(DEADLINE, "the guardian to finish", || !pid_alive(guardians[0]));
    assert!(pid_alive(detached), "the detached child died with the supervisor");
}

fn play_supervisor() {
    let say = |line: String| {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{MARK}{line}").unwrap();
        out.flush().unwrap();
    };
    let mut strays = Strays::default();
    runtime().block_on(async {
        let service = Service::new();
        let (family, children) = start_family(&service, 2, &mut strays).await;
        let detached = service.start(fixture(&["sleep", "60"]).detach(true)).unwrap();
        wait_for_line(&detached, "ready").await;
        let leader = family.pid().unwrap();
        say(format!(
            "family {leader} {}",
            children.iter().map(u32::to_string).collect::<Vec<_>>().join(" ")
        ));
        say(format!("detached {}", detached.pid().unwrap()));
        say("ready".into());
        // The parent SIGKILLs us long before this ends.
        tokio::time::sleep(Duration::from_secs(30)).await;
        panic!("the supervisor was never killed");
    });
}
