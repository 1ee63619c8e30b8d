//! Preparing a command before it is spawned.

use std::os::fd::AsFd;

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

/// Asks the kernel for a larger pipe buffer so a fast writer blocks less often.
/// Best effort: the size is capped by `/proc/sys/fs/pipe-max-size` and ignored elsewhere.
pub(crate) fn enlarge_pipe<Fd: AsFd>(fd: Fd, bytes: usize) {
    #[cfg(target_os = "linux")]
    {
        let _ = rustix::pipe::fcntl_setpipe_size(fd, bytes);
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (fd, bytes);
    }
}
