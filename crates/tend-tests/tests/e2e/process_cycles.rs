//! Many short lives: nothing may be left behind, neither zombie children nor Tokio tasks, and
//! the table stays within its retention limit.

use std::time::{Duration, Instant};

use tend::{Reason, Service, ServiceConfig, Status};

use crate::support::{DEADLINE, eventually, fixture, runtime, wait_for_line, zombie_children};

const CYCLES: usize = 1000;

#[test]
fn a_thousand_start_kill_cycles_leave_no_zombie_and_no_task_behind() {
    let runtime = runtime();
    let metrics = runtime.metrics();
    let baseline = metrics.num_alive_tasks();
    let service =
        Service::with_config(ServiceConfig { max_finished: 16, ..ServiceConfig::default() });

    let start = Instant::now();
    runtime.block_on(async {
        for cycle in 0..CYCLES {
            let process = service.start(fixture(&["sleep", "60"])).unwrap();
            // Half the time the child is surely running with its output read; half the time
            // the kill races its start-up.
            if cycle % 2 == 0 {
                wait_for_line(&process, "ready").await;
            }
            process.kill().unwrap();
            let info = tokio::time::timeout(DEADLINE, process.wait())
                .await
                .unwrap_or_else(|_| panic!("cycle {cycle}: no end after kill"));
            assert_eq!(
                (info.status, info.reason),
                (Status::Killed, Some(Reason::Killed)),
                "cycle {cycle}"
            );
        }
    });
    let took = start.elapsed();
    eprintln!("{CYCLES} start/kill/wait cycles took {took:?}");

    assert_eq!(zombie_children(), Vec::<u32>::new(), "unreaped children");
    // The supervising task ends a moment after `wait` returns; readers before it.
    eventually(Duration::from_secs(5), "the task count to return to where it started", || {
        metrics.num_alive_tasks() == baseline
    });
    assert!(service.list().len() <= 16, "{} records kept", service.list().len());
    assert!(service.running().is_empty());
}
