//! [`LogFile`]: the rotating writer, and [`LogFileOptions`] to open one.

use std::fs::File;
use std::io::{self, IoSlice, Write};
use std::path::{Path, PathBuf};

use super::files::{self, Opened};
use super::{LogFileError, LogSnapshot};
use crate::ByteSize;

/// The size limit of a log file unless set: 10 MiB.
pub const DEFAULT_MAX_SIZE: ByteSize = ByteSize::mib(10);
/// How many rotated files are kept unless set: 5.
pub const DEFAULT_KEEP: u32 = 5;
/// Permissions of a log file it creates unless set: `0600` (less the umask), as logs may
/// hold secrets a program printed.
pub const DEFAULT_MODE: u32 = 0o600;
/// The most of an unfinished line held in memory (or the size limit, if smaller): past it,
/// the line is written as it comes (see [`LogFile`]).
pub const MAX_HELD_LINE: usize = 1024 * 1024;

/// How to open a [`LogFile`]: its size limit, how many rotated files to keep, and the
/// permissions of a file it creates.
///
/// ```no_run
/// use tend::ByteSize;
/// use tend::logfile::LogFileOptions;
///
/// let mut log = LogFileOptions::new().max_size(ByteSize::mib(1)).keep(2).open("logs/web.log")?;
/// log.write(b"listening on :8080\n")?;
/// log.close()?;
/// # Ok::<(), tend::logfile::LogFileError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogFileOptions {
    max_size: ByteSize,
    keep: u32,
    mode: u32,
}

impl Default for LogFileOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl LogFileOptions {
    /// [`DEFAULT_MAX_SIZE`], [`DEFAULT_KEEP`], [`DEFAULT_MODE`].
    pub const fn new() -> Self {
        Self { max_size: DEFAULT_MAX_SIZE, keep: DEFAULT_KEEP, mode: DEFAULT_MODE }
    }

    /// The size a file may reach before the writer rotates it (more than 0).
    pub const fn max_size(mut self, max_size: ByteSize) -> Self {
        self.max_size = max_size;
        self
    }

    /// How many rotated files (`PATH.1` … `PATH.N`) are kept; 0 keeps only the live file.
    pub const fn keep(mut self, keep: u32) -> Self {
        self.keep = keep;
        self
    }

    /// Permissions of the file when it is created (the umask applies); an existing file keeps
    /// its own.
    pub const fn mode(mut self, mode: u32) -> Self {
        self.mode = mode;
        self
    }

    /// Opens (or creates) the live file at `path` for appending; see [`LogFile`].
    ///
    /// # Errors
    ///
    /// [`LogFileError::ZeroMaxSize`], [`LogFileError::Symlink`] (a link at `path` is never
    /// followed), [`LogFileError::WrongType`] (a directory, FIFO or socket at `path`), or
    /// [`LogFileError::Io`] naming the path (no permission, no space, …).
    pub fn open(&self, path: impl AsRef<Path>) -> Result<LogFile, LogFileError> {
        let path = path.as_ref();
        self.validate(path)?;
        let path = path.to_path_buf();
        let Opened { file, size, rotates } = files::open_live(&path, self.mode)?;
        Ok(LogFile {
            path,
            max_size: self.max_size.bytes(),
            keep: self.keep,
            mode: self.mode,
            file: Some(file),
            size,
            rotates,
            held: Vec::new(),
            open_line: false,
            appended: 0,
        })
    }

    /// The options' own error for a log at `path`, found without touching the file system.
    pub(super) fn validate(&self, path: &Path) -> Result<(), LogFileError> {
        if self.max_size.bytes() == 0 {
            return Err(LogFileError::ZeroMaxSize { path: path.to_path_buf() });
        }
        Ok(())
    }

    /// A writer for `path` whose live file is not open yet (opening it failed, or it is to
    /// be opened at the first write): each write tries to open it, so logging starts once
    /// the path can be opened.
    pub(super) fn unopened(&self, path: PathBuf) -> LogFile {
        LogFile {
            path,
            max_size: self.max_size.bytes().max(1),
            keep: self.keep,
            mode: self.mode,
            file: None,
            size: 0,
            rotates: true,
            held: Vec::new(),
            open_line: false,
            appended: 0,
        }
    }
}

