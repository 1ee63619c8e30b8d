//! Real processes started through [`spawn`](super::spawn::spawn), on both paths: our own
//! `clone3` one and std's (forced per thread with [`FORCE_STD`]).

use std::ffi::{CString, OsString};
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::spawn::{FORCE_STD, Protection, Redirect, SpawnRequest, Spawned, spawn};

/// Which path a test takes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Route {
    Clone3,
    Std,
}

const PATHS: [Route; 2] = [Route::Clone3, Route::Std];

fn request<'a>(program: &'a str, args: &'a [String]) -> SpawnRequest<'a> {
    SpawnRequest {
        program,
        args,
        dir: None,
        env: &[],
        clear_env: false,
        stdio: [Redirect::Null, Redirect::Pipe, Redirect::Pipe],
        detach: false,
        protection: Protection::default(),
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|arg| (*arg).to_owned()).collect()
}

fn start(path: Route, request: SpawnRequest<'_>) -> std::io::Result<Spawned> {
    FORCE_STD.set(path == Route::Std);
    let spawned = spawn(request);
    FORCE_STD.set(false);
    if let Ok(spawned) = &spawned {
        let expected =
            cfg!(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))
                && path == Route::Clone3;
        assert_eq!(spawned.child.has_pidfd(), expected, "{path:?} was taken");
    }
    spawned
}

/// Waits for the child (for at most 20 s) and reads all its output.
async fn finish(mut spawned: Spawned) -> (ExitStatus, String, String) {
    let read = |pipe: Option<tokio::net::unix::pipe::Receiver>| async move {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            pipe.read_to_string(&mut text).await.expect("output is text");
        }
        text
    };
    let work = async {
        let (out, err) = tokio::join!(read(spawned.stdout.take()), read(spawned.stderr.take()));
        (spawned.child.wait().await.expect("waits"), out, err)
    };
    tokio::time::timeout(Duration::from_secs(20), work).await.expect("the child ends")
}

async fn output(path: Route, request: SpawnRequest<'_>) -> (ExitStatus, String, String) {
    finish(start(path, request).expect("starts")).await
}

#[tokio::test]
async fn exit_codes_and_signals_come_back() {
    for path in PATHS {
        let args = strings(&["-c", "exit 3"]);
        assert_eq!(output(path, request("sh", &args)).await.0.code(), Some(3), "{path:?}");
        let args = strings(&["-c", "kill -TERM $$"]);
        let status = output(path, request("sh", &args)).await.0;
        assert_eq!((status.code(), status.signal()), (None, Some(libc::SIGTERM)), "{path:?}");
        assert!(output(path, request("/bin/true", &[])).await.0.success(), "{path:?}");
    }
}

#[tokio::test]
async fn stdin_stdout_and_stderr_are_pipes() {
    for path in PATHS {
        let args = strings(&["-c", "read line; echo out:$line; echo err:$line >&2"]);
        let mut req = request("sh", &args);
        req.stdio[0] = Redirect::Pipe;
        let mut spawned = start(path, req).expect("starts");
        let mut stdin = spawned.stdin.take().expect("a stdin pipe");
        stdin.write_all(b"hello\n").await.expect("writes");
        drop(stdin);
        let (status, out, err) = finish(spawned).await;
        assert!(status.success(), "{path:?}");
        assert_eq!((out.as_str(), err.as_str()), ("out:hello\n", "err:hello\n"), "{path:?}");
    }
}

#[tokio::test]
async fn a_merged_descriptor_carries_both_outputs_in_order() {
    for path in PATHS {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        let args = strings(&["-c", "echo one; echo two >&2; echo three"]);
        let mut req = request("sh", &args);
        req.stdio[1] = Redirect::Fd(std::os::fd::AsFd::as_fd(&writer));
        req.stdio[2] = Redirect::Fd(std::os::fd::AsFd::as_fd(&writer));
        let spawned = start(path, req).expect("starts");
        drop(writer);
        let (status, _, _) = finish(spawned).await;
        assert!(status.success());
        let text = std::io::read_to_string(reader).expect("reads");
        assert_eq!(text, "one\ntwo\nthree\n", "{path:?}");
    }
}

