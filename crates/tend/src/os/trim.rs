//! Giving freed heap memory back to the operating system.
//!
//! glibc's allocator keeps memory freed inside its arenas (one per thread that allocated, up
//! to eight per core) for reuse, and returns only the free top of the main heap on its own.
//! After a burst — a flood of output that filled and then drained the event bus — the
//! daemon's resident size would stay at its peak. `malloc_trim(0)` returns the free pages of
//! every arena.

/// Returns the allocator's free memory to the OS where the C library can (glibc); a no-op
/// elsewhere. Walks every arena under its lock: call it after a large release, not often.
///
/// The event bus calls it when a burst of output has drained; a server calls it after
/// dropping a removed process's events.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` has no preconditions: it takes each arena's lock and releases only
    // pages that hold no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}
