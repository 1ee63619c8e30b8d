//! Counting what is left running: processes found in `/proc` by a unique marker in their
//! command line (`sleep 1003.<marker>`), so that processes that escaped every group and
//! session, re-parented to init, are still counted — and killed when the test ends.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::support::eventually;

/// A unique number to put in the arguments of the processes a test starts.
pub(crate) struct Marker(String);

impl Marker {
    pub(crate) fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Self(format!("{}{:09}{n}", std::process::id(), nanos))
    }

    /// `sleep <seconds>.<marker>`: a sleep that lasts long and says whose it is.
    pub(crate) fn sleep(&self, seconds: u32) -> String {
        format!("sleep {seconds}.{}", self.0)
    }

    /// A shell script whose `setsid` child leaves the group and the session, while the shell
    /// itself waits for a second sleep in its group.
    pub(crate) fn escaping_script(&self) -> String {
        format!("{} & {}", self.setsid_sleep(1003), self.sleep(1004))
    }

    pub(crate) fn setsid_sleep(&self, seconds: u32) -> String {
        format!("setsid {}", self.sleep(seconds))
    }

    /// Live processes whose command line contains the marker.
    pub(crate) fn survivors(&self) -> Vec<u32> {
        let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
        entries
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|&pid| pid != std::process::id())
            .filter(|&pid| {
                // A zombie has an empty command line, so it never matches.
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|line| line.windows(self.0.len()).any(|w| w == self.0.as_bytes()))
            })
            .collect()
    }

    /// Waits until `count` marked sleeps run (`tend run`'s own command line, and the
    /// shells', carry the marker too, so only the sleeps are counted).
    pub(crate) fn wait_for_sleeps(&self, count: usize) {
        eventually(Duration::from_secs(20), "the marked sleeps to start", || {
            let sleeps =
                self.survivors().into_iter().filter(|&pid| cmdline(pid).starts_with("sleep "));
            sleeps.count() >= count
        });
    }

    /// Fails unless, within `within`, no process carries the marker any more.
    pub(crate) fn assert_none_left(&self, within: Duration, case: &str) {
        let deadline = std::time::Instant::now() + within;
        loop {
            let left = self.survivors();
            if left.is_empty() {
                return;
            }
            if std::time::Instant::now() >= deadline {
                let lines: Vec<String> = left.iter().map(|pid| describe(*pid)).collect();
                panic!("{case}: {} left running:\n{}", left.len(), lines.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Marker {
    fn drop(&mut self) {
        // Whatever a failed test left behind.
        for pid in self.survivors() {
            if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
    }
}

/// `PID (ppid P) command line`, for failure messages.
fn describe(pid: u32) -> String {
    let ppid = crate::support::stat(pid).map_or(0, |s| s.ppid);
    format!("  {pid} (ppid {ppid}) {}", cmdline(pid))
}

/// The command line of `pid`, arguments separated by spaces; empty for a zombie or the gone.
pub(crate) fn cmdline(pid: u32) -> String {
    let line = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    String::from_utf8_lossy(&line).replace('\0', " ")
}

/// The containment modes of the `tend` binaries: a cgroup where one is writable, and the
/// environment token without one (`TEND_NO_CGROUP=1`).
pub(crate) const MODES: [(&str, &str); 2] = [("cgroup", "0"), ("environment", "1")];
