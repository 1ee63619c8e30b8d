//! Starting a child with the raw `clone3` system call, the way `vfork` does (Linux on x86_64
//! and aarch64).
//!
//! Why not std: glibc's `posix_spawn` resets every signal disposition in the child one
//! `rt_sigaction` at a time and maps a stack for it, and as soon as a command has a
//! `pre_exec` hook std forks instead, copying the supervisor's page tables. Here one system
//! call, `clone3(CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_CLEAR_SIGHAND)`, creates a child
//! that shares our memory until it `exec`s, starts with every handled signal back at its
//! default, and comes with a pidfd to wait on.
//!
//! The child runs [`child_main`] on a stack lent by the parent, does only raw system calls
//! (no libc, no allocation, no locks, no thread-locals, nothing that can panic) and either
//! `execve`s or stores its errno in the shared [`ChildPlan`] and exits with status 127.
//! Everything it needs is prepared by the parent ([`exec_plan`](super::exec_plan)).
//!
//! Kernels without `clone3`, `CLONE_CLEAR_SIGHAND` (before 5.5) or a seccomp filter that
//! refuses the call: the first attempt fails with `ENOSYS`, `EINVAL` or `EPERM`, which is
//! remembered, and every spawn takes std's path ([`spawn`](super::spawn)).

use std::ffi::c_char;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, AtomicU8, Ordering};

/// What the child does between `clone3` and `execve`, prepared by the parent. The pointers
/// stay valid while the parent is suspended (it owns what they point to).
#[repr(C)]
pub(super) struct ChildPlan {
    /// Paths to `execve` in turn (the `PATH` search), null-terminated.
    pub(super) candidates: *const *const c_char,
    pub(super) argv: *const *const c_char,
    pub(super) envp: *const *const c_char,
    /// Descriptors to put on 0, 1 and 2; -1 leaves that one as it is.
    pub(super) stdio: [i32; 3],
    /// Directory to change to; null for none.
    pub(super) cwd: *const c_char,
    /// `setsid` (a detached child) instead of `setpgid(0, 0)`.
    pub(super) new_session: bool,
    /// `cgroup.procs` to write `0` to (leaving our cgroup); -1 for none.
    pub(super) leave_procs: i32,
    /// The guardian's pipe to write our PID to; -1 for none.
    pub(super) register: i32,
    /// The highest of the [spawn slots](super::fd_slots) the descriptors above are on: the
    /// child shares our descriptor table (`CLONE_FILES`) and keeps only the numbers up to
    /// this one. -1: the child gets a copy of the whole table, as with `fork`.
    pub(super) slots_top: i32,
    /// Set by the child to the errno of the step that failed; 0 while all goes well.
    pub(super) error: AtomicI32,
}

/// The kernel's `struct clone_args` (version 2, with `cgroup`).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

const CLONE_VM: u64 = 0x100;
const CLONE_FILES: u64 = 0x400;
const CLONE_VFORK: u64 = 0x4000;
const CLONE_PIDFD: u64 = 0x1000;
const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;

/// The child's stack, lent from the parent's frame. [`child_main`] needs well under a page;
/// the rest is headroom for unoptimised builds.
const CHILD_STACK: usize = 16 * 1024;

#[repr(C, align(16))]
struct ChildStack([u8; CHILD_STACK]);

/// What the first `clone3` taught us.
static AVAILABLE: AtomicU8 = AtomicU8::new(UNKNOWN);
const UNKNOWN: u8 = 0;
const WORKS: u8 = 1;
const UNAVAILABLE: u8 = 2;

/// Whether the fast path may be tried (it has not failed for lack of kernel support).
pub(super) fn available() -> bool {
    AVAILABLE.load(Ordering::Relaxed) != UNAVAILABLE
}

/// Starts a child that follows `plan`. `Ok(None)` when this kernel cannot (remembered: the
/// caller takes std's path). The child has `exec`ed when this returns `Ok(Some(..))`; a
/// failure before or in `execve` is returned as that errno, with the child already reaped.
pub(super) fn spawn(plan: &ChildPlan) -> io::Result<Option<(u32, OwnedFd)>> {
    if !available() {
        return Ok(None);
    }
    let mut stack = MaybeUninit::<ChildStack>::uninit();
    let mut pidfd: i32 = -1;
    let share_files = if plan.slots_top >= 0 { CLONE_FILES } else { 0 };
    let args = CloneArgs {
        flags: CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_CLEAR_SIGHAND | share_files,
        pidfd: (&raw mut pidfd) as u64,
        exit_signal: libc::SIGCHLD as u64,
        stack: stack.as_mut_ptr() as u64,
        stack_size: CHILD_STACK as u64,
        ..CloneArgs::default()
    };
    // SAFETY: see `clone3`: `args` describes a stack of CHILD_STACK bytes that nothing else
    // uses while the child runs (this frame is suspended until the child execs or exits), and
    // `plan` and everything it points to outlive the call.
    let ret = unsafe { clone3(&args, plan) };
    if ret < 0 {
        let errno = (-ret) as i32;
        let first = AVAILABLE.load(Ordering::Relaxed) == UNKNOWN;
        if first && matches!(errno, libc::ENOSYS | libc::EPERM | libc::EINVAL) {
            AVAILABLE.store(UNAVAILABLE, Ordering::Relaxed);
            return Ok(None);
        }
        return Err(io::Error::from_raw_os_error(errno));
    }
    AVAILABLE.store(WORKS, Ordering::Relaxed);
    // SAFETY: CLONE_PIDFD stored a new descriptor, ours alone.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    // The child has exec'd or exited: CLONE_VFORK kept us here until then.
    let failed = plan.error.load(Ordering::Acquire);
    if failed != 0 {
        reap(&pidfd);
        return Err(io::Error::from_raw_os_error(failed));
    }
    Ok(Some((ret as u32, pidfd)))
}