/// A log file that rotates at line boundaries: `PATH` is the live file, `PATH.1` the newest
/// rotated one, … `PATH.N` the oldest kept (N = [`keep`](LogFileOptions::keep)).
///
/// * **Exact.** Every byte given to [`write`](Self::write) is appended, unaltered, in order
///   (invalid UTF-8, `\r`, NULs included); nothing is added.
/// * **Whole lines.** Before a line that would take the live file past
///   [`max_size`](LogFileOptions::max_size), the file is rotated, so each file ends at a line
///   boundary and holds at most `max_size` bytes — except a single line longer than
///   `max_size`, which goes whole into a file of its own (that file is larger than the
///   limit). An earlier run's file is appended to and counts toward the limit.
/// * **Unfinished lines.** Bytes after the last `\n` are held in memory until their line ends,
///   so a line is never split across files. [`close`](Self::close) (or dropping the writer)
///   writes them. A held line longer than [`MAX_HELD_LINE`] (or `max_size`, if smaller) is
///   written as it comes, into a fresh file unless the live one is empty, and the rest of
///   that line follows it there: memory stays bounded and the line is still not split.
/// * **Rotation** renames (`rename(2)`, atomic) `PATH.N-1` → `PATH.N`, …, `PATH` → `PATH.1`,
///   which replaces the oldest; numbered files beyond `keep` left by an earlier run are
///   removed; then a new `PATH` is created.
/// * **Safe opening.** The live file is opened with `O_APPEND` and without following a
///   symbolic link ([`LogFileError::Symlink`]); missing parent directories are created with
///   mode `0700`; a new file gets [`mode`](LogFileOptions::mode) (default `0600`). A
///   character device (`/dev/null`) is accepted and appended to without rotation.
/// * **Errors** name the file and never panic. The bytes of a `write` that failed are not
///   kept (a full disk cannot fill memory instead); the writer stays usable, and reopens the
///   live file on the next write if a rotation left none. A failed rotation appends the
///   bytes to the live file anyway ([`LogFileError::Rotate`]).
///
/// One writer owns its files: two writers (or `logrotate`) on the same path are not
/// coordinated. Writes go to the OS at once (no user-space buffer beyond the held line); none
/// is `fsync`ed.
#[derive(Debug)]
pub struct LogFile {
    path: PathBuf,
    max_size: u64,
    keep: u32,
    mode: u32,
    /// `None` after a rotation that could not open the new live file.
    file: Option<File>,
    /// Bytes in the live file.
    size: u64,
    rotates: bool,
    /// The unfinished line, held until its `\n`.
    held: Vec<u8>,
    /// A long unfinished line was written out: its rest goes to the same file.
    open_line: bool,
    /// Bytes appended to the files since opened (to tell how many a failed write lost).
    appended: u64,
}

