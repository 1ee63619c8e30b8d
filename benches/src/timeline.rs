//! The record file of the stack benchmarks: `bench-service` writes one line per thing it does,
//! `NAME EVENT UNIX_NANOS`, and the benchmark reads them back.
//!
//! The clock is the wall clock (`SystemTime`, CLOCK_REALTIME): the one clock every process on
//! the machine shares, so times written by the children and taken by the benchmark itself with
//! [`now_ns`] compare directly. Each line is one `write` to a file opened with `O_APPEND`, so
//! the children of one run share a file without interleaving.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch.
pub fn now_ns() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
}

/// Appends `NAME EVENT UNIX_NANOS` to `path` in one write, with a time taken earlier.
pub fn record_at(path: &Path, name: &str, event: &str, unix_ns: u64) -> io::Result<()> {
    let line = format!("{name} {event} {unix_ns}\n");
    OpenOptions::new().create(true).append(true).open(path)?.write_all(line.as_bytes())
}

/// Every `(name, event, unix_ns)` in `path`, in file order; a missing file is empty.
pub fn read(path: &Path) -> Vec<(String, String, u64)> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => String::new(),
        Err(error) => panic!("record {}: {error}", path.display()),
    };
    text.lines()
        .map(|line| match line.split(' ').collect::<Vec<_>>()[..] {
            [name, event, ns] => (name.to_owned(), event.to_owned(), ns.parse().unwrap()),
            _ => panic!("malformed record line `{line}` in {}", path.display()),
        })
        .collect()
}

/// The time `name` recorded `event` (its first such line), if it did.
pub fn find(records: &[(String, String, u64)], name: &str, event: &str) -> Option<u64> {
    records.iter().find(|(n, e, _)| n == name && e == event).map(|r| r.2)
}
