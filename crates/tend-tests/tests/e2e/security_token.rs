//! The API token goes only to the daemon that owns it (issue 10, defect 4): whatever listens
//! where a client looks (`TEND_SERVER`, a stale `STATE_DIR/address`, a registry entry, the
//! default address) must prove it holds the token before the client sends it; daemons with
//! different state directories share one registry without touching each other's entries; the
//! token file and the state directory are checked before use.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use sha2::{Digest, Sha256};
use tend::daemon::{DaemonEntry, Registry};

use crate::daemon_support::{NOBODY, running_as_root};
use crate::security_support::{Home, Recorder, finish, relay};

/// A state directory with a token, as `tend daemon` leaves it.
fn state_with_token(home: &Home, name: &str) -> (PathBuf, String) {
    let state = home.state(name);
    let token = tend_server::load_or_create_token(&state).expect("token");
    (state, token)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `tend ps` must fail without sending `token` to `listener`, naming its address.
fn assert_refused_without_token(output: &Output, listener: &Recorder, token: &str, case: &str) {
    let received = listener.received();
    assert!(!received.contains(token), "{case}: the token leaked: {received:?}");
    assert!(!received.to_ascii_lowercase().contains("authorization"), "{case}: {received:?}");
    assert!(received.contains("/api/v1/hello?nonce="), "{case}: challenged first: {received:?}");
    let message = stderr(output);
    assert_eq!(output.status.code(), Some(1), "{case}: exit 1 for a failed proof: {message}");
    assert!(
        message.contains(&format!("http://{}", listener.addr)),
        "{case}: names the address: {message}"
    );
    assert!(message.contains("did not prove"), "{case}: says why: {message}");
}

/// The registry name of the daemon of `state` (as `tend daemon` computes it).
fn registry_name(state: &Path) -> String {
    let canonical = state.canonicalize().unwrap();
    let digest = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("supervisor.{hex}")
}

#[test]
fn a_listener_that_cannot_prove_the_token_never_receives_it() {
    let home = Home::new();

    // TEND_SERVER names a plain listener.
    let (state, token) = state_with_token(&home, "server");
    let listener = Recorder::plain();
    let output = finish(
        home.tend(&["ps", "--state-dir"])
            .arg(&state)
            .env("TEND_SERVER", format!("http://{}", listener.addr)),
    );
    assert_refused_without_token(&output, &listener, &token, "TEND_SERVER");

    // A stale STATE_DIR/address (the daemon died; someone else took the port).
    let (state, token) = state_with_token(&home, "stale");
    let listener = Recorder::plain();
    tend::daemon::write_state_file(
        &state,
        "address",
        format!("{}\n", listener.addr).as_bytes(),
        0o600,
    )
    .unwrap();
    let output = finish(home.tend(&["ps", "--state-dir"]).arg(&state));
    assert_refused_without_token(&output, &listener, &token, "STATE_DIR/address");

    // A live registry entry for this state directory that points at the listener.
    let (state, token) = state_with_token(&home, "registered");
    let listener = Recorder::plain();
    let mut entry = DaemonEntry::for_current_process("tend", registry_name(&state));
    entry.health = Some(listener.addr.clone());
    Registry::new(home.registry()).register(&entry).unwrap();
    let output = finish(home.tend(&["ps", "--state-dir"]).arg(&state));
    assert_refused_without_token(&output, &listener, &token, "registry");

    // Nothing anywhere: the default address, when this machine lets us listen there.
    let (state, token) = state_with_token(&home, "default");
    match Recorder::on("127.0.0.1:7420", |_| {
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".to_vec()
    }) {
        Ok(listener) => {
            let output = finish(home.tend(&["ps", "--state-dir"]).arg(&state));
            assert_refused_without_token(&output, &listener, &token, "default address");
        }
        Err(e) => {
            println!("skipped the default-address case: cannot listen on 127.0.0.1:7420: {e}")
        }
    }
}

/// A relay that forwards the challenge to the real daemon gets a proof for the daemon's own
/// address, which the client refuses: the relay never sees the token.
#[test]
fn a_relay_to_the_real_daemon_is_refused() {
    let home = Home::new();
    let state = home.state("state");
    let daemon = home.daemon(&state);
    let token = tend_server::read_token(&state).unwrap();
    let target = daemon.addr.clone();
    let listener = Recorder::on("127.0.0.1:0", move |request| relay(request, &target)).unwrap();
    let output = finish(
        home.tend(&["ps", "--state-dir"])
            .arg(&state)
            .env("TEND_SERVER", format!("http://{}", listener.addr)),
    );
    assert_refused_without_token(&output, &listener, &token, "relay");
    assert!(
        stderr(&output).contains(&daemon.addr),
        "names the proof's address: {}",
        stderr(&output)
    );

    // The real daemon itself is reached, through its address file.
    let output = finish(home.tend(&["ps", "--state-dir"]).arg(&state));
    assert!(output.status.success(), "{}", stderr(&output));
}

fn entries(registry: &Path) -> Vec<DaemonEntry> {
    Registry::new(registry).list().unwrap()
}

#[test]
fn daemons_with_their_own_state_dirs_share_a_registry() {
    let home = Home::new();
    let (first_state, second_state) = (home.state("first"), home.state("second"));
    let first = home.daemon(&first_state);
    let mut second = home.daemon(&second_state);
    let listed = entries(&home.registry());
    assert_eq!(listed.len(), 2, "one entry each: {listed:?}");

    let start = |state: &Path, name: &str| {
        let output = finish(
            home.tend(&["start", "--name", name, "--state-dir"])
                .arg(state)
                .args(["--", "sleep", "30"]),
        );
        assert!(output.status.success(), "start {name}: {}", stderr(&output));
    };
    let ps = |state: &Path| {
        let output = finish(home.tend(&["ps", "--state-dir"]).arg(state));
        assert!(output.status.success(), "ps: {}", stderr(&output));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    start(&first_state, "only-in-first");
    start(&second_state, "only-in-second");
    assert!(
        ps(&first_state).contains("only-in-first") && !ps(&first_state).contains("only-in-second")
    );
    assert!(
        ps(&second_state).contains("only-in-second")
            && !ps(&second_state).contains("only-in-first")
    );

    assert_eq!(second.stop().code(), Some(0));
    let left = entries(&home.registry());
    assert_eq!(left.len(), 1, "the second removed only its own entry: {left:?}");
    assert_eq!(left[0].pid, first.pid(), "the first's entry is intact");
    assert_eq!(left[0].health.as_deref(), Some(first.addr.as_str()));

    // Without its address file, the first is still found, through its registry entry.
    fs::remove_file(first_state.join("address")).unwrap();
    assert!(ps(&first_state).contains("only-in-first"));
    // The second's clients do not fall through to the first.
    let output = finish(home.tend(&["ps", "--state-dir"]).arg(&second_state));
    assert!(!output.status.success(), "the second is stopped: {}", stderr(&output));
}

/// `tend ps` against a dead port: it must stop at the token check, before connecting.
fn client_with(home: &Home, state: &Path) -> Output {
    finish(home.tend(&["ps", "--state-dir"]).arg(state).env("TEND_SERVER", "http://127.0.0.1:1"))
}

#[test]
fn token_files_that_others_could_touch_are_refused() {
    let home = Home::new();

    // A symbolic link, for the client and for the daemon; its target is left alone.
    let state = home.state("linked");
    fs::create_dir(&state).unwrap();
    fs::set_permissions(&state, fs::Permissions::from_mode(0o700)).unwrap();
    let victim = home.dir.path().join("victim");
    fs::write(&victim, "precious\n").unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::symlink(&victim, state.join("token")).unwrap();
    let output = client_with(&home, &state);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("symbolic link"), "{}", stderr(&output));
    assert!(stderr(&output).contains(&state.join("token").display().to_string()));
    let output = finish(&mut home.daemon_command(&state));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("symbolic link"), "{}", stderr(&output));
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");

    // Mode 0644: refused by both, not silently narrowed.
    let (state, _) = state_with_token(&home, "open");
    let token = state.join("token");
    fs::set_permissions(&token, fs::Permissions::from_mode(0o644)).unwrap();
    let output = client_with(&home, &state);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("mode 0644"), "{}", stderr(&output));
    let output = finish(&mut home.daemon_command(&state));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("mode 0644"), "{}", stderr(&output));

    // Another user's token.
    if running_as_root() {
        let (state, _) = state_with_token(&home, "foreign");
        let token = state.join("token");
        std::os::unix::fs::chown(&token, Some(NOBODY), Some(NOBODY)).unwrap();
        let output = client_with(&home, &state);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert!(
            stderr(&output).contains(&format!("belongs to user {NOBODY}")),
            "{}",
            stderr(&output)
        );
    } else {
        println!("skipped the foreign-owner case: chown needs root");
    }
}

#[test]
fn an_open_state_dir_is_narrowed_with_a_warning() {
    let home = Home::new();
    let state = home.state("state");
    fs::create_dir(&state).unwrap();
    fs::set_permissions(&state, fs::Permissions::from_mode(0o755)).unwrap();
    let mut daemon = home.daemon(&state);
    let mode = fs::metadata(&state).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "narrowed");
    assert_eq!(daemon.stop().code(), Some(0));
    let warning = daemon.stderr();
    assert!(warning.contains("had mode 0755; narrowed to 0700"), "{warning}");

    // The client narrows it too, and says so.
    fs::set_permissions(&state, fs::Permissions::from_mode(0o755)).unwrap();
    let output = client_with(&home, &state);
    assert!(stderr(&output).contains("had mode 0755; narrowed to 0700"), "{}", stderr(&output));
    assert_eq!(fs::metadata(&state).unwrap().permissions().mode() & 0o777, 0o700);
}
