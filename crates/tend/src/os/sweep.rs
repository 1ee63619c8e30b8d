//! Finding and killing tagged processes by their environment, without a cgroup (Linux).
//!
//! Without a cgroup nothing the kernel keeps links a process that called `setsid` and was
//! re-parented to init back to whoever started its ancestor. The environment does: it is
//! inherited by every descendant that does not clear it. A service that cannot have a cgroup
//! gives its processes a variable holding a random token ([`MARKER`](super::contain::MARKER)), and [`sweep`] kills
//! every process whose `/proc/PID/environ` contains that token (the same idea as Jenkins'
//! `BUILD_ID`). A descendant that clears or replaces its environment is not found.
//!
//! [`sweep`] runs in the forked guardian, so it makes only async-signal-safe system calls
//! (`open`, `getdents64`, `read`, `lseek`, `close`, `kill`, `nanosleep`) on stack buffers.

/// Most passes over `/proc`: each one kills what the previous one missed (children forked
/// meanwhile), so a few suffice; the bound only stops a fork bomb from holding us forever.
const MAX_PASSES: usize = 64;

/// Kills, with SIGKILL, every other process whose environment contains `token`, pass after
/// pass until one finds none. Returns how many signals were sent.
///
/// # Safety
/// Async-signal-safe, so it may be called in a forked child of a threaded process. `token`
/// must be non-empty and at most 64 bytes.
pub(crate) unsafe fn sweep(token: &[u8]) -> usize {
    // SAFETY: only system calls on descriptors opened here and on stack buffers.
    unsafe {
        let dir =
            libc::open(c"/proc".as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC);
        if dir < 0 {
            return 0;
        }
        let me = libc::getpid();
        let mut total = 0;
        for _ in 0..MAX_PASSES {
            let (killed, not_yet) = one_pass(dir, me, token);
            total += killed;
            if killed == 0 && not_yet == 0 {
                break;
            }
            // Let the killed die, so the next pass does not find them again, and let a
            // process in the middle of `exec` show its environment.
            pause_and_rewind(dir);
        }
        libc::close(dir);
        total
    }
}

/// Sleeps 2 ms, then rewinds `dir` for another pass.
unsafe fn pause_and_rewind(dir: i32) {
    let pause = libc::timespec { tv_sec: 0, tv_nsec: 2_000_000 };
    // SAFETY: nanosleep with a local, lseek on our descriptor.
    unsafe {
        libc::nanosleep(&pause, std::ptr::null_mut());
        libc::lseek(dir, 0, libc::SEEK_SET);
    }
}

/// Kills, with SIGKILL, the process group of every process that carries `token`, leads its
/// own group and is in session `session`: the children of a supervisor that died before it
/// registered their groups. Descendants that left the session are spared (without
/// containment they are on their own). Passes repeat only while some leader could not show
/// its environment yet (it is in the middle of `exec`, which is exactly when the supervisor
/// may have died); a killed leader cannot start another one. Returns how many groups were
/// signalled.
///
/// # Safety
/// As [`sweep`].
pub(crate) unsafe fn sweep_group_leaders(token: &[u8], session: i32) -> usize {
    // SAFETY: only system calls on descriptors opened here and on stack buffers.
    unsafe {
        let dir =
            libc::open(c"/proc".as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC);
        if dir < 0 {
            return 0;
        }
        let mut killed = 0;
        for _ in 0..MAX_PASSES {
            let mut not_yet = 0;
            each_entry(dir, |name, _, _| {
                // The cheap test first: few processes lead a group in the session.
                let Some(pid) = parse_pid(name) else { return };
                if !matches!(stat_of(name), Some(stat) if stat.group == pid && stat.session == session)
                {
                    return;
                }
                match carrier(name, token) {
                    Carrier::Yes => {
                        libc::kill(-pid, libc::SIGKILL);
                        killed += 1;
                    }
                    Carrier::NotYet => not_yet += 1,
                    Carrier::No => {}
                }
            });
            if not_yet == 0 {
                break;
            }
            pause_and_rewind(dir);
        }
        libc::close(dir);
        killed
    }
}

/// One pass over the entries of `/proc` (open as `dir`): how many were killed, and how many
/// could not show their environment yet.
unsafe fn one_pass(dir: i32, me: i32, token: &[u8]) -> (usize, usize) {
    let (mut killed, mut not_yet) = (0, 0);
    // SAFETY: async-signal-safe helpers on stack buffers.
    unsafe {
        each_entry(dir, |name, _, _| {
            let Some(pid) = parse_pid(name) else { return };
            if pid == me {
                return;
            }
            match carrier(name, token) {
                Carrier::Yes => {
                    libc::kill(pid, libc::SIGKILL);
                    killed += 1;
                }
                Carrier::NotYet => not_yet += 1,
                Carrier::No => {}
            }
        });
    }
    (killed, not_yet)
}

/// Whether a process carries the token.
enum Carrier {
    Yes,
    No,
    /// A live user process whose environment reads empty: it is in the middle of `exec`
    /// (the new environment is set up a moment after the old descriptors close, so a guardian
    /// woken by that close can look too early). Look again.
    NotYet,
}

/// Whether `/proc/<pid>` carries `token` in its environment.
unsafe fn carrier(pid: &[u8], token: &[u8]) -> Carrier {
    // SAFETY: async-signal-safe helpers on stack buffers.
    match unsafe { environ_contains(pid, token) } {
        Some(true) => Carrier::Yes,
        Some(false) => Carrier::No,
        // Kernel threads (children of kthreadd, PID 2) and zombies read empty for good.
        None => match unsafe { stat_of(pid) } {
            Some(stat) if stat.state != b'Z' && stat.parent != 2 && stat.parent != 0 => {
                Carrier::NotYet
            }
            _ => Carrier::No,
        },
    }
}

