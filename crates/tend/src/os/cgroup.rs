//! A cgroup v2 directory holding this process and everything it starts (Linux).
//!
//! A process cannot leave its cgroup by `setsid`, double-forking or changing its group, so a
//! cgroup is the one container that holds every descendant — systemd's
//! `KillMode=control-group`. The supervisor moves itself into a directory `tend-<pid>` below
//! the cgroup it was started in; every child it forks is then born inside, with no window in
//! which it is not, and writing `1` to `cgroup.kill` (Linux 5.14+) SIGKILLs all of them at
//! once, with no race against `fork`. What must outlive the supervisor or act after it (a
//! detached child, a guardian) moves itself back out, by writing `0` to the original
//! cgroup's `cgroup.procs`.
//!
//! It needs the unified hierarchy mounted and our own cgroup writable: root, or a delegated
//! subtree (systemd `Delegate=yes`). Anything else gives an error and the caller falls back.

use std::ffi::CString;
use std::fs::{self, OpenOptions};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// One cgroup directory, created by [`Cgroup::create`] and removed by whoever kills it.
#[derive(Debug)]
pub(crate) struct Cgroup {
    /// The directory, for `rmdir` (also by the forked guardian, which cannot allocate).
    pub(crate) dir: CString,
    /// `cgroup.kill`, open for writing.
    pub(crate) kill: OwnedFd,
    /// `cgroup.events`, open for reading: `populated 0` once every member is gone.
    pub(crate) events: OwnedFd,
    /// `cgroup.procs` of the cgroup we started in, open for writing: writing `0` to it moves
    /// the writer back out.
    pub(crate) outside: OwnedFd,
    procs: PathBuf,
}

impl Cgroup {
    /// Creates `tend-<pid>` below this process's own cgroup v2 directory.
    pub(crate) fn create() -> io::Result<Self> {
        let parent = own_dir()?;
        let dir = parent.join(format!("tend-{}", std::process::id()));
        fs::create_dir(&dir)?;
        let opened = (|| {
            let kill = open(&dir.join("cgroup.kill"), true)?;
            let events = open(&dir.join("cgroup.events"), false)?;
            let outside = open(&parent.join("cgroup.procs"), true)?;
            Ok::<_, io::Error>((kill, events, outside))
        })();
        match opened {
            Ok((kill, events, outside)) => Ok(Self {
                dir: CString::new(dir.as_os_str().as_bytes())?,
                kill,
                events,
                outside,
                procs: dir.join("cgroup.procs"),
            }),
            Err(error) => {
                // No cgroup.kill: a kernel older than 5.14.
                let _ = fs::remove_dir(&dir);
                Err(error)
            }
        }
    }

    /// Moves this whole process (every thread) into the cgroup.
    pub(crate) fn enter(&self) -> io::Result<()> {
        fs::write(&self.procs, b"0")
    }

    /// The processes in the cgroup now.
    pub(crate) fn members(&self) -> io::Result<Vec<u32>> {
        let text = fs::read_to_string(&self.procs)?;
        Ok(text.lines().filter_map(|line| line.trim().parse().ok()).collect())
    }
}

/// Removes the empty directories that supervisors killed between creating a directory and
/// forking its guardian left behind below our cgroup: `tend-<pid>` whose `pid` is dead. A
/// directory still holding a process is not empty, and `rmdir` leaves it.
pub(crate) fn remove_stale() {
    let Ok(parent) = own_dir() else { return };
    let Ok(entries) = fs::read_dir(&parent) else { return };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("tend-"))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if super::liveness(pid) == super::Liveness::Dead {
            let _ = fs::remove_dir(entry.path());
        }
    }
}

fn open(path: &Path, write: bool) -> io::Result<OwnedFd> {
    let file = OpenOptions::new()
        .read(!write)
        .write(write)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(path)?;
    Ok(file.into())
}

/// The directory of this process's cgroup in the unified (v2) hierarchy.
fn own_dir() -> io::Result<PathBuf> {
    let unsupported = |what: &str| io::Error::new(io::ErrorKind::Unsupported, what.to_owned());
    let cgroups = fs::read_to_string("/proc/self/cgroup")?;
    let path = cgroups
        .lines()
        .find_map(|line| line.strip_prefix("0::"))
        .ok_or_else(|| unsupported("no cgroup v2 entry in /proc/self/cgroup"))?;
    if path.ends_with(" (deleted)") {
        return Err(unsupported("our cgroup was removed"));
    }
    let mounts = fs::read_to_string("/proc/self/mountinfo")?;
    let (root, mount_point) = mounts
        .lines()
        .find_map(cgroup2_mount)
        .ok_or_else(|| unsupported("no cgroup2 file system mounted"))?;
    let relative = path
        .strip_prefix(root.trim_end_matches('/'))
        .ok_or_else(|| unsupported("our cgroup is outside the mounted cgroup2 tree"))?;
    Ok(Path::new(&mount_point).join(relative.trim_start_matches('/')))
}

/// `(root, mount point)` of a mountinfo line for a cgroup2 file system.
fn cgroup2_mount(line: &str) -> Option<(&str, String)> {
    let (mount, fs) = line.split_once(" - ")?;
    if fs.split(' ').next()? != "cgroup2" {
        return None;
    }
    let mut fields = mount.split(' ');
    let root = fields.nth(3)?;
    Some((root, unescape(fields.next()?)))
}

/// Undoes mountinfo's octal escapes (`\040` for a space, and so on).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match octal {
            Some(digits) if bytes[i] == b'\\' => {
                out.push(digits.iter().fold(0u8, |n, d| n.wrapping_mul(8) + (d - b'0')));
                i += 4;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cgroup2_mount_and_unescapes_it() {
        let line = "41 31 0:38 / /sys/fs/cgroup/un\\040ified rw,relatime - cgroup2 cgroup2 rw";
        assert_eq!(cgroup2_mount(line), Some(("/", "/sys/fs/cgroup/un ified".to_owned())));
        let v1 = "40 31 0:37 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids";
        assert_eq!(cgroup2_mount(v1), None);
    }
}
