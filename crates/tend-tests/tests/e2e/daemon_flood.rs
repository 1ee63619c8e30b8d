//! Memory under a flood of short lines (issue 10, defect 2), measured on the real daemon from
//! outside: four `yes '' | head -n 30000000` started through the API at once, while 50
//! WebSocket subscribers to `/api/v1/events` never read a byte. Before, the event bus held up
//! to 4,096 batches of up to 65,536 events each and the daemon passed 5 GB.

use std::time::{Duration, Instant};

use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::real_daemon::{RealDaemon, status_kb};

const FLOOD: &str = "yes '' | head -n 30000000";
const FLOODS: usize = 4;
const IDLE_SUBSCRIBERS: usize = 50;
/// The goals, in kB (1,000 bytes).
const PEAK_LIMIT_KB: u64 = 200_000;
const AFTER_RM_LIMIT_KB: u64 = 50_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_floods_with_fifty_idle_subscribers_stay_under_200_mb_and_fall_under_50_after_rm() {
    let daemon = RealDaemon::start();
    let pid = daemon.pid();

    // Subscribers that complete the handshake and then never read.
    let mut idle = Vec::new();
    for _ in 0..IDLE_SUBSCRIBERS {
        let url = format!("ws://{}/api/v1/events?token={}", daemon.addr, daemon.token);
        let tcp = tokio::net::TcpStream::connect(daemon.addr).await.expect("connect");
        let request = url.into_client_request().expect("request");
        let (socket, _) = tokio_tungstenite::client_async(request, tcp).await.expect("upgrade");
        idle.push(socket);
    }

    let started = Instant::now();
    let (a, b, c, d) = tokio::join!(
        daemon.start_sh(FLOOD),
        daemon.start_sh(FLOOD),
        daemon.start_sh(FLOOD),
        daemon.start_sh(FLOOD)
    );
    let ids = [a, b, c, d];
    assert_eq!(ids.len(), FLOODS);

    // Poll the resident size while the floods run (VmHWM catches peaks between polls).
    let deadline = started + Duration::from_secs(55);
    let mut polled_peak = 0;
    let mut running = ids.to_vec();
    while !running.is_empty() {
        polled_peak = polled_peak.max(status_kb(pid, "VmRSS"));
        // Fail as soon as the bound is passed, rather than let a regression eat the machine.
        assert!(polled_peak < PEAK_LIMIT_KB, "RSS {polled_peak} kB, goal under {PEAK_LIMIT_KB}");
        let mut still = Vec::new();
        for id in running {
            let info = daemon.call("GET", &format!("/processes/{id}"), None).await.json();
            match info["status"].as_str() {
                Some("running") => still.push(id),
                _ => assert_eq!(info["exit_code"], 0, "every line went through: {info}"),
            }
        }
        running = still;
        assert!(Instant::now() < deadline, "floods still running: {running:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed();
    let peak = status_kb(pid, "VmHWM");
    eprintln!(
        "figures: {FLOODS} x {FLOOD} with {IDLE_SUBSCRIBERS} idle subscribers: {elapsed:.1?}, \
         peak RSS {peak} kB (polled {polled_peak} kB)"
    );
    assert!(peak < PEAK_LIMIT_KB, "peak RSS {peak} kB, goal under {PEAK_LIMIT_KB} kB");

    for id in &ids {
        let reply = daemon.call("DELETE", &format!("/processes/{id}"), None).await;
        assert_eq!(reply.status, 200, "rm {id}");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut after = status_kb(pid, "VmRSS");
    while after >= AFTER_RM_LIMIT_KB && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = status_kb(pid, "VmRSS");
    }
    eprintln!("figures: RSS after rm of all {FLOODS}: {after} kB");
    assert!(after < AFTER_RM_LIMIT_KB, "RSS after rm {after} kB, goal under {AFTER_RM_LIMIT_KB}");
    drop(idle);
}
