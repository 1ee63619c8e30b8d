//! A managed process's record as JSON, kept from one `GET /processes` to the next.
//!
//! A list of thousands of records is mostly the same bytes answer after answer: ids, commands,
//! arguments, labels, start times. Each record keeps its JSON, written by `serde_json` from
//! its [`ProcessInfo`] exactly as an uncached answer is, with the fields that move by
//! themselves left `null`: `duration_ms` (it counts up while the process runs), the usage
//! sample (`cpu_percent`, `cpu_seconds`, `memory_bytes`) and `log_error` (the log file's
//! state, outside the record's lock). An answer copies the kept bytes and writes those five
//! values fresh into their places, so it is what serialising the info of that instant gives,
//! byte for byte.
//!
//! The kept bytes are dropped by any write to the state (see
//! [`StateGuard`](super::shared::StateGuard)); everything else they show comes from the
//! process's options, which never change.
//!
//! Caveat: a new field of [`ProcessInfo`] that moves without a write to the state (as
//! `log_error` does) must be added to [`LIVE`], or answers would show its first value.

use jiff::Timestamp;
use serde::Serialize;

use super::info::{ProcessInfo, millis_between};
use super::shared::{ProcessShared, State};

/// The fields written fresh into every answer, in the order `ProcessInfo` serialises them.
const LIVE: [&str; 5] = ["duration_ms", "cpu_percent", "cpu_seconds", "memory_bytes", "log_error"];

/// One record's JSON with its [`LIVE`] fields `null`, and where each of those `null`s is.
#[derive(Debug)]
pub(crate) struct RecordJson {
    bytes: Box<[u8]>,
    /// Offsets of the `null` of each field of [`LIVE`], ascending.
    holes: [usize; LIVE.len()],
}

impl RecordJson {
    /// The JSON of `info` with its live fields `null`; `None` if one of them cannot be found
    /// (a renamed field: the caller then serialises the info itself, as before the cache).
    fn of(mut info: ProcessInfo) -> Option<Self> {
        info.duration_ms = None;
        info.cpu_percent = None;
        info.cpu_seconds = None;
        info.memory_bytes = None;
        info.log_error = None;
        let bytes = serde_json::to_vec(&info).ok()?;
        let mut holes = [0; LIVE.len()];
        let mut from = 0;
        for (hole, field) in holes.iter_mut().zip(LIVE) {
            // `"key":null` can only be the field itself: inside a JSON string every `"` is
            // escaped (`\"`), so `key":` is never string content, and label values (the
            // only map) are strings, never `null`. The fields come in order: search on.
            let key = format!("\"{field}\":null");
            let at = from + find(&bytes[from..], key.as_bytes())?;
            *hole = at + key.len() - "null".len();
            from = *hole;
        }
        Some(Self { bytes: bytes.into_boxed_slice(), holes })
    }

    /// Appends the record with `live`'s values in their places.
    fn write(&self, live: &Live, out: &mut Vec<u8>) {
        let mut from = 0;
        for (index, &hole) in self.holes.iter().enumerate() {
            out.extend_from_slice(&self.bytes[from..hole]);
            live.write(index, out);
            from = hole + "null".len();
        }
        out.extend_from_slice(&self.bytes[from..]);
    }
}

/// The values of [`LIVE`] at one instant.
struct Live {
    duration_ms: Option<f64>,
    cpu_percent: Option<f64>,
    cpu_seconds: Option<f64>,
    memory_bytes: Option<u64>,
    log_error: Option<String>,
}

impl Live {
    fn of(shared: &ProcessShared, state: &State, now: Timestamp) -> Self {
        let end = state.ended_at.unwrap_or(now);
        let usage = state.current_usage();
        Self {
            duration_ms: state.started_at.map(|start| millis_between(start, end)),
            cpu_percent: usage.map(|usage| usage.cpu_percent),
            cpu_seconds: usage.map(|usage| usage.cpu_seconds),
            memory_bytes: usage.map(|usage| usage.memory_bytes),
            log_error: shared.options.output_file.as_ref().and_then(|file| file.log_error()),
        }
    }

    /// Writes the value of `LIVE[index]` as `serde_json` writes it inside a record.
    fn write(&self, index: usize, out: &mut Vec<u8>) {
        match index {
            0 => value(&self.duration_ms, out),
            1 => value(&self.cpu_percent, out),
            2 => value(&self.cpu_seconds, out),
            3 => value(&self.memory_bytes, out),
            _ => value(&self.log_error, out),
        }
    }
}

fn value<T: Serialize>(value: &T, out: &mut Vec<u8>) {
    // Numbers, `null` and strings into a `Vec`: nothing here can fail.
    let _ = serde_json::to_writer(out, value);
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

impl ProcessShared {
    /// Appends this process's record, as `serde_json` writes its [`info`](Self::info) with
    /// `duration_ms` counted up to `now` (or to its end), if `keep` accepts it in that state;
    /// returns whether it did. `keep` sees the state under the same lock the record is
    /// written under, so a filter on the status never disagrees with the status shown. A run
    /// that started after `now` moves `now` to the clock's time: no duration is negative.
    pub(crate) fn write_json(
        &self,
        now: &mut Timestamp,
        keep: impl FnOnce(&State) -> bool,
        out: &mut Vec<u8>,
    ) -> bool {
        let mut guarded = self.guarded();
        let guarded = &mut *guarded;
        if !keep(&guarded.state) {
            return false;
        }
        if guarded.state.started_at.is_some_and(|start| start > *now) {
            *now = Timestamp::now();
        }
        let live = Live::of(self, &guarded.state, *now);
        if guarded.json.is_none() {
            guarded.json = RecordJson::of(self.info_of(&guarded.state, *now));
        }
        match &guarded.json {
            Some(json) => json.write(&live, out),
            None => value(&self.info_of(&guarded.state, *now), out),
        }
        true
    }
}
