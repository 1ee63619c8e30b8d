//! The guardian: a tiny forked process that kills our process groups if we die.
//!
//! `PR_SET_PDEATHSIG` reaches only the direct child, and only when the *thread* that forked it
//! exits, so it cannot take down a child's whole group when the supervisor is killed with
//! SIGKILL. Instead every [`Service`](crate::Service) forks one guardian at its first spawn. The
//! guardian holds the read end of a pipe; the service writes the group IDs it starts (and later
//! forgets) into the write end. When the write end closes — the service was dropped, or the
//! supervisor process died for any reason, SIGKILL included — the guardian reads end-of-file,
//! sends SIGKILL to every group still on its list, and exits.
//!
//! The guardian is forked without `exec`, so in the child only async-signal-safe calls are made:
//! `setsid`, `prctl`, `dup2`, `close`, `read`, `nanosleep`, `kill` and `_exit`. Its table is allocated by the
//! parent before the fork, so the child never allocates.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::sync::Mutex;

/// Pause between two reads of the pipe, in nanoseconds (20 ms).
const BATCH_PAUSE_NS: libc::c_long = 20_000_000;

/// Most groups one guardian tracks at once; beyond that new groups are not protected.
const CAPACITY: usize = 1 << 16;

/// Handle on a running guardian process. Dropping it closes the pipe, which makes the guardian
/// kill every group still registered, and then reaps it.
#[derive(Debug)]
pub(crate) struct Guardian {
    pid: libc::pid_t,
    pipe: Mutex<Option<File>>,
}

impl Guardian {
    /// Forks the guardian.
    pub(crate) fn spawn() -> io::Result<Self> {
        let (read_end, write_end) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
        let mut table: Vec<i32> = Vec::with_capacity(CAPACITY);
        let table_ptr = table.as_mut_ptr();
        let read_fd = read_end.as_raw_fd();
        // SAFETY: fork(2) has no memory-safety preconditions of its own. In the child we only
        // run `guardian_main`, which makes async-signal-safe calls and writes to the table the
        // parent allocated before the fork (the child's copy), so no lock held by another
        // thread at fork time is ever needed.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: in the freshly forked child; `table_ptr` points to CAPACITY writable i32s.
            unsafe { guardian_main(read_fd, table_ptr, CAPACITY) }
        }
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        drop(read_end);
        drop(table);
        Ok(Self { pid, pipe: Mutex::new(Some(File::from(write_end))) })
    }

    /// Adds a process group to the list killed when we die.
    pub(crate) fn watch(&self, pgid: u32) {
        self.send(pgid as i32);
    }

    /// Removes a process group from the list (it ended, or was handed over).
    pub(crate) fn forget(&self, pgid: u32) {
        self.send(-(pgid as i32));
    }

    fn send(&self, record: i32) {
        // A 4-byte write to a pipe is atomic. If the guardian is gone (it cannot exit on its own)
        // there is nothing better to do than carry on.
        let mut pipe = self.pipe.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pipe) = pipe.as_mut() {
            let _ = pipe.write_all(&record.to_ne_bytes());
        }
    }
}

impl Drop for Guardian {
    fn drop(&mut self) {
        // Close the write end, then reap the guardian, which exits as soon as it has read
        // end-of-file and killed what was left.
        drop(self.pipe.get_mut().unwrap_or_else(|e| e.into_inner()).take());
        let mut status = 0;
        // SAFETY: waitpid on our own child with a valid pointer to a local.
        unsafe {
            while libc::waitpid(self.pid, &mut status, 0) < 0
                && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
            {}
        }
    }
}

/// The guardian's whole life. Never returns.
///
/// # Safety
/// Must only be called in a freshly forked child, with `table` pointing to `capacity` writable
/// `i32`s.
unsafe fn guardian_main(read_fd: i32, table: *mut i32, capacity: usize) -> ! {
    // SAFETY (whole body): only async-signal-safe syscalls; raw pointer accesses stay below
    // `capacity`, and `buf` is a local array.
    unsafe {
        // Own session: terminal signals (Ctrl-C, hang-up) aimed at the supervisor's group
        // must not reach the guardian before it has done its job.
        libc::setsid();
        #[cfg(target_os = "linux")]
        libc::prctl(libc::PR_SET_NAME, c"tend-guardian".as_ptr() as libc::c_ulong, 0, 0, 0);
        // Keep only the pipe, as descriptor 0: holding a copy of some other pipe's write end
        // would stop that pipe from ever reaching end-of-file.
        libc::dup2(read_fd, 0);
        close_from(1);

        let mut len = 0usize;
        let mut buf = [0u8; 4096];
        let mut have = 0usize;
        loop {
            let n = libc::read(0, buf.as_mut_ptr().add(have).cast(), buf.len() - have);
            if n < 0 {
                if *errno() == libc::EINTR {
                    continue;
                }
                break;
            }
            if n == 0 {
                break;
            }
            have += n as usize;
            let whole = have - have % 4;
            let mut at = 0;
            while at < whole {
                let record = i32::from_ne_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
                at += 4;
                if record > 0 {
                    if len < capacity {
                        *table.add(len) = record;
                        len += 1;
                    }
                } else if let Some(i) = (0..len).find(|&i| *table.add(i) == -record) {
                    len -= 1;
                    *table.add(i) = *table.add(len);
                }
            }
            buf.copy_within(whole..have, 0);
            have -= whole;
            // Read in batches: every record would otherwise wake this process, a context
            // switch per start and per exit of a managed process. Records wait in the pipe
            // (16,384 fit) and end-of-file is seen at most this much later.
            let pause = libc::timespec { tv_sec: 0, tv_nsec: BATCH_PAUSE_NS };
            libc::nanosleep(&pause, std::ptr::null_mut());
        }
        for i in 0..len {
            libc::kill(-*table.add(i), libc::SIGKILL);
        }
        libc::_exit(0)
    }
}

/// Closes every descriptor from `first` upwards.
///
/// # Safety
/// Only for the forked guardian, which owns no Rust objects wrapping those descriptors.
unsafe fn close_from(first: u32) {
    // SAFETY: close_range(2) and close(2) are async-signal-safe.
    unsafe {
        #[cfg(target_os = "linux")]
        if libc::syscall(libc::SYS_close_range, first, u32::MAX, 0) == 0 {
            return;
        }
        let limit = libc::sysconf(libc::_SC_OPEN_MAX).clamp(256, 1 << 20) as i32;
        for fd in first as i32..limit {
            libc::close(fd);
        }
    }
}

#[cfg(target_os = "linux")]
unsafe fn errno() -> *mut i32 {
    // SAFETY: returns the calling thread's errno location; always valid.
    unsafe { libc::__errno_location() }
}

#[cfg(not(target_os = "linux"))]
unsafe fn errno() -> *mut i32 {
    // SAFETY: returns the calling thread's errno location; always valid.
    unsafe { libc::__error() }
}
