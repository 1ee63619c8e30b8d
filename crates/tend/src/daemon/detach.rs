//! Starting a daemon in the background: detached from the starter's session and terminal,
//! its output appended to a log file.

use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::state_file::{check_regular, open_state_file};

/// Spawns `command` detached: in a session and process group of its own (the starter's
/// terminal closing or its Ctrl-C never reach it), stdin `/dev/null`, stdout and stderr
/// appended to `log`. The log is created `0600` when missing and never opened through a
/// symbolic link; it must be a regular file.
///
/// The starter may exit at once: the child goes on (its parent becomes init or the nearest
/// subreaper). The returned [`Child`] lets the starter notice an early exit.
///
/// ```no_run
/// let mut command = std::process::Command::new("/usr/bin/mydaemon");
/// command.arg("--serve");
/// let child = tend::daemon::spawn_detached(&mut command, "/var/tmp/mydaemon.log".as_ref())?;
/// println!("started {}", child.id());
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
///
/// The log cannot be opened (a symbolic link, not a regular file, no permission), or the
/// spawn fails.
pub fn spawn_detached(command: &mut Command, log: &Path) -> io::Result<Child> {
    let file = open_state_file(OpenOptions::new().append(true).create(true).mode(0o600), log)
        .map_err(io::Error::other)?;
    let metadata = file.metadata()?;
    check_regular(log, &metadata).map_err(io::Error::other)?;
    command.stdin(Stdio::null()).stdout(file.try_clone()?).stderr(file);
    crate::os::new_session_on_spawn(command);
    command.spawn()
}
