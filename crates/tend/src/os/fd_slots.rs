//! Low descriptor numbers kept for spawning, so that a child does not copy our whole
//! descriptor table.
//!
//! Why: a plain `clone` copies the parent's descriptor table into the child, and the child's
//! `execve` then closes every close-on-exec entry of that copy again, both in time
//! proportional to the descriptors open. A daemon supervising 5,000 processes holds 15,000
//! of them, and at that size the copy and the close were two thirds of its CPU per spawn.
//! Instead the child is started with `CLONE_FILES` (it shares our table, nothing copied) and
//! its first system call, `close_range(top + 1, ~0, CLOSE_RANGE_UNSHARE)`, gives it a table of
//! its own holding only the numbers up to `top`: the kernel copies no more than that. What the
//! child needs from us is first put on a few numbers reserved just above 2 (the slots), so
//! that it is below `top`.
//!
//! The slots are reserved at the first spawn (the lowest free numbers from 3 up), hold
//! `/dev/null` while idle and are lent to one spawn at a time: [`Lent`] puts descriptors on
//! them and puts `/dev/null` back when dropped, so no pipe end stays open here longer than
//! the spawn. Like any descriptor a library owns, they must not be closed behind its back
//! (a program that closes every descriptor it did not open, after its first spawn, breaks
//! this as it would break any library). Kernels before 5.11 (no `CLOSE_RANGE_CLOEXEC`) or a seccomp filter that refuses
//! `close_range` make [`lend`] return `None`, and children copy the table as before.

use std::io;
use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd, RawFd};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// Descriptors a child can need from us: its three standard ones, the `cgroup.procs` it
/// moves itself to and the guardian's pipe.
pub(super) const SLOTS: usize = 5;

/// `close_range` flags (not in every libc crate's target list).
pub(super) const CLOSE_RANGE_UNSHARE: u32 = 1 << 1;
pub(super) const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;

/// The reserved numbers and what they hold while idle.
struct Slots {
    numbers: [RawFd; SLOTS],
    /// `/dev/null`, put back on a slot after each spawn.
    idle: OwnedFd,
}

/// `None` once reserving failed or the kernel lacks what the child needs.
static RESERVED: OnceLock<Option<Mutex<Slots>>> = OnceLock::new();

/// The slots, lent to one spawn; `/dev/null` goes back on each used one when dropped.
pub(super) struct Lent {
    slots: MutexGuard<'static, Slots>,
    used: usize,
}

/// Borrows the slots until the returned value is dropped (other spawns wait meanwhile).
/// `None` when this process cannot use them; then the child copies our table.
pub(super) fn lend() -> Option<Lent> {
    let slots = RESERVED.get_or_init(reserve).as_ref()?;
    // A spawn that panicked while holding them left every slot valid (`Lent::drop` ran).
    let slots = slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    Some(Lent { slots, used: 0 })
}

impl Lent {
    /// Puts a copy of `fd` (close-on-exec) on the next free slot and returns its number;
    /// -1 stays -1 (nothing to pass).
    pub(super) fn place(&mut self, fd: RawFd) -> io::Result<RawFd> {
        if fd < 0 {
            return Ok(-1);
        }
        let Some(&slot) = self.slots.numbers.get(self.used) else {
            return Err(io::Error::other("more descriptors for a child than spawn slots"));
        };
        dup_onto(fd, slot)?;
        self.used += 1;
        Ok(slot)
    }

    /// The highest slot: the child keeps the numbers up to this one.
    pub(super) fn top(&self) -> RawFd {
        self.slots.numbers[SLOTS - 1]
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        let idle = self.slots.idle.as_raw_fd();
        for &slot in &self.slots.numbers[..self.used] {
            // Cannot fail: both descriptors are open and ours, and the slot's number exists.
            let _ = dup_onto(idle, slot);
        }
    }
}

/// `dup3(fd, slot, O_CLOEXEC)`: the slot's old file is closed in the same step, so its number
/// is never free for another thread to take.
fn dup_onto(fd: RawFd, slot: RawFd) -> io::Result<()> {
    // SAFETY: dup3 on two numbers; `slot` is one of ours (reserved below), `fd` is open.
    if unsafe { libc::dup3(fd, slot, libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn reserve() -> Option<Mutex<Slots>> {
    if !close_range_works() {
        return None;
    }
    let idle: OwnedFd = std::fs::File::open("/dev/null").ok()?.into();
    // From 3 up, so a closed standard descriptor is never taken.
    let held: Vec<OwnedFd> = (0..SLOTS)
        .map(|_| rustix::io::fcntl_dupfd_cloexec(&idle, 3))
        .collect::<Result<_, _>>()
        .ok()?;
    let mut numbers = [-1; SLOTS];
    for (number, fd) in numbers.iter_mut().zip(held) {
        // Owned by no one from here: the slots live as long as the process, their numbers
        // must never be freed.
        *number = fd.into_raw_fd();
    }
    numbers.sort_unstable();
    Some(Mutex::new(Slots { numbers, idle }))
}

/// Whether `close_range` takes both flags the child uses (Linux 5.11 and later, and no
/// seccomp filter refusing it). Asked with `CLOSE_RANGE_CLOEXEC` alone, on the single number
/// `u32::MAX`, which is never open, so nothing changes: `CLOSE_RANGE_UNSHARE` (older, 5.9)
/// would give this thread a table of its own, apart from the other threads'.
fn close_range_works() -> bool {
    // SAFETY: close_range marking nothing close-on-exec.
    unsafe { libc::syscall(libc::SYS_close_range, u32::MAX, u32::MAX, CLOSE_RANGE_CLOEXEC) == 0 }
}