#[tokio::test]
async fn the_environment_is_kept_cleared_set_and_marked() {
    for path in PATHS {
        // Kept, with one variable added and one replaced.
        let env = [
            (OsString::from("TEND_TEST_ADDED"), OsString::from("1")),
            (OsString::from("PATH"), OsString::from("/usr/bin:/bin")),
            (OsString::from("TEND_TEST_ADDED"), OsString::from("2")),
        ];
        let mut req = request("env", &[]);
        req.env = &env;
        let (_, out, _) = output(path, req).await;
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.contains(&"TEND_TEST_ADDED=2"), "{path:?}: {out}");
        assert!(!lines.contains(&"TEND_TEST_ADDED=1"), "{path:?}: {out}");
        assert_eq!(lines.iter().filter(|l| l.starts_with("PATH=")).count(), 1, "{path:?}");
        assert!(lines.contains(&"PATH=/usr/bin:/bin"), "{path:?}: {out}");
        assert!(lines.len() > 2, "{path:?}: the rest is inherited: {out}");
        // Cleared: only what is set, and the guardian's marker over a value set for it.
        let env = [
            (OsString::from("ONLY"), OsString::from("this")),
            (OsString::from(super::contain::MARKER), OsString::from("not-the-marker")),
        ];
        let mut req = request("env", &[]);
        req.env = &env;
        req.clear_env = true;
        req.protection.marker = Some(Arc::new(CString::new("TEND_GUARD=a:b").expect("no NUL")));
        let (_, out, _) = output(path, req).await;
        let mut lines: Vec<&str> = out.lines().collect();
        lines.sort_unstable();
        assert_eq!(lines, ["ONLY=this", "TEND_GUARD=a:b"], "{path:?}");
        // Nothing changed: exactly ours.
        let (_, out, _) = output(path, request("env", &[])).await;
        let ours: Vec<String> = std::env::vars_os()
            .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
            .collect();
        let mut theirs: Vec<&str> = out.lines().collect();
        let mut ours: Vec<&str> = ours.iter().map(String::as_str).collect();
        theirs.sort_unstable();
        ours.sort_unstable();
        assert_eq!(theirs, ours, "{path:?}");
    }
}

#[tokio::test]
async fn the_working_directory_is_set() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let dir = dir.path().canonicalize().expect("canonical");
    for path in PATHS {
        let mut req = request("pwd", &[]);
        req.dir = Some(&dir);
        let (_, out, _) = output(path, req).await;
        assert_eq!(out.trim_end(), dir.to_str().expect("utf-8"), "{path:?}");
    }
}

#[tokio::test]
async fn start_failures_keep_std_error_kinds() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let plain = dir.path().join("not-executable");
    std::fs::write(&plain, "#!/bin/sh\necho hi\n").expect("writes");
    let plain = plain.to_str().expect("utf-8").to_owned();
    let missing_dir = dir.path().join("missing");
    for path in PATHS {
        let error = start(path, request("tend-no-such-program", &[])).expect_err("missing");
        assert_eq!(error.kind(), ErrorKind::NotFound, "{path:?}: {error}");
        assert_eq!(error.raw_os_error(), Some(libc::ENOENT), "{path:?}");
        let error = start(path, request("/no/such/program", &[])).expect_err("missing");
        assert_eq!(error.kind(), ErrorKind::NotFound, "{path:?}: {error}");
        let error = start(path, request(&plain, &[])).expect_err("not executable");
        assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{path:?}: {error}");
        let mut req = request("/bin/true", &[]);
        req.dir = Some(&missing_dir);
        let error = start(path, req).expect_err("missing directory");
        assert_eq!(error.kind(), ErrorKind::NotFound, "{path:?}: {error}");
        let error = start(path, request("", &[])).expect_err("empty");
        assert_eq!(error.kind(), ErrorKind::NotFound, "{path:?}: {error}");
        let error = start(path, request("nul\0byte", &[])).expect_err("a NUL byte");
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{path:?}: {error}");
    }
    // The children that could not exec were reaped: none is left for this process.
    // SAFETY: waitpid with WNOHANG on any child; a null status pointer is allowed.
    let left = unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) };
    assert!(left <= 0, "a failed child was left unreaped: {left}");
}

