//! `OutputRing`: the byte ring every process captures into, reused by a program.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tend::OutputRing;
use tend::Stream;

#[test]
fn a_snapshot_keeps_streams_and_bytes_and_counts_what_was_dropped() {
    let mut ring = OutputRing::new(16);
    assert!(ring.is_empty());
    ring.push(Stream::Stdout, b"first\r\n");
    ring.push(Stream::Stderr, b"\xffwarn\n");
    ring.push(Stream::Stdout, b"no newline");
    // 23 bytes into 16: the first line is gone; what is left keeps its tags and its bytes.
    let output = ring.snapshot();
    assert_eq!(output.dropped_bytes(), 7);
    assert_eq!(output.stderr(), b"\xffwarn\n");
    assert_eq!(output.stdout(), b"no newline");
    assert_eq!(output.chunks().len(), 2);
    assert_eq!((ring.len(), ring.capacity(), ring.written()), (16, 16, 23));
}

#[test]
fn capacity_zero_keeps_nothing_and_counts_everything() {
    let mut ring = OutputRing::new(0);
    ring.push(Stream::Stdout, b"abc");
    assert!(ring.snapshot().is_empty());
    assert_eq!(ring.dropped_bytes(), 3);
    assert_eq!(ring.output_since(0).dropped, 3);
}

#[tokio::test]
async fn a_follower_behind_a_mutex_reads_or_is_told_of_every_byte() {
    let ring = Arc::new(Mutex::new(OutputRing::new(4096)));
    let writer = tokio::spawn({
        let ring = ring.clone();
        async move {
            for n in 0..20_000 {
                ring.lock().unwrap().push(Stream::Stdout, format!("{n}\n").as_bytes());
                if n % 500 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        }
    });
    let (mut offset, mut read, mut dropped) = (0u64, Vec::new(), 0u64);
    let follow = async {
        loop {
            let done = writer.is_finished();
            let since = ring.lock().unwrap().output_since(offset);
            dropped += since.dropped;
            read.extend_from_slice(&since.bytes);
            offset = since.next_offset();
            if done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), follow).await.expect("following in time");
    let total: u64 = (0..20_000).map(|n: u32| n.to_string().len() as u64 + 1).sum();
    assert_eq!(dropped + read.len() as u64, total);
    assert_eq!(offset, ring.lock().unwrap().written());
    assert!(read.ends_with(b"19998\n19999\n"));
}
