//! The guardian: a tiny forked process that kills our processes if we die.
//!
//! `PR_SET_PDEATHSIG` reaches only the direct child, and only when the *thread* that forked it
//! exits, so it cannot take down a child's whole group when the supervisor is killed with
//! SIGKILL. Instead every [`Service`](crate::Service) forks one guardian at its first spawn. The
//! guardian holds the read end of a pipe; each managed process writes its own group ID into
//! the write end before it `exec`s, and the service writes the groups it forgets. When the
//! write end closes — the service was dropped, or the supervisor process died for any reason,
//! SIGKILL included — the guardian reads end-of-file, sends SIGKILL to every group still on its
//! list, and exits.
//!
//! The child registers itself, in a `pre_exec` hook, rather than the service after `spawn`
//! returns: a supervisor killed in between used to leave a group the guardian never heard of
//! (and the child keeps a copy of the write end until `exec`, so end-of-file cannot come
//! before its record).
//!
//! With containment on ([`contain`](super::contain)) the guardian also finds descendants that
//! left their group: every process of the service is in the service's cgroup, which it kills
//! with `cgroup.kill`; or, without a writable cgroup, it carries a token in its environment,
//! and the guardian kills whatever carries it ([`sweep`](super::sweep)).
//!
//! The guardian is forked without `exec`, so in the child only async-signal-safe calls are
//! made: `setsid`, `prctl`, `fcntl`, `dup2`, `close`, `read`, `pread`, `write`, `nanosleep`,
//! `kill`, `rmdir`, the `/proc` scan and `_exit`. Its table is allocated by the parent before
//! the fork, so the child never allocates.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};

use super::contain::{Tagging, tagging};
use super::subreaper;

/// Pause between two reads of the pipe, in nanoseconds (20 ms).
const BATCH_PAUSE_NS: libc::c_long = 20_000_000;

/// Most groups one guardian tracks at once; beyond that new groups are not protected.
const CAPACITY: usize = 1 << 16;

/// How long a cgroup's members get to disappear after `cgroup.kill`, in milliseconds.
#[cfg(target_os = "linux")]
const CGROUP_EMPTY_WAIT_MS: u32 = 2_000;

/// Handle on a running guardian process. Dropping it closes the pipe, which makes the guardian
/// kill every group still registered (and the service's cgroup or tagged processes), and then
/// reaps it.
#[derive(Debug)]
pub(crate) struct Guardian {
    pid: libc::pid_t,
    pipe: Mutex<Option<Arc<OwnedFd>>>,
    tag: Tag,
}

/// How this guardian's service finds its processes beyond their groups.
#[derive(Debug)]
enum Tag {
    None,
    #[cfg(target_os = "linux")]
    Cgroup(super::cgroup::Cgroup),
    /// The token, and the whole value of the marker variable children get.
    Environment {
        token: String,
        value: String,
    },
}