impl LogFile {
    /// Opens `path` with the default options ([`LogFileOptions::new`]).
    ///
    /// # Errors
    ///
    /// As [`LogFileOptions::open`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, LogFileError> {
        LogFileOptions::new().open(path)
    }

    /// The live file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes in the live file now (not counting a held unfinished line).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Bytes of an unfinished line held in memory.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Bytes appended to the files plus those held: what was given to it and not lost.
    pub(super) fn accounted(&self) -> u64 {
        self.appended + self.held.len() as u64
    }

    /// Its files and held unfinished line now (see [`LogSnapshot`]); nothing for a
    /// character device.
    pub fn snapshot(&self) -> LogSnapshot {
        if !self.rotates {
            return LogSnapshot::default();
        }
        LogSnapshot::list_with_held(&self.path, self.held.clone())
    }

    /// Appends `bytes`, rotating before any line that would not fit (see [`LogFile`]).
    ///
    /// # Errors
    ///
    /// [`LogFileError::Io`] (action "write" or "open") or [`LogFileError::Rotate`], naming
    /// the file. The writer stays usable.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), LogFileError> {
        if self.file.is_none() {
            // Not open yet (opened lazily, or a rotation or an open failed): what an earlier
            // run left must count against the limit before any byte is placed.
            self.reopen()?;
        }
        if !self.rotates {
            return self.append(bytes);
        }
        let mut rest = bytes;
        if self.open_line {
            let Some(newline) = memchr::memchr(b'\n', rest) else {
                return self.append(rest);
            };
            self.open_line = false;
            self.append(&rest[..=newline])?;
            rest = &rest[newline + 1..];
        }
        let Some(last) = memchr::memrchr(b'\n', rest) else {
            return self.hold(rest);
        };
        let (lines, tail) = rest.split_at(last + 1);
        let held_and_lines = (self.held.len() + lines.len()) as u64;
        if !self.held.is_empty() && self.size + held_and_lines <= self.max_size {
            // All of it fits: one write of the held line's start and the new lines.
            let held = std::mem::take(&mut self.held);
            let written = self.append_parts(&mut [IoSlice::new(&held), IoSlice::new(lines)]);
            self.held = held;
            self.held.clear();
            written?;
            return self.hold(tail);
        }
        let lines = if self.held.is_empty() {
            lines
        } else {
            // The held start of a line and its end go out as one line.
            let end = memchr::memchr(b'\n', lines).map_or(lines.len(), |i| i + 1);
            let mut line = std::mem::take(&mut self.held);
            line.extend_from_slice(&lines[..end]);
            let placed = self.place_lines(&line);
            line.clear();
            self.held = line;
            placed?;
            &lines[end..]
        };
        self.place_lines(lines)?;
        self.hold(tail)
    }

    /// Writes any held unfinished line and closes the file.
    ///
    /// # Errors
    ///
    /// As [`write`](Self::write), for the held line.
    pub fn close(mut self) -> Result<(), LogFileError> {
        self.write_held()
    }

    /// Closes the live file, keeping the held unfinished line: the next write opens it again
    /// (a quiet process need not hold a descriptor).
    pub(super) fn release_file(&mut self) {
        self.file = None;
    }

    /// Appends `lines` (whole lines), rotating before each line that would not fit.
    fn place_lines(&mut self, mut lines: &[u8]) -> Result<(), LogFileError> {
        while !lines.is_empty() {
            let room = self.max_size.saturating_sub(self.size);
            if lines.len() as u64 <= room {
                return self.append(lines);
            }
            // `room` < `lines.len()`, so it fits in a usize.
            let fitting = memchr::memrchr(b'\n', &lines[..room as usize]).map_or(0, |i| i + 1);
            if fitting > 0 {
                self.append(&lines[..fitting])?;
                lines = &lines[fitting..];
            } else if self.size > 0 {
                self.rotate_or_keep(lines)?;
            } else {
                // A line longer than the limit, in a file of its own.
                let end = memchr::memchr(b'\n', lines).map_or(lines.len(), |i| i + 1);
                self.append(&lines[..end])?;
                lines = &lines[end..];
            }
        }
        Ok(())
    }

    /// Holds `tail` (an unfinished line) until its end; a held line grown past the bound is
    /// written out at the start of a file, and the rest of it will follow.
    fn hold(&mut self, tail: &[u8]) -> Result<(), LogFileError> {
        self.held.extend_from_slice(tail);
        let bound = MAX_HELD_LINE.min(usize::try_from(self.max_size).unwrap_or(usize::MAX));
        if self.held.len() <= bound {
            return Ok(());
        }
        self.open_line = true;
        self.write_held()
    }

    /// Writes the held bytes at a line boundary: into a fresh file unless the live one is
    /// empty or they fit.
    pub(super) fn write_held(&mut self) -> Result<(), LogFileError> {
        if self.held.is_empty() {
            return Ok(());
        }
        let held = std::mem::take(&mut self.held);
        let fits = self.size + held.len() as u64 <= self.max_size;
        let rotated = if self.size > 0 && (self.open_line || !fits) {
            self.rotate_or_keep(&held)
        } else {
            Ok(())
        };
        let written = match rotated {
            Ok(()) => self.append(&held),
            Err(error) => Err(error),
        };
        let mut held = held;
        held.clear();
        self.held = held;
        written
    }

    /// Rotates; if that fails, appends `bytes` to the live file anyway and returns the error
    /// (so a failed rotation loses nothing). On success `bytes` are not written: the caller
    /// goes on placing them in the new file.
    fn rotate_or_keep(&mut self, bytes: &[u8]) -> Result<(), LogFileError> {
        let Err(error) = self.rotate() else {
            return Ok(());
        };
        self.append(bytes)?;
        Err(error)
    }

    fn rotate(&mut self) -> Result<(), LogFileError> {
        files::shift(&self.path, self.keep)?;
        // The old file is renamed away: whatever happens next, it is not the live one.
        self.file = None;
        self.size = 0;
        self.reopen()
    }

    fn reopen(&mut self) -> Result<(), LogFileError> {
        let Opened { file, size, rotates } = files::open_live(&self.path, self.mode)?;
        self.file = Some(file);
        self.size = size;
        self.rotates = rotates;
        Ok(())
    }

    /// Appends `bytes` to the live file (reopened if a rotation left none), counting what was
    /// written even when a later part fails.
    fn append(&mut self, bytes: &[u8]) -> Result<(), LogFileError> {
        self.append_parts(&mut [IoSlice::new(bytes)])
    }

    /// Appends `parts` in order with as few `writev` calls as the OS allows.
    fn append_parts(&mut self, mut parts: &mut [IoSlice<'_>]) -> Result<(), LogFileError> {
        if self.file.is_none() {
            self.reopen()?;
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        IoSlice::advance_slices(&mut parts, 0);
        while !parts.is_empty() {
            match file.write_vectored(parts) {
                Ok(0) => {
                    return Err(self.write_error(io::ErrorKind::WriteZero.into()));
                }
                Ok(n) => {
                    self.size += n as u64;
                    self.appended += n as u64;
                    IoSlice::advance_slices(&mut parts, n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.write_error(e)),
            }
        }
        Ok(())
    }

    fn write_error(&self, source: io::Error) -> LogFileError {
        LogFileError::Io { path: self.path.clone(), action: "write", source }
    }
}

impl Drop for LogFile {
    /// Writes a held unfinished line; an error is logged (`tracing`), as drop cannot return
    /// it. Call [`close`](LogFile::close) to see it.
    fn drop(&mut self) {
        if let Err(error) = self.write_held() {
            tracing::warn!(%error, "log file: the last unfinished line could not be written");
        }
    }
}

/// [`LogFile::write`] as [`io::Write`] (whole buffers; the error's kind is the OS error's).
/// `flush` does nothing: bytes reach the OS at once, and an unfinished line is held until
/// its end on purpose.
impl Write for LogFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        LogFile::write(self, bytes)?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
