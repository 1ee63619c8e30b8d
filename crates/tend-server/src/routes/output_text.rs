//! `GET /processes/{id}/output?format=text`: a process's output bytes, from its capture ring
//! and, for what the ring no longer holds (or never held: a record restored after a daemon
//! restart), from its log files ([`ProcessInfo::log_path`](tend::ProcessInfo::log_path) and
//! its rotated `PATH.1` … `PATH.N`).
//!
//! The files and the ring are joined where the log writer is: the files' bytes first, then
//! the ring's from there on. The files and the writer's position come from one snapshot
//! taken under the log's lock ([`Process::log_snapshot`]), so they always agree, and the
//! files are read from the handles opened then, so a rotation meanwhile changes nothing.
//! The join is exact for a process that writes one stream (or merges stderr into stdout),
//! running or ended. With two streams the file has each stream's whole lines as they
//! complete, so lines of stdout and stderr can be in another order in the files than in
//! the ring (the bytes around the join may then repeat or miss a line's worth). The files
//! are read whole, so an answer from files holds at most `(log_keep + 1) × log_max_size`
//! bytes (60 MiB with the defaults).

use std::time::Duration;

use axum::http::{HeaderName, header};
use axum::response::{IntoResponse, Response};
use tend::Process;
use tend::logfile::LogSnapshot;

use crate::error::{ApiError, ApiResult};
use crate::log_files::{line_start, tail_start};

/// How long `follow=true` waits for output beyond `offset` before answering with nothing
/// new; the client asks again.
const FOLLOW_WAIT: Duration = Duration::from_secs(10);

/// What the text form was asked for.
pub(crate) struct TextQuery {
    pub(crate) offset: u64,
    pub(crate) follow: bool,
    pub(crate) tail: Option<u64>,
}

/// The body and where it sits in the process's output.
struct Answer {
    bytes: Vec<u8>,
    /// Offset of the first byte of the body (its earlier log content counts as offset 0).
    offset: u64,
    /// The offset to ask for next.
    next: u64,
    dropped: u64,
    cut: bool,
}

