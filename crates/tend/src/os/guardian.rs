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
//! The group must be on the list from the moment the child exists: a supervisor killed
//! between `fork` and the registration the service writes after `spawn` returned used to leave
//! a whole group the guardian never heard of. Three ways close that window, none of which
//! needs a `pre_exec` hook on Linux (a hook makes std `fork` instead of `posix_spawn`, which
//! cost 0.4 ms a start):
//! * inside our own cgroup ([`contain`](super::contain)) the child is born in the cgroup,
//!   which the keeper kills if we die;
//! * with containment but no cgroup, the child carries the service's token in its
//!   environment and the guardian kills whatever carries it ([`sweep`](super::sweep)) — also
//!   the descendants that left their group;
//! * by default (no containment) the child carries the token too, and the guardian kills the
//!   groups of the token carriers that lead a group in the supervisor's session: exactly the
//!   children it may not have heard of yet, and nothing that left the session.
//!
//! Elsewhere (no `/proc` to sweep) the child registers itself, in a `pre_exec` hook (and it
//! holds a copy of the write end until `exec`, so end-of-file cannot come before its record).
//!
//! The guardian is forked without `exec`, so in the child only async-signal-safe calls are
//! made: `setsid`, `prctl`, `fcntl`, `dup2`, `close`, `read`, `pread`, `write`, `poll`,
//! `nanosleep`, `kill`, `rmdir`, the `/proc` scan and `_exit`. Its table is allocated by the
//! parent before the fork, so the child never allocates.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};

use super::contain::{Tagging, tagging};
use super::subreaper;

/// Pause between two reads of the pipe, in milliseconds, unless the pipe's write end closes.
const BATCH_PAUSE_MS: libc::c_int = 20;

/// Most groups one guardian tracks at once; beyond that new groups are not protected.
const CAPACITY: usize = 1 << 16;

/// How long a cgroup's members get to disappear after `cgroup.kill`, in milliseconds.
#[cfg(target_os = "linux")]
const CGROUP_EMPTY_WAIT_MS: u32 = 2_000;

/// Handle on a running guardian process. Dropping it closes the pipe, which makes the guardian
/// kill every group still registered (and the processes carrying its token), and then reaps
/// it.
#[derive(Debug)]
pub(crate) struct Guardian {
    pid: libc::pid_t,
    pipe: Mutex<Option<Arc<OwnedFd>>>,
    /// Children register themselves before `exec` (else the service registers them).
    self_registering: bool,
    /// The environment token, and the whole value of the marker variable children get.
    token: Option<(String, String)>,
    /// `MARKER=value`, built once for every child's environment.
    marker: Option<Arc<CString>>,
    /// Containment is on: [`kill_escapees`](Self::kill_escapees) has something to do.
    contained: bool,
}

impl Guardian {
    /// Forks the guardian of one service.
    pub(crate) fn spawn() -> io::Result<Self> {
        let tagging = tagging();
        let sweeps = cfg!(target_os = "linux") && tagging != Tagging::Cgroup;
        let token = sweeps.then(new_token);
        let mut at_end = AtEnd::nothing();
        if let Some((token, _)) = &token {
            at_end.token = token.as_ptr();
            at_end.token_len = token.len();
            at_end.leaders_only = tagging == Tagging::Off;
        }
        // Inside our cgroup the guardian must step out, or killing the cgroup from within
        // (a graceful stop) would kill it too.
        at_end.leave = super::contain::outside_procs().unwrap_or(-1);
        let (pid, pipe) = fork_guardian(&at_end)?;
        let marker = token.as_ref().map(|(_, value)| {
            let entry = format!("{}={value}", super::contain::MARKER);
            // Tokens are hex digits and the inherited value came from the environment: no NUL.
            Arc::new(CString::new(entry).unwrap_or_default())
        });
        Ok(Self {
            pid,
            pipe: Mutex::new(Some(pipe)),
            self_registering: tagging != Tagging::Cgroup && !sweeps,
            token,
            marker,
            contained: tagging != Tagging::Off,
        })
    }

    /// Forks the keeper of this process's cgroup: a guardian with no groups, which kills the
    /// cgroup and removes it when the pipe closes.
    #[cfg(target_os = "linux")]
    pub(crate) fn cgroup_keeper(cgroup: &super::cgroup::Cgroup) -> io::Result<Self> {
        let mut at_end = AtEnd::nothing();
        at_end.kill = cgroup.kill.as_raw_fd();
        at_end.events = cgroup.events.as_raw_fd();
        at_end.dir = cgroup.dir.as_ptr();
        Self::keeper(&at_end)
    }

