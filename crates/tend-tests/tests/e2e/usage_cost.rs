//! What sampling CPU and memory costs: the daemon's own CPU with 200 managed `sleep`s.

use std::time::{Duration, Instant};

use crate::real_daemon::RealDaemon;

const SLEEPERS: usize = 200;
/// Long enough for several sampling ticks (every 2 s).
const MEASURE: Duration = Duration::from_secs(10);
/// The goal is under 1 % of a core (release build); this debug-build bound is generous.
const BOUND_PERCENT: f64 = 5.0;

/// User + system CPU time of `pid`, all its threads, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("proc stat");
    let after_name = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime); `fields` starts at field 3.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let per_second: u64 = String::from_utf8(
        std::process::Command::new("getconf").arg("CLK_TCK").output().expect("getconf").stdout,
    )
    .expect("UTF-8")
    .trim()
    .parse()
    .expect("CLK_TCK");
    ticks as f64 / per_second as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampling_200_sleeps_costs_the_daemon_little_cpu() {
    let daemon = RealDaemon::start();
    for _ in 0..SLEEPERS {
        let body = serde_json::json!({ "command": "sleep", "args": ["600"] });
        let reply = daemon.call("POST", "/processes", Some(body)).await;
        assert_eq!(reply.status, 201, "{}", String::from_utf8_lossy(&reply.body));
    }
    // Every sleeper sampled: its memory shows.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = daemon.call("GET", "/processes", None).await.json();
        let sampled = list.as_array().unwrap().iter().filter(|i| i["memory_bytes"].is_u64());
        if sampled.count() == SLEEPERS {
            break;
        }
        assert!(Instant::now() < deadline, "not every sleeper sampled within 20 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let before = cpu_seconds(daemon.pid());
    let began = Instant::now();
    tokio::time::sleep(MEASURE).await;
    let used = cpu_seconds(daemon.pid()) - before;
    let percent = used / began.elapsed().as_secs_f64() * 100.0;
    println!(
        "daemon CPU with {SLEEPERS} managed sleeps, sampled every 2 s: {percent:.2} % of a core \
         ({used:.2} s over {:?})",
        began.elapsed()
    );
    assert!(percent < BOUND_PERCENT, "{percent:.2} % of a core");
}