fn script(dir: &Path, body: &str, executable: bool) {
    std::fs::create_dir_all(dir).expect("creates");
    let file = dir.join("tend-test-prog");
    std::fs::write(&file, format!("#!/bin/sh\n{body}\n")).expect("writes");
    let mode = if executable { 0o755 } else { 0o644 };
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[tokio::test]
async fn path_is_searched_in_order_like_execvp() {
    let root = tempfile::tempdir().expect("a temp dir");
    let (first, second, third) =
        (root.path().join("a"), root.path().join("b"), root.path().join("c"));
    script(&first, "echo first", true);
    script(&second, "echo second", true);
    script(&third, "echo third", false);
    let path_of = |dirs: &[&Path]| {
        let dirs: Vec<&str> = dirs.iter().map(|d| d.to_str().expect("utf-8")).collect();
        [(OsString::from("PATH"), OsString::from(dirs.join(":")))]
    };
    for path in PATHS {
        let env = path_of(&[&root.path().join("none"), &first, &second]);
        let mut req = request("tend-test-prog", &[]);
        req.env = &env;
        assert_eq!(output(path, req).await.1, "first\n", "{path:?}");
        // One that may not be executed is skipped, and remembered if nothing else is found.
        let env = path_of(&[&third, &second]);
        let mut req = request("tend-test-prog", &[]);
        req.env = &env;
        assert_eq!(output(path, req).await.1, "second\n", "{path:?}");
        let env = path_of(&[&third, &root.path().join("none")]);
        let mut req = request("tend-test-prog", &[]);
        req.env = &env;
        let error = start(path, req).expect_err("not executable");
        assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{path:?}: {error}");
    }
}

/// The process group and session of `pid`, from `/proc`.
fn group_and_session(pid: u32) -> (u32, u32) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let after_name = &stat[stat.rfind(')').expect("a name") + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    (fields[2].parse().expect("pgrp"), fields[3].parse().expect("session"))
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_child_leads_its_group_and_a_detached_one_its_session() {
    // SAFETY: getsid(0) takes no pointers.
    let our_session = unsafe { libc::getsid(0) } as u32;
    for path in PATHS {
        for detach in [false, true] {
            let args = strings(&["1000"]);
            let mut req = request("sleep", &args);
            req.detach = detach;
            let mut spawned = start(path, req).expect("starts");
            let pid = spawned.child.id();
            let (group, session) = group_and_session(pid);
            assert_eq!(group, pid, "{path:?} detach={detach}");
            let expected = if detach { pid } else { our_session };
            assert_eq!(session, expected, "{path:?} detach={detach}");
            super::signal_process(pid, libc::SIGKILL).expect("kills");
            let status = spawned.child.wait().await.expect("waits");
            assert_eq!(status.signal(), Some(libc::SIGKILL));
        }
    }
}

#[tokio::test]
async fn a_child_registers_with_the_guardian_before_it_runs() {
    for path in PATHS {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        let mut req = request("/bin/true", &[]);
        req.protection.register = Some(Arc::new(writer.into()));
        let spawned = start(path, req).expect("starts");
        let pid = spawned.child.id();
        assert!(finish(spawned).await.0.success());
        let mut record = [0u8; 4];
        std::io::Read::read_exact(&mut { reader }, &mut record).expect("a record");
        assert_eq!(i32::from_ne_bytes(record), pid as i32, "{path:?}");
    }
}

#[tokio::test]
async fn sigpipe_is_default_and_nothing_is_blocked() {
    for path in PATHS {
        let args = strings(&["/proc/self/status"]);
        let (_, out, _) = output(path, request("cat", &args)).await;
        let mask = |name: &str| {
            let line = out.lines().find(|l| l.starts_with(name)).expect("the field");
            u64::from_str_radix(line.split_whitespace().nth(1).expect("a value"), 16).expect("hex")
        };
        assert_eq!(mask("SigBlk:"), 0, "{path:?}");
        assert_eq!(mask("SigIgn:") & (1 << (libc::SIGPIPE - 1)), 0, "{path:?}");
    }
}

#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
#[tokio::test]
async fn the_clone3_path_is_taken_on_linux() {
    let before = super::fast_spawns();
    let spawned = spawn(request("/bin/true", &[])).expect("starts");
    assert!(spawned.child.has_pidfd());
    assert!(finish(spawned).await.0.success());
    assert!(super::fast_spawns() > before);
}

#[tokio::test]
async fn a_dropped_child_is_reaped_all_the_same() {
    for path in PATHS {
        let args = strings(&["-c", "exit 0"]);
        let spawned = start(path, request("sh", &args)).expect("starts");
        let pid = spawned.child.id();
        drop(spawned);
        let gone = async {
            while super::group_exists(pid) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), gone).await.expect("reaped");
    }
}

/// The `clone3` child shares our descriptor table until it keeps only the spawn slots (see
/// `fd_slots`): it must still get its pipes, and nothing else of ours may reach the program,
/// not even a descriptor left open on exec, however many we hold.
#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
#[tokio::test]
async fn the_program_gets_only_the_standard_descriptors() {
    let inheritable = std::fs::File::open("/dev/null").expect("opens");
    rustix::io::fcntl_setfd(&inheritable, rustix::io::FdFlags::empty()).expect("not cloexec");
    let many: Vec<_> = (0..300).map(|_| std::fs::File::open("/dev/null").expect("opens")).collect();
    for _ in 0..3 {
        let args = strings(&["-1", "/proc/self/fd"]);
        let (status, out, err) = output(Route::Clone3, request("ls", &args)).await;
        assert!(status.success(), "{err}");
        // 3 is the directory `ls` itself opened.
        assert_eq!(out, "0\n1\n2\n3\n");
    }
    drop((inheritable, many));
}

/// The child shares our table only until its first call: a descriptor this thread opens after
/// a spawn must be in the table of the whole process (the one `/proc/self/fd` shows, the main
/// thread's), not in one this thread was left with alone.
#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
#[tokio::test]
async fn our_threads_keep_one_descriptor_table() {
    use std::os::fd::AsRawFd;
    assert!(output(Route::Clone3, request("/bin/true", &[])).await.0.success());
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("opened-after-a-spawn");
    let file = std::fs::File::create(&path).expect("creates");
    let seen = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()));
    assert_eq!(seen.ok(), Some(path));
}

/// Spawns on many threads at once share the slots one at a time: each child must get its own
/// pipes (its own output back, nothing of another's) and every pipe must reach end-of-file.
#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_spawns_each_get_their_own_pipes() {
    let runs = (0..200).map(|n| {
        tokio::spawn(async move {
            let args = strings(&["-c", &format!("echo out{n}; echo err{n} >&2")]);
            let (status, out, err) = output(Route::Clone3, request("sh", &args)).await;
            assert!(status.success());
            assert_eq!((out, err), (format!("out{n}\n"), format!("err{n}\n")));
        })
    });
    for run in runs.collect::<Vec<_>>() {
        run.await.expect("the run finishes");
    }
}
