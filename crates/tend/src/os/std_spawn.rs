//! Starting a managed process through std (Tokio's `Command`): the path wherever our own
//! `clone3` one is not available, and the group set-up other commands of the crate share.

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::process::Stdio;

use super::child::Child;
use super::spawn::{Redirect, SpawnRequest};

/// Starts `request` with Tokio's `Command`; `pipes` holds the child's ends of the pipes.
pub(super) fn spawn(request: &SpawnRequest<'_>, pipes: &[Option<OwnedFd>; 3]) -> io::Result<Child> {
    let mut command = tokio::process::Command::new(request.program);
    command.args(request.args);
    if let Some(dir) = request.dir {
        command.current_dir(dir);
    }
    if request.clear_env {
        command.env_clear();
    }
    command.envs(request.env.iter().map(|(k, v)| (k, v)));
    let mut stdio = Vec::with_capacity(3);
    for (redirect, pipe) in request.stdio.iter().zip(pipes) {
        stdio.push(match (redirect, pipe) {
            (Redirect::Inherit, _) => Stdio::inherit(),
            (Redirect::Null, _) => Stdio::null(),
            (Redirect::Pipe, Some(pipe)) => Stdio::from(pipe.try_clone()?),
            (Redirect::Pipe, None) => Stdio::null(),
            (Redirect::Fd(fd), _) => Stdio::from(fd.try_clone_to_owned()?),
        });
    }
    let mut stdio = stdio.into_iter();
    command.stdin(stdio.next().unwrap_or_else(Stdio::null));
    command.stdout(stdio.next().unwrap_or_else(Stdio::null));
    command.stderr(stdio.next().unwrap_or_else(Stdio::null));
    configure_group(&mut command, request.detach);
    if let Some(marker) = &request.protection.marker {
        let entry = marker.as_bytes();
        let value = entry.splitn(2, |&b| b == b'=').nth(1).unwrap_or_default();
        command.env(super::contain::MARKER, OsStr::from_bytes(value));
    }
    if let Some(pipe) = request.protection.register.clone() {
        // SAFETY: the hook runs in the forked child before exec and makes only
        // async-signal-safe calls (getpid, sigaction, write) on a descriptor the closure keeps
        // open (the `Arc` lives as long as the command).
        unsafe {
            command.pre_exec(move || {
                super::guardian::register_self(pipe.as_raw_fd());
                Ok(())
            });
        }
    }
    let child = command.spawn()?;
    // `command` (dropped here) holds copies of the pipes and of the guardian's pipe.
    Ok(Child::from_tokio(child))
}

/// Puts the child into a process group of its own, and for a detached child also a session of
/// its own, so that neither terminal signals nor a hang-up of our session reach it.
pub(crate) fn configure_group(command: &mut tokio::process::Command, detach: bool) {
    if detach {
        // Not `process_group(0)` as well: std applies it before `pre_exec` hooks, and
        // setsid(2) fails with EPERM for a process that already leads a group, which left
        // "detached" children in our session. setsid alone makes the child the leader of a new
        // session and of a new group whose id is its PID, the same group id as below.
        // Inside our own cgroup (containment), a detached child steps back out of it: killing
        // the cgroup when we stop or die must not reach it.
        let leave = super::contain::outside_procs();
        // SAFETY: the closure runs in the forked child before exec; it only calls setsid(2)
        // and write(2) on a descriptor that lives as long as the process, both
        // async-signal-safe, and neither allocates nor takes locks.
        unsafe {
            command.pre_exec(move || {
                // A fresh child leads no group, so this cannot fail; if it somehow did, refuse
                // to start rather than run attached while claiming to be detached.
                rustix::process::setsid()?;
                if let Some(procs) = leave
                    && libc::write(procs, b"0".as_ptr().cast(), 1) != 1
                {
                    // As above: not detached from our cgroup is not detached.
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    } else {
        command.process_group(0);
    }
}
