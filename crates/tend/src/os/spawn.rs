//! Preparing a command before it is spawned.

use std::os::fd::AsFd;

/// Puts the child into a process group of its own, and for a detached child also a session of
/// its own, so that neither terminal signals nor a hang-up of our session reach it.
pub(crate) fn configure_group(command: &mut tokio::process::Command, detach: bool) {
    command.process_group(0);
    if detach {
        // SAFETY: the closure runs in the forked child before exec; it only calls setsid(2),
        // which is async-signal-safe, and neither allocates nor takes locks.
        unsafe {
            command.pre_exec(|| {
                // The child already leads its own group; setsid moves that group into a new
                // session. It cannot fail for a group leader that is not a session leader.
                let _ = rustix::process::setsid();
                Ok(())
            });
        }
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