/// `?format=text[&offset=N][&follow=true][&tail=N]`: the bytes from byte `offset` on (0,
/// the first byte the process ever wrote and whatever its log file held before it, by
/// default), both streams in order, exactly as written; `tail=N`: the last N lines. With
/// `follow=true` it first waits (up to 10 s) until there is something past `offset` or the
/// process has ended. Headers say where the body starts and what is missing before it:
///
/// * `X-Tend-Offset`: the offset of the first byte of the body;
/// * `X-Tend-Next-Offset`: the offset to ask for next to follow;
/// * `X-Tend-Dropped-Bytes`: bytes between `offset` and the body that neither the capture
///   ring nor the log files hold any more;
/// * `X-Tend-Cut-Line`: `true` when bytes were dropped and the body starts inside a line;
/// * `X-Tend-Ended`: `true` when the process has ended and the body reaches the end of its
///   output: nothing more will come.
pub(crate) async fn answer(process: &Process, query: TextQuery) -> ApiResult<Response> {
    if query.follow && query.tail.is_none() {
        // Nothing new within the wait is an empty answer, not an error.
        let _ = tokio::time::timeout(FOLLOW_WAIT, process.wait_output(query.offset)).await;
    }
    let path = process.info().log_path;
    let listed = tokio::task::spawn_blocking({
        let process = process.clone();
        move || process.log_snapshot().or_else(|| path.map(|path| list_still(&process, &path)))
    });
    let (files, logged) = listed.await.map_err(internal)?.unwrap_or_default();
    let answer = tokio::task::spawn_blocking({
        let process = process.clone();
        move || match query.tail {
            Some(lines) => tail(&process, &files, logged, lines),
            None => from_offset(&process, &files, logged, query.offset),
        }
    })
    .await
    .map_err(internal)?
    .map_err(|error| internal(format!("cannot read the log files: {error}")))?;
    // A zero timeout polls once: `Ok(false)` is "ended, and nothing past what we send".
    let ended = matches!(
        tokio::time::timeout(Duration::ZERO, process.wait_output(answer.next)).await,
        Ok(false)
    );
    let headers = [
        (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
        (HeaderName::from_static("x-tend-offset"), answer.offset.to_string()),
        (HeaderName::from_static("x-tend-next-offset"), answer.next.to_string()),
        (HeaderName::from_static("x-tend-dropped-bytes"), answer.dropped.to_string()),
        (HeaderName::from_static("x-tend-cut-line"), answer.cut.to_string()),
        (HeaderName::from_static("x-tend-ended"), ended.to_string()),
    ];
    Ok((headers, answer.bytes).into_response())
}

/// Without a rotating log's snapshot (a record restored after a daemon restart: nothing
/// writes its files; a plain output file): lists the files by path while no write to them
/// completed, the writer's count before and after the listing agreeing (a few tries, then
/// the last listing).
fn list_still(process: &Process, path: &std::path::Path) -> (LogSnapshot, u64) {
    let mut tries = 0;
    loop {
        let before = process.logged_bytes();
        let files = LogSnapshot::list(path);
        tries += 1;
        if process.logged_bytes() == before || tries == 10 {
            return (files, before);
        }
    }
}

fn internal(error: impl std::fmt::Display) -> ApiError {
    ApiError::new(tend::wire::ErrorCode::Internal, error.to_string())
}

/// The bytes from `offset` on: the ring's, unless it dropped some of them (or it is asked
/// from the start and the files hold more than this process wrote to them), then the
/// files' from there and the ring's after what the files hold.
fn from_offset(
    process: &Process,
    files: &LogSnapshot,
    logged: u64,
    offset: u64,
) -> std::io::Result<Answer> {
    let since = process.output_since(offset);
    let on_disk = files.len();
    // The files reach back further than the ring (to before the process when they hold more
    // than it wrote to them: an earlier process's output, or a restored record's).
    let reach_back = on_disk > logged || logged - on_disk < since.offset;
    let from_files =
        on_disk > 0 && reach_back && (since.dropped > 0 || (offset == 0 && on_disk > logged));
    if !from_files {
        let next = since.next_offset();
        return Ok(Answer {
            offset: since.offset,
            next,
            dropped: since.dropped,
            cut: since.cut,
            bytes: since.bytes,
        });
    }
    // The files end at output offset `logged`; position `p` in them is offset
    // `logged - on_disk + p` (before 0: what the file held before this process).
    let start = if offset == 0 { 0 } else { (on_disk + offset).saturating_sub(logged) };
    let mut bytes = files.read_from(start)?;
    let first = (logged + start).saturating_sub(on_disk);
    let rest = process.output_since(logged.max(offset));
    let next = if rest.dropped == 0 {
        bytes.extend_from_slice(&rest.bytes);
        rest.next_offset()
    } else {
        // The log writer is further behind than the ring holds (its queue): the bytes after
        // the files are on their way to them; the client asks again from there.
        logged.max(offset)
    };
    Ok(Answer { offset: first, next, dropped: first.saturating_sub(offset), cut: false, bytes })
}

/// The last `lines` lines of the files followed by the ring after them (the ring alone
/// without files).
fn tail(
    process: &Process,
    files: &LogSnapshot,
    logged: u64,
    lines: u64,
) -> std::io::Result<Answer> {
    let logged = if files.is_empty() { 0 } else { logged };
    let ring = process.output_since(logged);
    let next = ring.next_offset();
    if lines == 0 {
        return Ok(Answer { offset: next, next, dropped: 0, cut: false, bytes: Vec::new() });
    }
    let mut found = 0;
    let ring_bytes = match ring.bytes.last() {
        Some(b'\n') => &ring.bytes[..ring.bytes.len() - 1],
        _ => &ring.bytes[..],
    };
    let bytes = match line_start(ring_bytes, lines, &mut found) {
        Some(at) => ring.bytes[at..].to_vec(),
        None if files.is_empty() => ring.bytes,
        None => {
            let at = tail_start(files, lines, found, ring.bytes.is_empty())?;
            let mut bytes = files.read_from(at)?;
            bytes.extend_from_slice(&ring.bytes);
            bytes
        }
    };
    Ok(Answer {
        offset: next.saturating_sub(bytes.len() as u64),
        next,
        dropped: 0,
        cut: false,
        bytes,
    })
}