    /// Forks the keeper of this process's token: a guardian with no groups, which kills
    /// whatever carries `token` when the pipe closes.
    #[cfg(target_os = "linux")]
    pub(crate) fn token_keeper(token: &str) -> io::Result<Self> {
        let mut at_end = AtEnd::nothing();
        at_end.token = token.as_ptr();
        at_end.token_len = token.len();
        Self::keeper(&at_end)
    }

    /// A process-wide guardian: separate from the services' own, so that killing one of
    /// them together with the supervisor still leaves one to act.
    #[cfg(target_os = "linux")]
    fn keeper(at_end: &AtEnd) -> io::Result<Self> {
        let at_end = AtEnd { name: c"tend-keeper".as_ptr(), ..*at_end };
        let (pid, pipe) = fork_guardian(&at_end)?;
        Ok(Self {
            pid,
            pipe: Mutex::new(Some(pipe)),
            self_registering: false,
            token: None,
            marker: None,
            contained: true,
        })
    }

    /// Prepares the protection of a child so that its process registers its group with the
    /// guardian (and carries the service's token) before it runs a single instruction of the
    /// program. The child must be in a process group of its own.
    pub(crate) fn protect(&self, protection: &mut super::spawn::Protection) {
        protection.marker.clone_from(&self.marker);
        if self.self_registering {
            protection.register = self.pipe.lock().unwrap_or_else(|e| e.into_inner()).clone();
        }
    }

    /// Adds a process group that [`protect`](Self::protect) did not have register itself.
    pub(crate) fn watch(&self, pgid: u32) {
        if !self.self_registering {
            self.send(pgid as i32);
        }
    }

    /// Removes a process group from the list (it ended, or was handed over).
    pub(crate) fn forget(&self, pgid: u32) {
        self.send(-(pgid as i32));
    }

    fn send(&self, record: i32) {
        let pipe = self.pipe.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pipe) = pipe.as_ref() {
            // A 4-byte write to a pipe is atomic. If the guardian is gone (it cannot exit on
            // its own) there is nothing better to do than carry on.
            let _ = rustix::io::write(pipe, &record.to_ne_bytes());
        }
    }

    /// Kills, now, what the service's processes started and that left their groups: whatever
    /// carries its token, or else every other process in our cgroup. Blocks for at most a
    /// few seconds.
    pub(crate) fn kill_escapees(&self) {
        if !self.contained {
            return;
        }
        match &self.token {
            #[cfg(target_os = "linux")]
            // SAFETY: the token is 32 bytes; sweep only makes system calls.
            Some((token, _)) => unsafe {
                super::sweep::sweep(token.as_bytes());
            },
            _ => super::contain::kill_cgroup_members(),
        }
    }
}

/// Forks a guardian that reads group records until end-of-file and then does `at_end`.
/// Returns its PID and the write end of its pipe.
fn fork_guardian(at_end: &AtEnd) -> io::Result<(libc::pid_t, Arc<OwnedFd>)> {
    let (read_end, write_end) = cloexec_pipe()?;
    let mut table: Vec<i32> = Vec::with_capacity(CAPACITY);
    let table_ptr = table.as_mut_ptr();
    let read_fd = read_end.as_raw_fd();
    // Held until the PID is registered, so the reaper never takes the guardian's status.
    let spawning = subreaper::spawn_lock();
    // SAFETY: fork(2) has no memory-safety preconditions of its own. In the child we only run
    // `guardian_main`, which makes async-signal-safe calls and writes to the table the parent
    // allocated before the fork (the child's copy), so no lock held by another thread at fork
    // time is ever needed.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: in the freshly forked child; `table_ptr` points to CAPACITY writable i32s
        // and `at_end` to buffers the parent allocated before the fork.
        unsafe { guardian_main(read_fd, table_ptr, CAPACITY, at_end) }
    }
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    subreaper::register(pid as u32);
    drop(spawning);
    Ok((pid, Arc::new(write_end)))
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

/// A fresh token, and the marker variable's value for our children: the tokens of the tends
/// that run us, if any, this process's (its keeper's), then the service's — each of them must
/// still find our children.
fn new_token() -> (String, String) {
    let token = super::contain::new_token();
    let tokens: Vec<String> = std::env::var(super::contain::MARKER)
        .ok()
        .filter(|outer| !outer.is_empty())
        .into_iter()
        .chain(super::contain::process_token().map(str::to_owned))
        .chain([token.clone()])
        .collect();
    (token, tokens.join(":"))
}

