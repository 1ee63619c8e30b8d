//! Where a child's output goes, and the pipe plumbing around it: the shared pipe for combined
//! output, reading in chunks, and feeding stdin.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::pipe;
use tokio::process::ChildStdin;

/// Bytes read from a pipe at a time.
pub(crate) const CHUNK: usize = 32 * 1024;

/// Where captured output goes.
pub(crate) enum Capture {
    /// Nothing is captured (streams inherited or redirected).
    Nothing,
    /// Each stream into its own buffer.
    Separate { stdout: Vec<u8>, stderr: Vec<u8> },
    /// Both streams into one buffer, chunk by chunk as they arrive.
    Combined(Vec<u8>),
}

impl Capture {
    pub(crate) fn separate() -> Capture {
        Capture::Separate { stdout: Vec::new(), stderr: Vec::new() }
    }

    pub(crate) fn combined() -> Capture {
        Capture::Combined(Vec::new())
    }

    pub(crate) fn push(&mut self, from_stderr: bool, bytes: &[u8]) {
        match self {
            Capture::Nothing => {}
            Capture::Separate { stdout, stderr } => {
                if from_stderr { stderr } else { stdout }.extend_from_slice(bytes)
            }
            Capture::Combined(all) => all.extend_from_slice(bytes),
        }
    }

    pub(crate) fn into_separate(self) -> (Vec<u8>, Vec<u8>) {
        match self {
            Capture::Separate { stdout, stderr } => (stdout, stderr),
            Capture::Combined(all) => (all, Vec::new()),
            Capture::Nothing => (Vec::new(), Vec::new()),
        }
    }

    pub(crate) fn into_combined(self) -> Vec<u8> {
        match self {
            Capture::Separate { mut stdout, stderr } => {
                stdout.extend_from_slice(&stderr);
                stdout
            }
            Capture::Combined(all) => all,
            Capture::Nothing => Vec::new(),
        }
    }
}

/// One pipe with two write ends (for the child's stdout and stderr) and a read end we read
/// asynchronously.
pub(crate) fn shared_pipe() -> io::Result<(pipe::Receiver, std::io::PipeWriter, std::io::PipeWriter)>
{
    let (reader, writer) = std::io::pipe()?;
    let second = writer.try_clone()?;
    Ok((pipe::Receiver::from_owned_fd(reader.into())?, writer, second))
}

/// Reads from an optional pipe; pends for ever when there is none (so a `select!` branch on it
/// is simply never chosen).
pub(crate) async fn read_some<R: AsyncRead + Unpin>(
    pipe: &mut Option<R>,
    buf: &mut [u8],
) -> io::Result<usize> {
    match pipe {
        Some(pipe) => pipe.read(buf).await,
        None => std::future::pending().await,
    }
}

/// Writes `bytes` to the child's stdin and closes it. A child that stops reading early makes
/// the write fail with a broken pipe; that is its right, not our error.
pub(crate) async fn feed_stdin(pipe: Option<ChildStdin>, bytes: Option<Vec<u8>>, program: String) {
    let (Some(mut pipe), Some(bytes)) = (pipe, bytes) else {
        return;
    };
    if let Err(error) = pipe.write_all(&bytes).await {
        tracing::debug!(program, %error, "stdin not fully written");
    }
    // Dropping `pipe` here closes it: the child sees end-of-file.
}
