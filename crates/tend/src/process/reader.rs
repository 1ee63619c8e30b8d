//! Reading one output pipe: chunked reads → capture ring → line splitter → event bus, and
//! whole lines to the output file when there is one.

use std::future::{Future, poll_fn};
use std::io;
use std::os::fd::AsFd;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::watch;

use super::output_file::LineGate;
use super::shared::ProcessShared;
use crate::event::EventKind;
use crate::os;
use crate::output::{LineBatch, LineSplitter, Piece, Stream};

/// First read size. A buffer exists only while a read returns data (see [`read_chunk`]): an
/// idle process holds none.
const SMALL_READ: usize = 4 * 1024;
/// Read size once a pipe has shown it is busy (a read filled the small buffer).
const LARGE_READ: usize = 64 * 1024;
/// Kernel pipe buffer asked for once a pipe is busy.
const PIPE_BUFFER: usize = 1 << 20;

/// Reads `pipe` until end-of-file or until `stop` turns true (then only what the pipe already
/// holds), then delivers the last partial line. Never blocks on subscribers: publishing only
/// appends to the bus's bounded ring.
pub(crate) async fn read_pipe<R: AsyncRead + AsFd + Unpin>(
    mut pipe: R,
    stream: Stream,
    shared: Arc<ProcessShared>,
    mut stop: watch::Receiver<bool>,
    mut file: Option<LineGate>,
) {
    let mut splitter = LineSplitter::new(shared.options.max_line);
    let mut size = SMALL_READ;
    // Bytes read since `stop`; `None` until then.
    let mut swept: Option<usize> = None;
    loop {
        let read = match swept {
            // Stopped: take what the pipe already holds, but no more than one pipe-full, so a
            // detached grandchild that keeps writing cannot keep us here. A zero timeout polls
            // the read once.
            Some(taken) if taken >= PIPE_BUFFER => break,
            Some(_) => {
                match tokio::time::timeout(Duration::ZERO, read_chunk(&mut pipe, size)).await {
                    Ok(result) => result,
                    Err(_) => break,
                }
            }
            None => tokio::select! {
                biased;
                _ = stop.wait_for(|s| *s) => {
                    swept = Some(0);
                    continue;
                }
                result = read_chunk(&mut pipe, size) => result,
            },
        };
        let buffer = match read {
            Ok(buffer) if !buffer.is_empty() => buffer,
            _ => break,
        };
        let n = buffer.len();
        if let Some(taken) = &mut swept {
            *taken += n;
        }
        if n == size && size < LARGE_READ {
            size = LARGE_READ;
            // Only busy pipes get a bigger kernel buffer: unprivileged users share a quota of
            // pipe pages, and past it every new pipe shrinks to a single page.
            os::enlarge_pipe(&pipe, PIPE_BUFFER);
        }
        let chunk = buffer.freeze();
        if shared.options.capture {
            shared.ring().push(stream, &chunk);
        }
        let on_line = shared.options.on_line.as_ref();
        if shared.bus.has_subscribers() {
            // The bus keeps the chunk while its lines wait for readers: a small read in a
            // large buffer is copied out rather than pinning the whole buffer.
            let kept = if n * 4 < size { Bytes::copy_from_slice(&chunk) } else { chunk.clone() };
            let mut batch = LineBatch::new(stream, kept);
            splitter.split(&chunk, |piece, partial| {
                if let Some(callback) = on_line {
                    callback.call(stream, piece_bytes(&piece, &chunk));
                }
                batch.add(piece, partial);
            });
            shared.bus.publish_lines(shared.id, batch);
        } else if let Some(callback) = on_line {
            splitter.split(&chunk, |piece, _| callback.call(stream, piece_bytes(&piece, &chunk)));
        } else {
            // Keep the splitter's view of the current line right for later subscribers.
            splitter.skip(&chunk);
        }
        if let Some(file) = &mut file {
            file.push(&chunk).await;
        }
    }
    if let Some(file) = file {
        file.finish().await;
    }
    let mut last = None;
    splitter.finish(|line, partial| {
        if let Some(callback) = &shared.options.on_line {
            callback.call(stream, &line);
        }
        last = Some(EventKind::Output { stream, line, partial });
    });
    shared.bus.publish(shared.id, last);
}

/// Reads once from `pipe` into a buffer of `size` bytes allocated for each attempt and freed
/// at once when the pipe has nothing (the readiness tokio caches makes such an attempt cost
/// no system call): a process that prints nothing holds no read buffer, which is most of the
/// daemon's memory per managed process. Empty at end of file.
async fn read_chunk<R: AsyncRead + Unpin>(pipe: &mut R, size: usize) -> io::Result<BytesMut> {
    poll_fn(|cx| {
        let mut buffer = BytesMut::with_capacity(size);
        let polled = pin!(pipe.read_buf(&mut buffer)).poll(cx);
        polled.map_ok(|_| buffer)
    })
    .await
}

/// The bytes of a piece the splitter cut from `chunk`.
fn piece_bytes<'a>(piece: &'a Piece, chunk: &'a [u8]) -> &'a [u8] {
    match piece {
        Piece::Held(bytes) => bytes,
        Piece::InChunk(range) => &chunk[range.clone()],
    }
}