/// The fields of `/proc/<pid>/stat` a sweep needs.
struct Stat {
    state: u8,
    parent: i32,
    group: i32,
    session: i32,
}

/// `/proc/<pid>/stat`, or `None` if unreadable.
unsafe fn stat_of(pid: &[u8]) -> Option<Stat> {
    let mut buf = [0u8; 1024];
    // SAFETY: reads into a stack buffer.
    let len = unsafe { read_proc_file(pid, b"/stat\0", &mut buf)? };
    // `pid (comm) state ppid pgrp session …`; comm may hold spaces and parentheses, so
    // start after the last `)`.
    let after = &buf[buf[..len].iter().rposition(|&b| b == b')')? + 1..len];
    let mut fields = after.split(|&b| b == b' ').filter(|f| !f.is_empty());
    let state = *fields.next()?.first()?;
    let parent = parse_pid(fields.next()?)?;
    let group = parse_pid(fields.next()?)?;
    let session = parse_pid(fields.next()?)?;
    Some(Stat { state, parent, group, session })
}

/// Opens `/proc/<pid><file>` (`file` NUL-terminated, `pid` at most 9 digits) read-only;
/// the descriptor, or -1.
unsafe fn open_proc_file(pid: &[u8], file: &[u8]) -> i32 {
    let mut path = [0u8; 32];
    let mut len = 0;
    for part in [b"/proc/".as_slice(), pid, file] {
        path[len..len + part.len()].copy_from_slice(part);
        len += part.len();
    }
    // SAFETY: `path` is NUL-terminated (the last part ends with NUL).
    unsafe { libc::open(path.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC) }
}

/// Reads `/proc/<pid><file>` (`file` NUL-terminated) into `buf`; how many bytes, or `None`.
unsafe fn read_proc_file(pid: &[u8], file: &[u8], buf: &mut [u8]) -> Option<usize> {
    // SAFETY: `file` is NUL-terminated; the descriptor is closed below.
    unsafe {
        let fd = open_proc_file(pid, file);
        if fd < 0 {
            return None;
        }
        let n = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
        libc::close(fd);
        (n > 0).then_some(n as usize)
    }
}

/// Calls `visit(name, name as a C string, type)` for each entry of the open directory `dir`
/// from its current offset on, with `getdents64` into a stack buffer.
///
/// # Safety
/// Async-signal-safe as long as `visit` is; the C string lives only during the call.
pub(crate) unsafe fn each_entry(dir: i32, mut visit: impl FnMut(&[u8], *const libc::c_char, u8)) {
    let mut entries = [0u8; 8192];
    loop {
        // SAFETY: getdents64 writes at most `entries.len()` bytes into the buffer.
        let n = unsafe {
            libc::syscall(libc::SYS_getdents64, dir, entries.as_mut_ptr(), entries.len())
        };
        if n <= 0 {
            return;
        }
        let mut at = 0usize;
        while at + 19 < n as usize {
            // struct linux_dirent64: u64 ino, i64 off, u16 reclen, u8 type, name (NUL-ended).
            let reclen = u16::from_ne_bytes([entries[at + 16], entries[at + 17]]) as usize;
            if reclen == 0 {
                break;
            }
            let name = &entries[at + 19..(at + reclen).min(n as usize)];
            let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
            visit(name, entries[at + 19..].as_ptr().cast(), entries[at + 18]);
            at += reclen;
        }
    }
}

fn parse_pid(name: &[u8]) -> Option<i32> {
    if name.is_empty() || name.len() > 9 || !name.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(name.iter().fold(0i32, |n, d| n * 10 + i32::from(d - b'0')))
}

/// Whether `/proc/<pid>/environ` contains `token`. Unreadable (another user's, or gone) is
/// no; an environment that reads empty is `None`.
unsafe fn environ_contains(pid: &[u8], token: &[u8]) -> Option<bool> {
    // SAFETY: the path is NUL-terminated; the descriptor is closed below.
    let fd = unsafe { open_proc_file(pid, b"/environ\0") };
    if fd < 0 {
        return Some(false);
    }
    // The token may straddle two reads: keep its length minus one byte of the previous read.
    let keep = token.len() - 1;
    let mut buf = [0u8; 4096 + 64];
    let mut have = 0usize;
    let mut found = false;
    let mut total = 0usize;
    loop {
        // SAFETY: reads into the free part of the stack buffer.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().add(have).cast(), buf.len() - have) };
        if n <= 0 {
            break;
        }
        total += n as usize;
        have += n as usize;
        // A plain search: no allocation, nothing that is not async-signal-safe.
        if buf[..have].windows(token.len()).any(|window| window == token) {
            found = true;
            break;
        }
        let tail = keep.min(have);
        buf.copy_within(have - tail..have, 0);
        have = tail;
    }
    // SAFETY: our own descriptor.
    unsafe { libc::close(fd) };
    (total > 0).then_some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pids_are_all_digit_names() {
        assert_eq!(parse_pid(b"1234"), Some(1234));
        assert_eq!(parse_pid(b"self"), None);
        assert_eq!(parse_pid(b""), None);
        assert_eq!(parse_pid(b"12345678901"), None);
    }
}