impl Guardian {
    /// Forks the guardian.
    pub(crate) fn spawn() -> io::Result<Self> {
        let tag = new_tag();
        let (read_end, write_end) = cloexec_pipe()?;
        let mut table: Vec<i32> = Vec::with_capacity(CAPACITY);
        let at_end = AtEnd::of(&tag);
        let table_ptr = table.as_mut_ptr();
        let read_fd = read_end.as_raw_fd();
        // Held until the PID is registered, so the reaper never takes the guardian's status.
        let spawning = subreaper::spawn_lock();
        // SAFETY: fork(2) has no memory-safety preconditions of its own. In the child we only
        // run `guardian_main`, which makes async-signal-safe calls and writes to the table the
        // parent allocated before the fork (the child's copy), so no lock held by another
        // thread at fork time is ever needed.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: in the freshly forked child; `table_ptr` points to CAPACITY writable i32s
            // and `at_end` to buffers the parent allocated before the fork.
            unsafe { guardian_main(read_fd, table_ptr, CAPACITY, &at_end) }
        }
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        subreaper::register(pid as u32);
        drop(spawning);
        drop(read_end);
        drop(table);
        Ok(Self { pid, pipe: Mutex::new(Some(Arc::new(write_end))), tag })
    }

    /// Prepares a command so that its process registers its group with the guardian (and
    /// joins the service's cgroup, or carries its token) before it runs a single instruction
    /// of the program. The command must put the child in a process group of its own.
    pub(crate) fn protect(&self, command: &mut tokio::process::Command) {
        let Some(pipe) = self.pipe.lock().unwrap_or_else(|e| e.into_inner()).clone() else {
            return;
        };
        #[cfg(target_os = "linux")]
        let procs = match &self.tag {
            Tag::Cgroup(cgroup) => Some(cgroup.procs.clone()),
            _ => None,
        };
        #[cfg(not(target_os = "linux"))]
        let procs: Option<Arc<OwnedFd>> = None;
        if let Tag::Environment { value, .. } = &self.tag {
            command.env(super::contain::MARKER, value);
        }
        // SAFETY: the hook runs in the forked child before exec and makes only
        // async-signal-safe calls (getpid, sigaction, write) on descriptors the closure keeps
        // open (the `Arc`s live as long as the command).
        unsafe {
            command.pre_exec(move || {
                if let Some(procs) = &procs {
                    // "0" moves the writer. Should it fail the process still has its group.
                    libc::write(procs.as_raw_fd(), b"0".as_ptr().cast(), 1);
                }
                register_self(pipe.as_raw_fd());
                Ok(())
            });
        }
    }

    /// Removes a process group from the list (it ended, or was handed over).
    pub(crate) fn forget(&self, pgid: u32) {
        let pipe = self.pipe.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pipe) = pipe.as_ref() {
            // A 4-byte write to a pipe is atomic. If the guardian is gone (it cannot exit on
            // its own) there is nothing better to do than carry on.
            let _ = rustix::io::write(pipe, &(-(pgid as i32)).to_ne_bytes());
        }
    }

    /// Kills, now, every process of the service that is still in its cgroup or carries its
    /// token: the descendants that left their group. Blocks for at most a few seconds.
    pub(crate) fn kill_escapees(&self) {
        match &self.tag {
            Tag::None => {}
            #[cfg(target_os = "linux")]
            Tag::Cgroup(cgroup) => {
                // SAFETY: descriptors the cgroup owns; async-signal-safe calls on them.
                unsafe { kill_cgroup(cgroup.kill.as_raw_fd(), cgroup.events.as_raw_fd()) };
            }
            Tag::Environment { token, .. } => {
                #[cfg(target_os = "linux")]
                // SAFETY: the token is 32 bytes; sweep only makes system calls.
                unsafe {
                    super::sweep::sweep(token.as_bytes())
                };
                #[cfg(not(target_os = "linux"))]
                let _ = token;
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn cloexec_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?)
}

/// No `pipe2` on macOS: set close-on-exec right after (nothing else forks in between that
/// matters: such a child would hold the pipe only until its own `exec`).
#[cfg(not(target_os = "linux"))]
fn cloexec_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let (read_end, write_end) = rustix::pipe::pipe()?;
    for end in [&read_end, &write_end] {
        rustix::io::fcntl_setfd(end, rustix::io::FdFlags::CLOEXEC)?;
    }
    Ok((read_end, write_end))
}

/// The tag for a guardian forked now, as containment is configured.
fn new_tag() -> Tag {
    let token = || uuid::Uuid::now_v7().simple().to_string();
    match tagging() {
        Tagging::Off => Tag::None,
        #[cfg(target_os = "linux")]
        Tagging::Cgroup => match super::cgroup::Cgroup::create() {
            Ok(cgroup) => Tag::Cgroup(cgroup),
            Err(error) => {
                tracing::debug!(%error, "cannot create a cgroup; tagging by environment");
                environment_tag(token())
            }
        },
        _ => environment_tag(token()),
    }
}

fn environment_tag(token: String) -> Tag {
    // Keep the tokens of the tends that run us: each of them must still find our children.
    let value = match std::env::var(super::contain::MARKER) {
        Ok(outer) if !outer.is_empty() => format!("{outer}:{token}"),
        _ => token.clone(),
    };
    Tag::Environment { token, value }
}

/// Writes the calling process's PID (its group ID) to the guardian's pipe.
///
/// # Safety
/// For a `pre_exec` hook: async-signal-safe.
unsafe fn register_self(pipe: i32) {
    // SAFETY: getpid, sigaction and write are async-signal-safe; the sigactions are locals.
    unsafe {
        let record = libc::getpid().to_ne_bytes();
        // SIGPIPE is back at its default in the child: a guardian that is gone must not kill
        // the process before it starts, so ignore it around the write.
        let mut ignore: libc::sigaction = std::mem::zeroed();
        ignore.sa_sigaction = libc::SIG_IGN;
        let mut previous: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGPIPE, &ignore, &mut previous);
        libc::write(pipe, record.as_ptr().cast(), record.len());
        libc::sigaction(libc::SIGPIPE, &previous, std::ptr::null_mut());
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
        subreaper::unregister(self.pid as u32);
    }
}

/// What the guardian does after the groups, prepared before the fork: raw descriptors and
/// pointers into buffers the parent keeps alive (the child has its own copy of them).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
struct AtEnd {
    /// `cgroup.kill`, `cgroup.events` and the directory; -1 and null without a cgroup.
    kill: i32,
    events: i32,
    dir: *const libc::c_char,
    /// The environment token; null without one.
    token: *const u8,
    token_len: usize,
}