/// Writes the calling process's PID (its group ID) to the guardian's pipe.
///
/// # Safety
/// For a `pre_exec` hook: async-signal-safe.
pub(super) unsafe fn register_self(pipe: i32) {
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

/// What the guardian does besides the groups, prepared before the fork: raw descriptors and
/// pointers into buffers the parent keeps alive (the child has its own copy of them).
#[derive(Clone, Copy)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
struct AtEnd {
    /// The process name (`tend-guardian`, or `tend-keeper` for a cgroup's keeper).
    name: *const libc::c_char,
    /// `cgroup.procs` to write `0` to at start, leaving our cgroup; -1 for none.
    leave: i32,
    /// `cgroup.kill`, `cgroup.events` and the directory of a cgroup to kill at the end; -1
    /// and null for none.
    kill: i32,
    events: i32,
    dir: *const libc::c_char,
    /// The environment token to sweep for at the end; null for none.
    token: *const u8,
    token_len: usize,
    /// Sweep only the carriers that lead a process group in the supervisor's session (and
    /// kill their groups): the children spawned but maybe not registered yet.
    leaders_only: bool,
}

impl AtEnd {
    fn nothing() -> Self {
        Self {
            name: c"tend-guardian".as_ptr(),
            leave: -1,
            kill: -1,
            events: -1,
            dir: std::ptr::null(),
            token: std::ptr::null(),
            token_len: 0,
            leaders_only: false,
        }
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
        // The supervisor's session, before leaving it: its children lead groups in it.
        let session = libc::getsid(0);
        // Own session: terminal signals (Ctrl-C, hang-up) aimed at the supervisor's group
        // must not reach the guardian before it has done its job.
        libc::setsid();
        if at_end.leave >= 0 {
            libc::write(at_end.leave, b"0".as_ptr().cast(), 1);
        }
        #[cfg(target_os = "linux")]
        libc::prctl(libc::PR_SET_NAME, at_end.name as libc::c_ulong, 0, 0, 0);
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
            remove_cgroup(at_end.dir);
        } else if !at_end.token.is_null() {
            let token = std::slice::from_raw_parts(at_end.token, at_end.token_len);
            if at_end.leaders_only {
                super::sweep::sweep_group_leaders(token, session);
            } else {
                super::sweep::sweep(token);
            }
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
            // (16,384 fit). The pause is a poll for nothing but the hang-up: a record written
            // does not end it, the write end closing does, so end-of-file is seen at once (a
            // supervisor exiting waits for its guardian: a plain sleep cost every `tend up`
            // up to 20 ms at the end).
            let mut hang_up = libc::pollfd { fd: 0, events: 0, revents: 0 };
            libc::poll(&mut hang_up, 1, BATCH_PAUSE_MS);
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

/// Removes a killed cgroup's directory, and first the directories a `tend` we ran made in
/// it (one level: killed with ours, their keepers could not remove them).
///
/// # Safety
/// Async-signal-safe; `dir` is a NUL-terminated path.
#[cfg(target_os = "linux")]
unsafe fn remove_cgroup(dir: *const libc::c_char) {
    // SAFETY: open, getdents64, unlinkat, close and rmdir on our own descriptor and paths.
    unsafe {
        let fd = libc::open(dir, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC);
        if fd >= 0 {
            super::sweep::each_entry(fd, |name, c_name, kind| {
                if kind == libc::DT_DIR && name.starts_with(b"tend-") {
                    libc::unlinkat(fd, c_name, libc::AT_REMOVEDIR);
                }
            });
            libc::close(fd);
        }
        libc::rmdir(dir);
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

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    /// A supervisor that exits waits for its guardian (dropping it reaps it): the guardian must
    /// see the pipe close at once, not at the end of its pause between batches of records.
    #[test]
    fn dropping_a_guardian_does_not_wait_out_its_pause_between_batches() {
        let mut drops: Vec<Duration> = (0..9)
            .map(|_| {
                let guardian = Guardian::spawn().expect("forking a guardian");
                // A record puts the guardian in its pause once it has read it.
                guardian.forget(i32::MAX as u32);
                std::thread::sleep(Duration::from_millis(2));
                let start = Instant::now();
                drop(guardian);
                start.elapsed()
            })
            .collect();
        drops.sort();
        let median = drops[drops.len() / 2];
        // Waiting out the pause takes up to 20 ms (18 after the sleep above); a prompt exit a
        // fraction of a millisecond, about 10 at a load of 30 on two cores.
        assert!(
            median < Duration::from_millis(15),
            "dropping a guardian took {median:?} (median of {drops:?})"
        );
    }
}