/// Collects the status of a child that could not `exec` (it is exiting already).
fn reap(pidfd: &OwnedFd) {
    use std::os::fd::AsRawFd;
    loop {
        // SAFETY: an all-zero siginfo_t is valid; waitid writes into it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid on our own child's pidfd with a pointer to a local.
        let ret = unsafe {
            libc::waitid(libc::P_PIDFD, pidfd.as_raw_fd() as libc::id_t, &mut info, libc::WEXITED)
        };
        if ret == 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return;
        }
    }
}

/// Issues `clone3`; in the child, switches to `child_main`, which never returns.
///
/// # Safety
/// `args` must request `CLONE_VM | CLONE_VFORK` with a stack that no one else touches until
/// the child execs or exits, and `plan` must stay valid as long.
///
/// Why this is sound: the child starts on its own stack (the kernel sets its stack pointer
/// to `stack + stack_size`), so nothing of the parent's frames, red zone included, is
/// overwritten. The child branch never comes back into Rust code of the parent: it calls
/// `child_main` (`-> !`), so no function returns twice. With `CLONE_VFORK` the calling thread
/// is suspended until the child execs or exits, so the lent stack and the plan are the
/// child's alone meanwhile; other threads keep running but never see the lent stack, and
/// the child writes only to it and to `plan.error`, which is ours. With
/// `CLONE_CLEAR_SIGHAND` no handler of ours can run on the child's stack.
#[cfg(target_arch = "x86_64")]
unsafe fn clone3(args: &CloneArgs, plan: &ChildPlan) -> isize {
    let ret: isize;
    // SAFETY: as above. The syscall instruction clobbers rax, rcx and r11 only; rdx carries
    // `plan` into the child (registers are copied to it). The stack top is 16-byte aligned,
    // so after `call` pushes its return address the entry sees the ABI's alignment.
    unsafe {
        std::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "mov rdi, rdx",
            "call {entry}",
            "ud2",
            "2:",
            entry = sym child_main,
            inlateout("rax") libc::SYS_clone3 as isize => ret,
            in("rdi") args as *const CloneArgs,
            in("rsi") size_of::<CloneArgs>(),
            in("rdx") plan as *const ChildPlan,
            lateout("rcx") _,
            lateout("r11") _,
        );
    }
    ret
}

/// As the x86_64 version; `svc 0` clobbers only x0, and x2 carries `plan` into the child.
#[cfg(target_arch = "aarch64")]
unsafe fn clone3(args: &CloneArgs, plan: &ChildPlan) -> isize {
    let ret: isize;
    // SAFETY: as the x86_64 version's. The stack top is 16-byte aligned as AAPCS64 requires.
    unsafe {
        std::arch::asm!(
            "svc 0",
            "cbnz x0, 2f",
            "mov x0, x2",
            "bl {entry}",
            "brk #1",
            "2:",
            entry = sym child_main,
            in("x8") libc::SYS_clone3,
            inlateout("x0") args as *const CloneArgs => ret,
            in("x1") size_of::<CloneArgs>(),
            in("x2") plan as *const ChildPlan,
            lateout("x30") _,
        );
    }
    ret
}

/// A raw system call with up to four arguments: `-errno` on failure. No libc, so nothing
/// touches `errno` (the parent thread's, shared with the child) or any lock.
///
/// # Safety
/// As the system call `nr` with these arguments.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn raw(nr: libc::c_long, a: usize, b: usize, c: usize, d: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller's; `syscall` clobbers rax, rcx and r11.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a, in("rsi") b, in("rdx") c, in("r10") d,
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

#[cfg(target_arch = "aarch64")]
#[inline(always)]
unsafe fn raw(nr: libc::c_long, a: usize, b: usize, c: usize, d: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller's; `svc 0` clobbers x0 only.
    unsafe {
        std::arch::asm!(
            "svc 0",
            in("x8") nr,
            inlateout("x0") a => ret, in("x1") b, in("x2") c, in("x3") d,
            options(nostack),
        );
    }
    ret
}