impl AtEnd {
    fn of(tag: &Tag) -> Self {
        let mut at_end = Self {
            kill: -1,
            events: -1,
            dir: std::ptr::null(),
            token: std::ptr::null(),
            token_len: 0,
        };
        match tag {
            Tag::None => {}
            #[cfg(target_os = "linux")]
            Tag::Cgroup(cgroup) => {
                at_end.kill = cgroup.kill.as_raw_fd();
                at_end.events = cgroup.events.as_raw_fd();
                at_end.dir = cgroup.dir.as_ptr();
            }
            Tag::Environment { token, .. } => {
                at_end.token = token.as_ptr();
                at_end.token_len = token.len();
            }
        }
        at_end
    }
}

/// The guardian's whole life. Never returns.
///
/// # Safety
/// Must only be called in a freshly forked child, with `table` pointing to `capacity` writable
/// `i32`s and `at_end`'s pointers valid.
unsafe fn guardian_main(read_fd: i32, table: *mut i32, capacity: usize, at_end: &AtEnd) -> ! {
    // SAFETY (whole body): only async-signal-safe syscalls; raw pointer accesses stay below
    // `capacity`, and `buf` is a local array.
    unsafe {
        // Own session: terminal signals (Ctrl-C, hang-up) aimed at the supervisor's group
        // must not reach the guardian before it has done its job.
        libc::setsid();
        #[cfg(target_os = "linux")]
        libc::prctl(libc::PR_SET_NAME, c"tend-guardian".as_ptr() as libc::c_ulong, 0, 0, 0);
        // Keep only the pipe (as 0) and the cgroup's files (as 1 and 2): holding a copy of
        // some other pipe's write end would stop that pipe from ever reaching end-of-file.
        // Out of the way first, so no dup2 overwrites a descriptor still to be moved.
        let keep = [read_fd, at_end.kill, at_end.events];
        let moved = keep.map(|fd| if fd < 0 { -1 } else { libc::fcntl(fd, libc::F_DUPFD, 10) });
        for (target, fd) in moved.iter().enumerate() {
            if *fd >= 0 {
                libc::dup2(*fd, target as i32);
            } else {
                libc::close(target as i32);
            }
        }
        close_from(3);

        let len = read_records(table, capacity);
        for i in 0..len {
            libc::kill(-*table.add(i), libc::SIGKILL);
        }
        #[cfg(target_os = "linux")]
        if !at_end.dir.is_null() {
            kill_cgroup(1, 2);
            libc::rmdir(at_end.dir);
        } else if !at_end.token.is_null() {
            super::sweep::sweep(std::slice::from_raw_parts(at_end.token, at_end.token_len));
        }
        libc::_exit(0)
    }
}

/// Reads group records from descriptor 0 until end-of-file; returns how many are listed.
///
/// # Safety
/// As [`guardian_main`].
unsafe fn read_records(table: *mut i32, capacity: usize) -> usize {
    // SAFETY: as the caller's.
    unsafe {
        let mut len = 0usize;
        let mut buf = [0u8; 4096];
        let mut have = 0usize;
        loop {
            let n = libc::read(0, buf.as_mut_ptr().add(have).cast(), buf.len() - have);
            if n < 0 {
                if *errno() == libc::EINTR {
                    continue;
                }
                return len;
            }
            if n == 0 {
                return len;
            }
            have += n as usize;
            let whole = have - have % 4;
            let mut at = 0;
            while at < whole {
                let record = i32::from_ne_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
                at += 4;
                // A multiset: the same group ID can be listed twice while a forgotten group's
                // record and a new group that reuses the ID cross in the pipe.
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
    }
}

/// Writes `1` to `cgroup.kill` and waits, boundedly, until `cgroup.events` says the cgroup
/// is empty.
///
/// # Safety
/// Async-signal-safe; `kill` and `events` are open descriptors of those files.
#[cfg(target_os = "linux")]
unsafe fn kill_cgroup(kill: i32, events: i32) {
    // SAFETY: write, pread and nanosleep on our descriptors and a stack buffer.
    unsafe {
        libc::write(kill, b"1".as_ptr().cast(), 1);
        let mut buf = [0u8; 256];
        for _ in 0..CGROUP_EMPTY_WAIT_MS {
            let n = libc::pread(events, buf.as_mut_ptr().cast(), buf.len(), 0);
            if n <= 0 || buf[..n as usize].windows(11).any(|w| w == b"populated 0") {
                return;
            }
            let pause = libc::timespec { tv_sec: 0, tv_nsec: 1_000_000 };
            libc::nanosleep(&pause, std::ptr::null_mut());
        }
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
