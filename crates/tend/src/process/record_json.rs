//! A managed process's record as JSON, kept from one `GET /processes` to the next.
//!
//! A list of thousands of records is mostly the same bytes answer after answer: ids, commands,
//! arguments, labels, start times. Each record keeps its JSON, written by `serde_json` from
//! its [`ProcessInfo`] exactly as an uncached answer is, with the fields that move by
//! themselves left `null`: `duration_ms` (it counts up while the process runs), the usage
//! sample (`cpu_percent`, `cpu_seconds`, `memory_bytes`) and `log_error` (the log file's
//! state, outside the record's lock). [`ProcessShared::write_json`] copies the kept bytes
//! with the usage and log error of now in their places, and says where `duration_ms` goes:
//! the list ([`ListCache`](crate::service::ListCache)) writes it at each answer, so that an
//! answer is what serialising the infos of that instant gives, byte for byte.
//!
//! The kept bytes are dropped by any write to the state (see
//! [`StateGuard`](super::shared::StateGuard)); everything else they show comes from the
//! process's options, which never change.
//!
//! Caveat: a new field of [`ProcessInfo`] that moves without a write to the state (as
//! `log_error` does) must be added to [`LIVE`], and its changes counted as the log errors'
//! are, or answers would show its first value.

use jiff::Timestamp;
use serde::Serialize;

use super::info::{ProcessInfo, Status, millis_between};
use super::shared::ProcessShared;
use super::usage::UsageSample;

/// The fields written fresh, not kept, in the order `ProcessInfo` serialises them.
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

    /// Appends the record with `live`'s values in their places but for `duration_ms`, whose
    /// place (an offset into `out`) it returns: the list writes it when it answers.
    fn write(&self, live: &Live, out: &mut Vec<u8>) -> usize {
        let mut duration_at = 0;
        let mut from = 0;
        for (index, &hole) in self.holes.iter().enumerate() {
            out.extend_from_slice(&self.bytes[from..hole]);
            match index {
                0 => duration_at = out.len(),
                1 => value(&live.usage.map(|usage| usage.cpu_percent), out),
                2 => value(&live.usage.map(|usage| usage.cpu_seconds), out),
                3 => value(&live.usage.map(|usage| usage.memory_bytes), out),
                _ => value(&live.log_error, out),
            }
            from = hole + "null".len();
        }
        out.extend_from_slice(&self.bytes[from..]);
        duration_at
    }
}

/// The values of [`LIVE`] but `duration_ms`, read with the record's state.
struct Live {
    usage: Option<UsageSample>,
    log_error: Option<String>,
}

/// One record written by [`ProcessShared::write_json`]: what the list needs to write its
/// `duration_ms` and to filter it, as of the state the bytes were written from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Written {
    /// Where `duration_ms`'s value goes, an offset into the output.
    pub(crate) duration_at: usize,
    pub(crate) status: Status,
    pub(crate) started_at: Option<Timestamp>,
    pub(crate) ended_at: Option<Timestamp>,
}

impl Written {
    /// `duration_ms` at `now` (up to its end, if it has ended), as `serde_json` writes it.
    pub(crate) fn write_duration(&self, now: Timestamp, out: &mut Vec<u8>) {
        let end = self.ended_at.unwrap_or(now);
        value(&self.started_at.map(|start| millis_between(start, end)), out);
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
    /// Appends this process's record as `serde_json` writes its [`info`](Self::info), but
    /// for the value of `duration_ms`, which moves while it runs: [`Written`] says where it
    /// goes and how to write it. `None` if the record's JSON has no place for one of the
    /// [`LIVE`] fields (a renamed field; the caller then serialises the infos itself).
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) -> Option<Written> {
        let mut guarded = self.guarded();
        let guarded = &mut *guarded;
        let state = &guarded.state;
        if guarded.json.is_none() {
            guarded.json = RecordJson::of(self.info_of(state, Timestamp::now()));
        }
        let live = Live {
            usage: state.current_usage().copied(),
            log_error: self.options.output_file.as_ref().and_then(|file| file.log_error()),
        };
        let duration_at = guarded.json.as_ref()?.write(&live, out);
        Some(Written {
            duration_at,
            status: state.status,
            started_at: state.started_at,
            ended_at: state.ended_at,
        })
    }
}
