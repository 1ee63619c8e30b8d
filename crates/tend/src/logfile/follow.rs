//! [`follow`]: a managed process's output, appended to a [`LogFile`] until it ends;
//! [`append_output`]: the same for processes that share one file in turn.

use super::{LogFile, LogFileError};
use crate::Process;

/// What [`follow`] did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Followed {
    /// Bytes of output given to the log file (those of failed writes included).
    pub bytes: u64,
    /// Bytes the process wrote that its capture ring dropped before they were read: the log
    /// fell behind by more than the ring holds ([`StartOptions::ring_size`](crate::StartOptions::ring_size)).
    pub dropped: u64,
    /// Writes (or rotations) that failed.
    pub errors: u64,
    /// The last of those errors, and the error of closing the file, if any.
    pub last_error: Option<LogFileError>,
}

/// Appends everything `process` writes — every byte of stdout and stderr, in the order it was
/// captured, across restarts — to `log` until the process has ended for good and its output
/// is drained, then closes `log` (writing a last unfinished line). Write errors are counted,
/// logged (`tracing`) and followed by more attempts, never a panic; the blocking writes run
/// on Tokio's blocking pool.
///
/// The bytes come from the process's capture ring ([`Process::output_since`]), so it needs
/// capture on (the default) and follows from the first byte the ring still holds: call it
/// right after [`Service::start`](crate::Service::start). If the disk is slower than the
/// process for longer than the ring holds, the ring drops bytes; [`Followed::dropped`] says
/// how many (raise [`StartOptions::ring_size`](crate::StartOptions::ring_size) for bursts).
///
/// The bytes of the two streams interleave as captured: a stdout line and a stderr line
/// written at the same moment can share a file line. Use
/// [`StartOptions::merge_stderr`](crate::StartOptions::merge_stderr) for the exact order of
/// writes of one pipe.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use tend::logfile::{LogFileOptions, follow};
/// use tend::{ByteSize, Service, StartOptions};
///
/// let service = Service::new();
/// let log = LogFileOptions::new().max_size(ByteSize::mib(10)).keep(5).open("logs/web.log")?;
/// let web = service.start(StartOptions::new("python3").args(["-m", "http.server"]))?;
/// let writer = tokio::spawn({
///     let web = web.clone();
///     async move { follow(&web, log).await }
/// });
/// web.wait().await;
/// let followed = writer.await?;
/// println!("{} bytes logged, {} dropped", followed.bytes, followed.dropped);
/// # Ok(()) }
/// ```
pub async fn follow(process: &Process, log: LogFile) -> Followed {
    let (log, mut followed) = append_output(process, log).await;
    if let Some(writer) = log
        && let Ok(Err(error)) = tokio::task::spawn_blocking(move || writer.close()).await
    {
        followed.record(error);
    }
    followed
}

/// [`follow`] for one of several processes that share a log file, one after another (the
/// runs of a service, each a new process): appends everything `process` writes to `log` until
/// it has ended and its output is drained, then hands the file back open — an unfinished last
/// line still held, so the next process's bytes continue it and the file is the exact
/// concatenation of their outputs. Close it ([`LogFile::close`]) after the last one.
///
/// The file comes back `None` only when the runtime is shutting down (its blocking pool no
/// longer runs the writes): nothing more could be written anyway.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use tend::logfile::{LogFile, append_output};
/// use tend::{Service, StartOptions};
///
/// let service = Service::new();
/// let mut log = Some(LogFile::open("logs/job.log")?);
/// for run in 1..=3 {
///     let job = service.start(StartOptions::new("date").name(format!("job-{run}")))?;
///     let Some(file) = log.take() else { break };
///     let (file, followed) = append_output(&job, file).await;
///     println!("run {run}: {} bytes", followed.bytes);
///     log = file;
/// }
/// if let Some(file) = log {
///     file.close()?;
/// }
/// # Ok(()) }
/// ```
pub async fn append_output(process: &Process, log: LogFile) -> (Option<LogFile>, Followed) {
    let mut followed = Followed::default();
    let mut log = Some(log);
    let mut offset = 0;
    while process.wait_output(offset).await {
        let since = process.output_since(offset);
        offset = since.next_offset();
        if since.dropped > 0 {
            tracing::warn!(dropped = since.dropped, "log file fell behind the capture ring");
            followed.dropped += since.dropped;
        }
        let Some(mut writer) = log.take() else { break };
        let bytes = since.bytes;
        followed.bytes += bytes.len() as u64;
        let outcome = tokio::task::spawn_blocking(move || {
            let result = writer.write(&bytes);
            (writer, result)
        })
        .await;
        let Ok((writer, result)) = outcome else {
            // The blocking pool is shutting down with the runtime: nothing more can be written.
            return (None, followed);
        };
        log = Some(writer);
        if let Err(error) = result {
            followed.record(error);
        }
    }
    (log, followed)
}

impl Followed {
    fn record(&mut self, error: LogFileError) {
        tracing::warn!(%error, "log file");
        self.errors += 1;
        self.last_error = Some(error);
    }
}
