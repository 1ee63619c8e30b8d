//! Requests and answers of the process actions (`process.*`) and the `/processes` routes,
//! but for [`StartRequest`](super::StartRequest) (in `start.rs`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::duration::{DurationText, Millis, keys, twin};
use super::error::Invalid;
use crate::{ProcessInfo, Signal, Status, Stream};

/// A request naming one managed process: `process.get`, `kill`, `output`, `close_stdin`,
/// `remove`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct IdRequest {
    /// A full process id, a unique id prefix of 4 or more characters, or a name.
    pub id: String,
}

/// `process.stop` (`POST /processes/{id}/stop`): the stop signal (SIGTERM unless the process
/// was started with another) to the group, the grace, SIGKILL. Also `process.restart`
/// ([`RestartRequest`]), which stops the same way before it starts the process again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StopRequest {
    /// Which process. The API takes it from the path: leave it empty to build a body (an
    /// empty id is not written), which must not have one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Time between the stop signal and SIGKILL (default: the grace the process was started
    /// with, 5 s unless set). Or `grace_ms`.
    #[serde(default, deserialize_with = "keys::grace", skip_serializing_if = "Option::is_none")]
    pub grace: Option<DurationText>,
    /// `grace` in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_ms: Option<Millis>,
}

impl StopRequest {
    /// The grace asked for, if any.
    pub fn grace(&self) -> Result<Option<Duration>, Invalid> {
        twin("grace", self.grace, self.grace_ms)
    }
}

/// `process.restart` (`POST /processes/{id}/restart`): `id` and an optional `grace`, as
/// [`StopRequest`].
pub type RestartRequest = StopRequest;

/// The schema of a request says a key the action requires is required, though serde reads it
/// as optional (so that an unknown id is `not_found` before a missing key is refused).
#[cfg(feature = "schema")]
fn required(key: &'static str) -> impl FnMut(&mut schemars::Schema) {
    move |schema| {
        let required = schema
            .ensure_object()
            .entry("required")
            .or_insert_with(|| Vec::<serde_json::Value>::new().into());
        if let Some(keys) = required.as_array_mut() {
            keys.push(key.into());
        }
    }
}

/// `process.signal` (`POST /processes/{id}/signal`): a signal to the process's leader.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(transform = required("signal")))]
#[serde(deny_unknown_fields)]
pub struct SignalRequest {
    /// Which process. The API takes it from the path: leave it empty to build a body (an
    /// empty id is not written), which must not have one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// A name (`"TERM"`, `"SIGHUP"`, any case) or a number. Required; checked after the
    /// process is found, so an unknown id is `not_found` first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "Signal"))]
    pub signal: Option<Signal>,
}

impl SignalRequest {
    /// The signal, which must be there.
    pub fn signal(&self) -> Result<Signal, Invalid> {
        self.signal.ok_or_else(|| Invalid::new("signal", "missing"))
    }
}

/// `process.input` (`POST /processes/{id}/input`): bytes for a piped standard input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(transform = required("data")))]
#[serde(deny_unknown_fields)]
pub struct InputRequest {
    /// Which process. The API takes it from the path: leave it empty to build a body (an
    /// empty id is not written), which must not have one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// The text to write, as it is (add `\n` to end a line). Required; checked after the
    /// process is found, so an unknown id is `not_found` first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub data: Option<String>,
}

impl InputRequest {
    /// The text, which must be there.
    pub fn data(&self) -> Result<&str, Invalid> {
        self.data.as_deref().ok_or_else(|| Invalid::new("data", "missing"))
    }
}

/// `process.wait` (`POST /processes/{id}/wait?timeout=`): the info once it ended, or when the
/// timeout came first (then still `running`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct WaitRequest {
    /// Which process. The API takes it from the path: leave it empty to build a body (an
    /// empty id is not written), which must not have one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Wait at most this long (absent: until it ends). Or `timeout_ms`.
    #[serde(default, deserialize_with = "keys::timeout", skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationText>,
    /// `timeout` in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<Millis>,
}

impl WaitRequest {
    /// The timeout asked for, if any.
    pub fn timeout(&self) -> Result<Option<Duration>, Invalid> {
        twin("timeout", self.timeout, self.timeout_ms)
    }
}

/// `process.list` (`GET /processes?status=&label=`): both filters optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only processes in this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Only processes with this label, as `key=value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl ListQuery {
    /// Whether `info` passes the filters; a `label` without `=` is refused.
    ///
    /// ```
    /// use tend::wire::ListQuery;
    /// let query = ListQuery { label: Some("no-equals".into()), ..ListQuery::default() };
    /// assert_eq!(query.filter().err().unwrap().key, "label");
    /// ```
    pub fn filter(&self) -> Result<impl Fn(&ProcessInfo) -> bool + '_, Invalid> {
        let filter = self.list_filter()?;
        Ok(move |info: &ProcessInfo| filter.admits(info.status, &info.labels))
    }

    /// The filters, checked, as a value of their own (kept by a
    /// [`ProcessList`](crate::ProcessList) until it is written); a `label` without `=` is
    /// refused.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use tend::Status;
    /// use tend::wire::ListQuery;
    ///
    /// let query = ListQuery { label: Some("tier=web".into()), ..ListQuery::default() };
    /// let filter = query.list_filter().unwrap();
    /// let labels = BTreeMap::from([("tier".to_owned(), "web".to_owned())]);
    /// assert!(filter.admits(Status::Running, &labels));
    /// assert!(!filter.admits(Status::Running, &BTreeMap::new()));
    /// ```
    pub fn list_filter(&self) -> Result<ListFilter, Invalid> {
        let label = match &self.label {
            None => None,
            Some(text) => match text.split_once('=') {
                Some((key, value)) => Some((key.to_owned(), value.to_owned())),
                None => return Err(Invalid::new("label", format!("`{text}` is not key=value"))),
            },
        };
        Ok(ListFilter { status: self.status, label })
    }
}

