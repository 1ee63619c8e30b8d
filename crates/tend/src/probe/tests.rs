//! Probes against real sockets, HTTP servers and processes.

use std::time::Duration;

use tokio::net::TcpListener;

use super::*;
use crate::{CancellationToken, Service, StartOptions};

/// Every wait of these tests ends within this (generous: the machine may be loaded).
const LIMIT: Duration = Duration::from_secs(20);

async fn within<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, future).await.expect("took too long")
}

/// A port nothing listens on (bound, then let go).
async fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port()
}

#[test]
fn written_forms_parse_and_print_back() {
    for written in [
        "tcp 127.0.0.1:5432",
        "tcp [::1]:80",
        "tcp db.local:6379",
        #[cfg(feature = "http")]
        "http http://127.0.0.1:8080/health",
        "exec pg_isready -h 127.0.0.1 && echo ok",
        r"log listening on port \d+",
    ] {
        let probe: Probe = written.parse().unwrap();
        assert_eq!(probe.to_string(), written);
    }
    let probe: Probe = "  tcp \t 127.0.0.1:5432 ".parse().unwrap();
    assert_eq!(probe.to_string(), "tcp 127.0.0.1:5432");
    assert_eq!(probe.kind(), "tcp");
    assert_eq!(probe.target(), "127.0.0.1:5432");
}

#[test]
fn bad_input_is_a_typed_error_naming_it() {
    let error = |written: &str| written.parse::<Probe>().unwrap_err().to_string();
    assert_eq!(
        error("udp 1.2.3.4:5"),
        "unknown probe kind `udp` (expected tcp, http, exec or log)"
    );
    assert_eq!(error("tcp"), "the tcp probe has no address");
    assert_eq!(error("tcp 127.0.0.1"), "invalid address `127.0.0.1`: expected HOST:PORT");
    assert_eq!(error("tcp :80"), "invalid address `:80`: no host before the port");
    assert_eq!(error("tcp h:0"), "invalid address `h:0`: port 0 cannot be connected to");
    assert_eq!(
        error("tcp h:70000"),
        "invalid address `h:70000`: `70000` is not a port (1 to 65535)"
    );
    assert_eq!(
        error("tcp ::1:80"),
        "invalid address `::1:80`: an IPv6 address must be in brackets, as in [::1]:8080"
    );
    #[cfg(feature = "http")]
    assert!(
        error("http https://x/").starts_with("invalid URL `https://x/`: https is not supported")
    );
    #[cfg(feature = "http")]
    assert_eq!(error("http"), "the http probe has no URL");
    assert_eq!(error("exec   "), "the exec probe has no command");
    assert_eq!(error("exec a\0b"), r"invalid command `a\0b`: it contains a NUL byte");
    assert_eq!(error("log (unclosed"), "invalid regex `(unclosed`: unclosed group");
    assert!(matches!(Probe::log("a{99999999}"), Err(InvalidProbe::InvalidRegex { .. })));
    let log = Liveness::new(Probe::log("x").unwrap()).unwrap_err();
    assert_eq!(log.to_string(), "a log probe cannot be used for liveness");
}

#[tokio::test]
async fn a_port_that_opens_after_300ms_gates_readiness() {
    let port = free_port().await;
    let opener = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        TcpListener::bind(("127.0.0.1", port)).await.unwrap()
    });
    let probe = Probe::tcp(&format!("127.0.0.1:{port}")).unwrap();
    assert_eq!(probe.check(None, LIMIT).await.unwrap_err(), "connection refused");
    let ready = within(Readiness::new(probe.clone()).interval(Duration::from_millis(20)).wait())
        .await
        .unwrap();
    assert!(ready.after >= Duration::from_millis(280), "ready after {:?}", ready.after);
    let _listener = opener.await.unwrap();
    probe.check(None, LIMIT).await.unwrap();
}

#[tokio::test]
async fn the_timeout_message_names_the_probe_and_its_last_error() {
    let port = free_port().await;
    let probe = Probe::tcp(&format!("127.0.0.1:{port}")).unwrap();
    let started = std::time::Instant::now();
    let not_ready = within(
        Readiness::new(probe)
            .interval(Duration::from_millis(50))
            .timeout(Duration::from_millis(300))
            .wait(),
    )
    .await
    .unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        not_ready.to_string(),
        format!("not ready after 300ms: tcp 127.0.0.1:{port}: connection refused")
    );
    assert_eq!(not_ready.reason(), "connection refused");
}