/// The child's whole life: set up, then `execve` each candidate; on failure report the errno
/// and exit with 127. Never returns.
///
/// # Safety
/// Only as the child of [`clone3`], with `plan` valid.
unsafe extern "C" fn child_main(plan: *const ChildPlan) -> ! {
    // SAFETY (whole body): only raw system calls on descriptors and NUL-terminated strings
    // the parent prepared; reads of the plan and one atomic store to its `error`. Nothing
    // here allocates, locks, touches thread-locals or can panic.
    unsafe {
        let plan = &*plan;
        let fail = |errno: isize| -> ! {
            plan.error.store(errno as i32, Ordering::Release);
            raw(libc::SYS_exit_group, 127, 0, 0, 0);
            // exit_group does not return; should it ever, do not fall back into Rust code.
            loop {
                raw(libc::SYS_exit, 127, 0, 0, 0);
            }
        };
        let check = |ret: isize| {
            if ret < 0 {
                fail(-ret);
            }
        };
        if plan.slots_top >= 0 {
            // A table of our own with the numbers up to the top slot; until this returns the
            // table is the parent's, so nothing is changed in it before.
            let first_dropped = plan.slots_top as usize + 1;
            let unshare = super::fd_slots::CLOSE_RANGE_UNSHARE as usize;
            check(raw(libc::SYS_close_range, first_dropped, u32::MAX as usize, unshare, 0));
        }
        // Descriptors first, as std does; a plan descriptor already in place only loses its
        // close-on-exec flag.
        for (target, fd) in plan.stdio.into_iter().enumerate() {
            if fd == target as i32 {
                check(raw(libc::SYS_fcntl, target, libc::F_SETFD as usize, 0, 0));
            } else if fd >= 0 {
                check(raw(libc::SYS_dup3, fd as usize, target, 0, 0));
            }
        }
        if plan.slots_top >= 0 {
            // Only 0, 1 and 2 reach the program: the slots are close-on-exec already, and so
            // is made whatever else of ours sits below the top one.
            let cloexec = super::fd_slots::CLOSE_RANGE_CLOEXEC as usize;
            check(raw(libc::SYS_close_range, 3, plan.slots_top as usize, cloexec, 0));
        }
        if plan.new_session {
            check(raw(libc::SYS_setsid, 0, 0, 0, 0));
        } else {
            check(raw(libc::SYS_setpgid, 0, 0, 0, 0));
        }
        if plan.leave_procs >= 0 {
            let ret = raw(libc::SYS_write, plan.leave_procs as usize, b"0".as_ptr() as usize, 1, 0);
            check(ret);
            if ret != 1 {
                fail(libc::EIO as isize);
            }
        }
        if !plan.cwd.is_null() {
            check(raw(libc::SYS_chdir, plan.cwd as usize, 0, 0, 0));
        }
        // Kernel `struct sigaction`: handler, flags, restorer, mask.
        let ignore = [libc::SIG_IGN as u64, 0, 0, 0];
        let default = [libc::SIG_DFL as u64, 0, 0, 0];
        if plan.register >= 0 {
            // SIGPIPE ignored around the write: a guardian that is gone must not kill the
            // process before it starts.
            raw(libc::SYS_rt_sigaction, libc::SIGPIPE as usize, ignore.as_ptr() as usize, 0, 8);
            let pid = raw(libc::SYS_getpid, 0, 0, 0, 0) as i32;
            let record = pid.to_ne_bytes();
            raw(libc::SYS_write, plan.register as usize, record.as_ptr() as usize, 4, 0);
        }
        // SIGPIPE back to its default and nothing blocked, as std leaves a child.
        check(raw(libc::SYS_rt_sigaction, libc::SIGPIPE as usize, default.as_ptr() as usize, 0, 8));
        let empty = 0u64;
        check(raw(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK as usize,
            (&raw const empty) as usize,
            0,
            8,
        ));
        // Like execvp: a candidate that is missing or not a directory is skipped, one that
        // may not be executed is remembered, anything else ends the search.
        let mut denied = false;
        let mut last = libc::ENOENT as isize;
        let mut candidate = plan.candidates;
        while !(*candidate).is_null() {
            let ret = raw(
                libc::SYS_execve,
                *candidate as usize,
                plan.argv as usize,
                plan.envp as usize,
                0,
            );
            last = -ret;
            match last as i32 {
                libc::EACCES => denied = true,
                libc::ENOENT
                | libc::ENOTDIR
                | libc::ELOOP
                | libc::ENAMETOOLONG
                | libc::ESTALE
                | libc::ENODEV
                | libc::ETIMEDOUT => {}
                _ => fail(last),
            }
            candidate = candidate.add(1);
        }
        fail(if denied { libc::EACCES as isize } else { last })
    }
}