/// The checked filters of a [`ListQuery`]: a status, a label `key=value`, both optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    status: Option<Status>,
    label: Option<(String, String)>,
}

impl ListFilter {
    /// Whether a process in `status` with `labels` passes.
    pub fn admits(&self, status: Status, labels: &BTreeMap<String, String>) -> bool {
        self.status.is_none_or(|wanted| status == wanted)
            && self.label.as_ref().is_none_or(|(key, value)| labels.get(key) == Some(value))
    }
}

/// `process.lines` (`GET /processes/{id}/output?since=&limit=`): a page of output lines from
/// the server's event log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LinesQuery {
    /// Which process.
    pub id: String,
    /// The first sequence number wanted (default 0: the oldest held).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<u64>,
    /// At most this many lines (clamped to 1..=10 000; default 10 000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// The answer of `process.run`: the final info and the captured output (lossy UTF-8). A
/// non-zero exit is not an error: `info` says how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RunAnswer {
    /// How it ended.
    pub info: ProcessInfo,
    /// Both streams, in the order written.
    pub output: String,
}

/// The answer of `process.output`: the captured output (lossy UTF-8).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OutputAnswer {
    /// Both streams, in the order written.
    pub output: String,
    /// Standard output only.
    pub stdout: String,
    /// Standard error only.
    pub stderr: String,
    /// Bytes the capture ring dropped (it keeps the newest).
    pub dropped_bytes: u64,
}

/// One output line of [`LinesAnswer`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OutputLine {
    /// The event log's sequence number.
    pub seq: u64,
    /// Which stream.
    pub stream: Stream,
    /// The line, without its newline (lossy UTF-8).
    pub line: String,
    /// `true` when the line was cut (too long, or the stream ended without a newline).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

/// The answer of `process.lines` (`GET /processes/{id}/output`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LinesAnswer {
    /// The lines, oldest first.
    pub lines: Vec<OutputLine>,
    /// Ask from here for the next page.
    pub next_seq: u64,
    /// Lines of this process the log evicted before they were read.
    pub dropped: u64,
}

/// An empty answer, `{}` (`process.input`, `process.close_stdin`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::wire::decode;

    #[test]
    fn the_other_requests_name_their_keys() {
        let bare: SignalRequest = decode(json!({"id": "x"})).unwrap();
        assert_eq!(bare.signal().unwrap_err().key, "signal");
        let nope = decode::<SignalRequest>(json!({"id": "x", "signal": "SIGNOPE"})).unwrap_err();
        assert!(nope.message.contains("SIGNOPE") && nope.key == "signal", "{nope}");
        assert_eq!(
            decode::<InputRequest>(json!({"id": "x", "data": [1]})).unwrap_err().key,
            "data"
        );
        assert_eq!(
            decode::<WaitRequest>(json!({"id": "x", "timeout": 1})).unwrap_err().key,
            "timeout"
        );
        assert_eq!(decode::<ListQuery>(json!({"status": "zombie"})).unwrap_err().key, "status");
        assert_eq!(decode::<ListQuery>(json!({"owner": "me"})).unwrap_err().key, "owner");
        let stop: StopRequest = decode(json!({"id": "x", "grace_ms": 5})).unwrap();
        assert_eq!(stop.grace().unwrap(), Some(Duration::from_millis(5)));
        // A body for the API: the id is in the path, not in the body.
        let body =
            StopRequest { grace: Some(Duration::from_secs(2).into()), ..StopRequest::default() };
        assert_eq!(serde_json::to_value(body).unwrap(), json!({"grace": "2s"}));
        assert_eq!(decode::<StopRequest>(json!({"grace": "2s"})).unwrap_err().key, "id");
    }

    #[test]
    fn answers_round_trip() {
        let lines = LinesAnswer {
            lines: vec![
                OutputLine { seq: 3, stream: Stream::Stdout, line: "a".into(), partial: false },
                OutputLine { seq: 4, stream: Stream::Stderr, line: "b".into(), partial: true },
            ],
            next_seq: 5,
            dropped: 1,
        };
        let json = serde_json::to_value(&lines).unwrap();
        assert_eq!(json["lines"][0], json!({"seq": 3, "stream": "stdout", "line": "a"}));
        assert_eq!(json["lines"][1]["partial"], true);
        assert_eq!(serde_json::from_value::<LinesAnswer>(json).unwrap(), lines);
        assert_eq!(serde_json::to_value(Empty {}).unwrap(), json!({}));
    }
}