#[tokio::test]
async fn exec_exit_1_then_0_in_its_dir_and_env() {
    let dir = tempfile::tempdir().unwrap();
    // Fails twice, then passes; and only with the environment given.
    let command = r#"n=$(( $(cat count 2>/dev/null || echo 0) + 1 )); echo $n > count; [ "$WANT" = yes ] && [ $n -ge 3 ]"#;
    let probe = ExecProbe::new(command).unwrap().dir(dir.path()).env("WANT", "yes");
    let once = Probe::from(probe.clone()).check(None, LIMIT).await;
    assert_eq!(once.unwrap_err(), "exited with code 1");
    let ready = Readiness::new(probe).interval(Duration::from_millis(20)).wait();
    within(ready).await.unwrap();
    let count = std::fs::read_to_string(dir.path().join("count")).unwrap();
    assert_eq!(count.trim(), "3");
}

#[tokio::test]
async fn an_exec_check_that_hangs_is_killed_with_its_group() {
    let dir = tempfile::tempdir().unwrap();
    let probe = ExecProbe::new("sleep 30 & echo $! > pid; wait").unwrap().dir(dir.path());
    let not_ready = Readiness::new(probe)
        .timeout(Duration::from_millis(300))
        .check_timeout(Duration::from_millis(300))
        .wait();
    let not_ready = within(not_ready).await.unwrap_err();
    assert!(not_ready.reason().starts_with("timed out after "), "{not_ready}");
    let pid = std::fs::read_to_string(dir.path().join("pid")).unwrap();
    let stat = format!("/proc/{}/stat", pid.trim());
    within(async {
        // The sleep was in the probe's group: killed (a zombie until its new parent reaps it).
        while std::fs::read_to_string(&stat).is_ok_and(|stat| !stat.contains(") Z ")) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn log_sees_stderr_and_lines_printed_before_the_probe() {
    let service = Service::new();
    let script = "echo 'starting'; echo 'db ready' >&2; sleep 0.3; \
                  echo 'listening on port 8080' >&2; sleep 30";
    let process = service.start(StartOptions::new("bash").args(["-c", script])).unwrap();
    // Wait until the first lines are printed, so the probe starts after them.
    let mut lines = process.lines();
    while within(lines.recv()).await.unwrap().unwrap().to_string_lossy() != "db ready" {}

    let before = Probe::log("^db ready$").unwrap();
    before.check(Some(&process), LIMIT).await.unwrap();
    let ready = Readiness::new(before).process(&process).wait();
    assert!(within(ready).await.unwrap().after < Duration::from_secs(1));

    let later = Probe::log(r"listening on port \d+").unwrap();
    assert_eq!(later.check(Some(&process), LIMIT).await.unwrap_err(), "no line matched");
    let ready = within(Readiness::new(later).process(&process).wait()).await.unwrap();
    assert!(ready.after >= Duration::from_millis(150), "ready after {:?}", ready.after);
    process.kill().unwrap();

    let never = Readiness::new(Probe::log("never printed").unwrap()).process(&process).wait();
    let not_ready = within(never).await.unwrap_err();
    assert_eq!(
        not_ready.to_string(),
        "not ready: log never printed: the process ended before a line matched"
    );
    let no_process = Readiness::new(Probe::log("x").unwrap()).wait().await.unwrap_err();
    assert!(matches!(no_process, NotReady::Failed { .. }), "{no_process}");
}

#[tokio::test]
async fn a_wait_given_a_process_ends_when_the_process_does_for_every_kind() {
    let port = free_port().await;
    let service = Service::new();
    let script = "sleep 0.2; exit 3";
    let probes = [format!("tcp 127.0.0.1:{port}"), "exec exit 1".to_owned()];
    for probe in probes {
        let process = service.start(StartOptions::new("bash").args(["-c", script])).unwrap();
        let started = std::time::Instant::now();
        let wait = Readiness::new(probe.parse::<Probe>().unwrap())
            .interval(Duration::from_millis(20))
            .timeout(Duration::from_secs(600))
            .process(&process)
            .wait();
        let not_ready = within(wait).await.unwrap_err();
        assert_eq!(
            not_ready.to_string(),
            format!("not ready: {probe}: the process ended before it was ready")
        );
        assert!(started.elapsed() < Duration::from_secs(15), "{probe}: {:?}", started.elapsed());
    }
}

#[tokio::test]
async fn a_log_wait_times_out_with_no_line_matched() {
    let service = Service::new();
    let process =
        service.start(StartOptions::new("bash").args(["-c", "echo hi; sleep 30"])).unwrap();
    let wait = Readiness::new(Probe::log("ready").unwrap()).process(&process);
    let not_ready = within(wait.timeout(Duration::from_millis(200)).wait()).await.unwrap_err();
    assert_eq!(not_ready.to_string(), "not ready after 200ms: log ready: no line matched");
    process.kill().unwrap();
}

#[tokio::test]
async fn cancellation_ends_waits_and_watches() {
    let port = free_port().await;
    let probe = Probe::tcp(&format!("127.0.0.1:{port}")).unwrap();
    let cancel = CancellationToken::new();
    let canceller = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        canceller.cancel();
    });
    let waiting = Readiness::new(probe.clone()).cancel(cancel.clone()).wait();
    let not_ready = within(waiting).await.unwrap_err();
    assert_eq!(not_ready, NotReady::Cancelled { probe: probe.to_string() });
    let watching = Liveness::new(probe).unwrap().cancel(cancel).watch();
    assert_eq!(within(watching).await, None);
}

#[tokio::test]
async fn huge_durations_do_not_panic() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let probe = Probe::tcp(&address).unwrap();
    probe.check(None, Duration::MAX).await.unwrap();
    probe.check(None, Duration::ZERO).await.unwrap();
    let ready = Readiness::new(probe.clone())
        .timeout(Duration::MAX)
        .interval(Duration::MAX)
        .check_timeout(Duration::MAX)
        .wait();
    within(ready).await.unwrap();

    let cancel = CancellationToken::new();
    let delayed = Readiness::new(probe.clone())
        .initial_delay(Duration::MAX)
        .timeout(Duration::MAX)
        .cancel(cancel.clone())
        .wait();
    let watched = Liveness::new(probe)
        .unwrap()
        .interval(Duration::MAX)
        .check_timeout(Duration::MAX)
        .cancel(cancel.clone())
        .watch();
    let both = async { tokio::join!(delayed, watched) };
    let cancelling = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        cancel.cancel();
    };
    let ((delayed, watched), ()) = within(async { tokio::join!(both, cancelling) }).await;
    assert!(matches!(delayed, Err(NotReady::Cancelled { .. })));
    assert_eq!(watched, None);
}

