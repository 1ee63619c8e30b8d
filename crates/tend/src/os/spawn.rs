//! Starting a managed process: the request, its pipes, and the choice between our own
//! `clone3` path ([`clone_spawn`](super::clone_spawn), Linux on x86_64 and aarch64) and std's
//! (everywhere else, and where the kernel refuses `clone3`; see
//! [`std_spawn`](super::std_spawn)). Both give the child the same standard descriptors,
//! environment, directory, process group or session, and the same errors.
//!
//! # Caveats
//!
//! * The `clone3` path reads the C library's `environ` without std's environment lock (which
//!   is private to std): a `std::env::set_var` racing with a spawn is the caller's breach of
//!   that function's safety contract, as it is for every libc reader of the environment.
//! * A program that is not an executable format (a script without `#!`) fails with `ENOEXEC`,
//!   as with std's `posix_spawn` path; `execvp`'s retry under `/bin/sh` is not done.
//! * When the environment is changed, the child sees ours in its order without the variables
//!   set, then those (std sorts the whole environment by name).
//! * On the `clone3` path the program gets descriptors 0, 1 and 2 and nothing else of ours,
//!   even one we left open on `exec` (see [`fd_slots`](super::fd_slots): the child never
//!   copies our whole table); on std's path such a descriptor is inherited, as with
//!   `std::process::Command`. The library opens all of its own close-on-exec.
//! * A child dropped before it was waited for is reaped by a task of its own (see
//!   [`Child`]), as Tokio does with its own children.

