//! Managed runs on both spawn paths: our own `clone3` one and std's, forced for the spawns
//! of the test's thread (the runtime is single-threaded, so every run starts there).

use std::io::ErrorKind;

use crate::os::{FORCE_STD, fast_spawns};
use crate::{Error, Service, StartOptions, Status};

async fn runs_like_before(force_std: bool) {
    FORCE_STD.set(force_std);
    let service = Service::new();
    let before = fast_spawns();
    let script = "read line; echo out:$line; echo err >&2; env; exit 7";
    let options = StartOptions::new("sh").args(["-c", script]).stdin_data("in\n");
    let done = service.run(options).await.expect("starts");
    assert_eq!((done.info.status, done.info.exit_code), (Status::Failed, Some(7)));
    let stdout = String::from_utf8(done.output.stdout()).expect("text");
    assert!(stdout.starts_with("out:in\n"), "{stdout}");
    // The guardian's marker is in the child's environment (Linux sweeps by token).
    if cfg!(target_os = "linux") {
        assert!(stdout.lines().any(|line| line.starts_with("TEND_GUARD=")), "{stdout}");
    }
    assert_eq!(done.output.stderr(), b"err\n");
    let merged = StartOptions::new("sh").args(["-c", "echo 1; echo 2 >&2; echo 3"]);
    let done = service.run(merged.merge_stderr(true)).await.expect("starts");
    assert_eq!(done.output.stdout(), b"1\n2\n3\n");
    let killed = StartOptions::new("sh").args(["-c", "kill -KILL $$"]);
    let done = service.run(killed).await.expect("starts");
    assert_eq!(done.info.signal, Some(crate::Signal::KILL));
    assert_eq!(done.info.shell_status(), 128 + 9);
    match service.run(StartOptions::new("tend-no-such-program")).await {
        Err(Error::Spawn { source, .. }) => assert_eq!(source.kind(), ErrorKind::NotFound),
        other => panic!("expected a spawn error, got {other:?}"),
    }
    let clone3 =
        cfg!(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")));
    if clone3 && !force_std {
        assert!(fast_spawns() >= before + 3, "the clone3 path was taken");
    }
    FORCE_STD.set(false);
}

#[tokio::test]
async fn a_run_on_the_clone3_path() {
    runs_like_before(false).await;
}

#[tokio::test]
async fn a_run_on_std_path() {
    runs_like_before(true).await;
}
