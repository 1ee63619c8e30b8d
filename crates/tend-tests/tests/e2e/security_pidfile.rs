//! State files are never written through a symbolic link, and a full disk leaves no empty PID
//! file behind (issue 10, defect 5).

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use tend::daemon::{PidFile, PidFileError, StateFileError, read_pid};

use crate::daemon_support::running_as_root;
use crate::security_support::{Home, finish};

/// A state directory whose `tend.pid` is a link to a file with content.
fn linked_pid_file(home: &Home) -> (PathBuf, PathBuf) {
    let state = home.state("state");
    fs::create_dir(&state).unwrap();
    fs::set_permissions(&state, fs::Permissions::from_mode(0o700)).unwrap();
    let victim = home.dir.path().join("victim");
    fs::write(&victim, "precious\n").unwrap();
    std::os::unix::fs::symlink(&victim, state.join("tend.pid")).unwrap();
    (state, victim)
}

#[test]
fn the_daemon_refuses_a_symlinked_pid_file() {
    let home = Home::new();
    let (state, victim) = linked_pid_file(&home);
    let output = finish(&mut home.daemon_command(&state));
    let message = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(message.contains("symbolic link"), "{message}");
    assert!(message.contains(&state.join("tend.pid").display().to_string()), "{message}");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n", "victim untouched");
    assert!(!state.join("token").exists(), "stopped before the token");
}

#[test]
fn the_library_pid_file_refuses_symbolic_links() {
    let home = Home::new();
    let (state, victim) = linked_pid_file(&home);
    let link = state.join("tend.pid");
    match PidFile::acquire(&link) {
        Err(PidFileError::Refused(StateFileError::Symlink { path })) => assert_eq!(path, link),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let error = read_pid(&link).unwrap_err();
    assert!(error.to_string().contains("symbolic link"), "{error}");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");

    // A FIFO in its place is refused too, without blocking.
    let fifo = state.join("fifo.pid");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let error = PidFile::acquire(&fifo).unwrap_err();
    assert!(error.to_string().contains("a FIFO"), "{error}");
}

/// A 4 KiB tmpfs, filled up, unmounted on drop.
struct FullDisk {
    dir: tempfile::TempDir,
}

impl FullDisk {
    /// `None` (with the reason printed) where mounting is not allowed.
    fn mount() -> Option<Self> {
        if !running_as_root() {
            println!("skipped: mounting a tmpfs needs root");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4k,mode=0700", "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(mounted.success(), "mount a tmpfs on {}", dir.path().display());
        Some(Self { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes until the file system is full.
    fn fill(&self) {
        let mut filler = fs::File::create(self.path().join("filler")).unwrap();
        let chunk = [b'x'; 512];
        let error = loop {
            if let Err(e) = filler.write_all(&chunk) {
                break e;
            }
        };
        assert_eq!(error.kind(), std::io::ErrorKind::StorageFull, "{error}");
    }
}

impl Drop for FullDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

#[test]
fn a_full_disk_leaves_no_empty_pid_file_and_says_so() {
    let Some(disk) = FullDisk::mount() else { return };
    let state = disk.path().join("state");
    fs::create_dir(&state).unwrap();
    disk.fill();

    let path = state.join("app.pid");
    let error = PidFile::acquire(&path).unwrap_err();
    assert!(error.to_string().contains("disk is full"), "{error}");
    assert!(!path.exists(), "no 0-byte PID file left behind");

    let home = Home::new();
    let output = finish(&mut home.daemon_command(&state));
    let message = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(message.contains("disk is full"), "{message}");
    assert!(!message.contains("another"), "not blamed on another daemon: {message}");
    assert!(!state.join("tend.pid").exists(), "no 0-byte PID file left behind");
}