use std::ffi::{CString, OsString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;
#[cfg(test)]
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::unix::pipe;

use super::child::Child;

/// Where one of the child's standard descriptors comes from.
#[derive(Debug)]
pub(crate) enum Redirect<'a> {
    /// Ours, as it is.
    Inherit,
    /// `/dev/null`.
    Null,
    /// A new pipe; our end is in [`Spawned`].
    Pipe,
    /// A descriptor of the caller's (the write end of a pipe both outputs share).
    Fd(BorrowedFd<'a>),
}

/// What the guardian of the child's service asks of it ([`Guardian::protect`]).
///
/// [`Guardian::protect`]: super::Guardian::protect
#[derive(Debug, Default)]
pub(crate) struct Protection {
    /// `TEND_GUARD=…`, the tokens the child carries.
    pub(super) marker: Option<Arc<CString>>,
    /// The guardian's pipe, to which the child writes its PID before it `exec`s.
    pub(super) register: Option<Arc<OwnedFd>>,
}

/// One child to start.
#[derive(Debug)]
pub(crate) struct SpawnRequest<'a> {
    /// The program: a path, or a name looked up in the child's `PATH`.
    pub(crate) program: &'a str,
    pub(crate) args: &'a [String],
    pub(crate) dir: Option<&'a Path>,
    /// Variables set (after clearing, with `clear_env`); a later one wins.
    pub(crate) env: &'a [(OsString, OsString)],
    pub(crate) clear_env: bool,
    /// Descriptors 0, 1 and 2.
    pub(crate) stdio: [Redirect<'a>; 3],
    /// A session of its own (and out of our cgroup) rather than a process group.
    pub(crate) detach: bool,
    pub(crate) protection: Protection,
}

/// A started child and our ends of its pipes.
#[derive(Debug)]
pub(crate) struct Spawned {
    pub(crate) child: Child,
    pub(crate) stdin: Option<pipe::Sender>,
    pub(crate) stdout: Option<pipe::Receiver>,
    pub(crate) stderr: Option<pipe::Receiver>,
}

/// Children started by `clone3` (tests check that the fast path is taken).
#[cfg(test)]
static FAST_SPAWNS: AtomicUsize = AtomicUsize::new(0);

#[cfg(test)]
thread_local! {
    /// Tests force std's path, for the spawns of their own thread, with this.
    pub(crate) static FORCE_STD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// How many children `clone3` started so far.
#[cfg(test)]
pub(crate) fn fast_spawns() -> usize {
    FAST_SPAWNS.load(Ordering::Relaxed)
}

/// Starts the child of `request`. Must run inside a Tokio runtime.
pub(crate) fn spawn(request: SpawnRequest<'_>) -> io::Result<Spawned> {
    super::child::reap_orphans();
    let mut ours: [Option<OwnedFd>; 3] = [None, None, None];
    let mut theirs: [Option<OwnedFd>; 3] = [None, None, None];
    for (index, redirect) in request.stdio.iter().enumerate() {
        if let Redirect::Pipe = redirect {
            let (read, write) = cloexec_pipe()?;
            let (our_end, their_end) = if index == 0 { (write, read) } else { (read, write) };
            rustix::io::ioctl_fionbio(&our_end, true)?;
            ours[index] = Some(our_end);
            theirs[index] = Some(their_end);
        }
    }
    let child = spawn_child(&request, &theirs)?;
    // Their ends are the child's now; ours must be the only copies left in this process.
    drop(theirs);
    let [stdin, stdout, stderr] = ours;
    Ok(Spawned {
        child,
        stdin: stdin.map(pipe::Sender::from_owned_fd_unchecked).transpose()?,
        stdout: stdout.map(pipe::Receiver::from_owned_fd_unchecked).transpose()?,
        stderr: stderr.map(pipe::Receiver::from_owned_fd_unchecked).transpose()?,
    })
}

fn spawn_child(request: &SpawnRequest<'_>, pipes: &[Option<OwnedFd>; 3]) -> io::Result<Child> {
    #[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
    if use_clone3()
        && let Some(child) = spawn_fast(request, pipes)?
    {
        #[cfg(test)]
        FAST_SPAWNS.fetch_add(1, Ordering::Relaxed);
        return Ok(child);
    }
    super::std_spawn::spawn(request, pipes)
}

#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
fn use_clone3() -> bool {
    #[cfg(test)]
    if FORCE_STD.get() {
        return false;
    }
    super::clone_spawn::available()
}

/// The `clone3` path; `Ok(None)` when the kernel cannot.
#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
fn spawn_fast(
    request: &SpawnRequest<'_>,
    pipes: &[Option<OwnedFd>; 3],
) -> io::Result<Option<Child>> {
    use std::os::fd::AsRawFd;
    let plan = super::exec_plan::ExecPlan::new(request)?;
    let mut stdio = [-1; 3];
    for (index, redirect) in request.stdio.iter().enumerate() {
        stdio[index] = match redirect {
            Redirect::Inherit => -1,
            Redirect::Null => dev_null()?.as_raw_fd(),
            Redirect::Pipe => pipes[index].as_ref().map_or(-1, AsRawFd::as_raw_fd),
            Redirect::Fd(fd) => fd.as_raw_fd(),
        };
    }
    let leave = if request.detach { super::contain::outside_procs().unwrap_or(-1) } else { -1 };
    let register = request.protection.register.as_ref().map_or(-1, |pipe| pipe.as_raw_fd());
    // Held until the child has exec'd: what it needs is on the slots meanwhile.
    let mut slots = super::fd_slots::lend();
    let mut pass = |fd| slots.as_mut().map_or(Ok(fd), |slots| slots.place(fd));
    let (stdio, leave, register) =
        ([pass(stdio[0])?, pass(stdio[1])?, pass(stdio[2])?], pass(leave)?, pass(register)?);
    let top = slots.as_ref().map_or(-1, super::fd_slots::Lent::top);
    let plan = plan.child_plan(stdio, request.detach, leave, register, top);
    let Some((pid, pidfd)) = super::clone_spawn::spawn(&plan)? else { return Ok(None) };
    drop(slots);
    Child::from_pidfd(pid, pidfd).map(Some)
}

/// `/dev/null`, opened once: children get a copy on their descriptor.
#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
fn dev_null() -> io::Result<BorrowedFd<'static>> {
    static NULL: std::sync::OnceLock<OwnedFd> = std::sync::OnceLock::new();
    if let Some(fd) = NULL.get() {
        return Ok(fd.as_fd());
    }
    let file = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null")?;
    Ok(NULL.get_or_init(|| file.into()).as_fd())
}

#[cfg(target_os = "linux")]
fn cloexec_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?)
}

#[cfg(not(target_os = "linux"))]
fn cloexec_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let (read, write) = std::io::pipe()?;
    Ok((read.into(), write.into()))
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