/// The `http` probe, against a real HTTP server.
#[cfg(feature = "http")]
mod http {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// An HTTP server answering the statuses in turn (the last one for ever), counting requests.
    async fn http_server(statuses: Vec<u16>) -> (u16, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let served = Arc::new(AtomicUsize::new(0));
        let count = served.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else { return };
                let mut head = Vec::new();
                let mut buffer = [0u8; 1024];
                while !head.windows(4).any(|window| window == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(read) => head.extend_from_slice(&buffer[..read]),
                    }
                }
                let index = count.fetch_add(1, Ordering::SeqCst);
                let status = statuses[index.min(statuses.len() - 1)];
                let answer = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        (port, served)
    }

    #[tokio::test]
    async fn http_503_then_200() {
        let (port, served) = http_server(vec![503, 503, 200]).await;
        let url = format!("http://127.0.0.1:{port}/health");
        let probe = Probe::http(&url).unwrap();
        assert_eq!(probe.to_string(), format!("http {url}"));
        assert_eq!(probe.check(None, LIMIT).await.unwrap_err(), "503");
        let ready = within(Readiness::new(probe).interval(Duration::from_millis(20)).wait()).await;
        ready.unwrap();
        assert_eq!(served.load(Ordering::SeqCst), 3, "503, 503, then 200");

        let (port, _) = http_server(vec![503]).await;
        let probe = Probe::http(&format!("http://127.0.0.1:{port}/")).unwrap();
        let waiting = Readiness::new(probe).interval(Duration::from_millis(20));
        let not_ready =
            within(waiting.timeout(Duration::from_millis(200)).wait()).await.unwrap_err();
        let expected = format!("not ready after 200ms: http http://127.0.0.1:{port}/: 503");
        assert_eq!(not_ready.to_string(), expected);
    }

    #[tokio::test]
    async fn liveness_reports_3_failures_in_a_row_not_2_and_a_success() {
        // 500, 500, 200 (the count starts again), then 500 three times.
        let (port, served) = http_server(vec![500, 500, 200, 500, 500, 500, 200]).await;
        let url = format!("http://127.0.0.1:{port}/health");
        let liveness = Liveness::new(Probe::http(&url).unwrap()).unwrap();
        let not_alive = within(liveness.interval(Duration::from_millis(20)).watch()).await.unwrap();
        assert_eq!(not_alive.to_string(), format!("{url}: 500 (3 failures)"));
        assert_eq!(served.load(Ordering::SeqCst), 6, "two failures and a success did not count");
    }
}
