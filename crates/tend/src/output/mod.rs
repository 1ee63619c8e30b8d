//! Captured output: the per-process ring buffer ([`OutputRing`], public for reuse) and the
//! line splitter. The types are at the crate root: [`Output`], [`OutputChunk`],
//! [`OutputSince`], [`OutputRing`] and [`Stream`].
//!
//! A managed process's stdout and stderr are read in chunks. Each chunk goes two ways:
//!
//! * into the process's **capture ring**, which keeps the most recent bytes exactly as written
//!   (no newline added, `\r\n` kept, invalid UTF-8 kept), each run of bytes tagged with the
//!   [`Stream`] it came from. A snapshot of it is an [`Output`];
//! * through a **line splitter**, which turns the chunks into line events. A line has no length
//!   limit: one longer than the configured maximum is delivered as several bounded pieces, all
//!   but the last flagged as partial, so a 1 GiB line without a newline neither stalls capture
//!   nor exhausts memory.
//!
//! # Memory
//!
//! The ring allocates nothing until the first byte arrives and then grows geometrically up to
//! its capacity, so an idle process costs a few dozen bytes rather than its full capacity.
//! When full it drops the oldest bytes and moves its head forward to the start of a UTF-8
//! character, so a snapshot never begins with half a character.
//!
//! # Caveats
//!
//! * Capture keeps the *last* bytes. Output older than the capacity is counted
//!   ([`Output::dropped_bytes`]) but gone.
//! * Order between the two streams is the order in which the reader saw the chunks. Two pipes
//!   give no ordering guarantee: a child writing to stdout and then stderr may be observed the
//!   other way round if both writes land between two reads.
//! * Line events are zero-copy slices of the chunk they were read in, so holding on to one
//!   line keeps that whole chunk (up to the read size) allocated. Code that keeps many lines
//!   for a long time should copy them out.
//! * The ring tags every run of same-stream bytes; output that alternates streams byte by byte
//!   therefore costs one small bookkeeping entry per run on top of the bytes themselves.

mod lines;
pub(crate) mod ring;
pub(crate) mod snapshot;
mod splitter;
pub(crate) mod stream;
#[cfg(test)]
mod tests;

pub(crate) use lines::LineBatch;
// Public at the crate root only (`tend::Output`, …): one path per item. These are the
// crate's own short paths to them.
pub(crate) use ring::OutputRing;
pub(crate) use snapshot::{Output, OutputChunk, OutputSince};
pub(crate) use splitter::{LineSplitter, Piece};
pub(crate) use stream::Stream;
