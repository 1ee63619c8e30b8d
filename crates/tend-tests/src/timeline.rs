//! The timeline file: what `tend-fixture serve --timeline PATH` records, and how tests read it.
//!
//! One line per event, `NAME EVENT UNIX_NANOS PID`, for example `web listening
//! 1764758400123456789 4242`. `NAME` is the fixture's `--name`, `EVENT` one word (`started`,
//! `listening`, `printed`, `http-503`, `term`, `exiting`, …), `UNIX_NANOS` the wall clock
//! (`SystemTime`, CLOCK_REALTIME: the one clock every process on the machine shares, so times
//! written by different processes, and by the test itself with [`now_nanos`], compare
//! directly; a clock step between two events would show, which no test machine does while a
//! test runs), `PID` the writer's process id (a restarted service writes a new one).
//!
//! Each line goes to the file in one `write` on a file opened with `O_APPEND`, so several
//! fixtures can share one file: lines never interleave, and the file's order is the order in
//! which the writes happened.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The writer's `--name`.
    pub name: String,
    /// What happened, one word.
    pub event: String,
    /// When, in nanoseconds since the Unix epoch (see the module docs for the clock).
    pub unix_nanos: u64,
    /// The writer's process id.
    pub pid: u32,
}

/// Nanoseconds since the Unix epoch, from the same clock the fixture records with.
pub fn now_nanos() -> u64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX)
}

/// Appends `NAME EVENT NOW PID` to `path` in one write (creating the file if needed).
pub fn record(path: &Path, name: &str, event: &str) -> io::Result<()> {
    record_at(path, name, event, now_nanos())
}

/// Appends `NAME EVENT UNIX_NANOS PID` to `path` in one write, with a time taken earlier
/// (just before an action whose moment matters, such as a bind).
pub fn record_at(path: &Path, name: &str, event: &str, unix_nanos: u64) -> io::Result<()> {
    let line = format!("{name} {event} {unix_nanos} {}\n", std::process::id());
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(line.as_bytes())
}

/// Every event in `path`, in file order. A missing file is an empty timeline (nothing has
/// happened yet); a malformed line is an error naming it.
pub fn read(path: &Path) -> io::Result<Timeline> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(Timeline::default()),
        Err(error) => Err(error),
    }
}

/// Reads the timeline at `path` until `done` holds, polling every 5 ms, and returns it; panics
/// naming `what` (with the timeline read last) if `within` passes first. For tests that watch
/// fixtures run by someone else (`tend up`), where no line on a pipe says when to look.
pub fn wait_for(
    path: &Path,
    within: Duration,
    what: &str,
    done: impl Fn(&Timeline) -> bool,
) -> Timeline {
    let start = Instant::now();
    loop {
        let timeline =
            read(path).unwrap_or_else(|error| panic!("timeline {}: {error}", path.display()));
        if done(&timeline) {
            return timeline;
        }
        assert!(
            start.elapsed() < within,
            "the timeline never showed {what} within {within:?}: {timeline:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Parses a timeline's text. A last line without its newline is still being written by
/// nobody (each line is one write), so it is parsed like the others.
pub fn parse(text: &str) -> io::Result<Timeline> {
    let entries = text
        .lines()
        .enumerate()
        .map(|(index, line)| {
            parse_line(line).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("timeline line {}: bad entry `{line}`", index + 1),
                )
            })
        })
        .collect::<io::Result<_>>()?;
    Ok(Timeline { entries })
}

fn parse_line(line: &str) -> Option<Entry> {
    let mut fields = line.split(' ');
    let entry = Entry {
        name: fields.next()?.to_owned(),
        event: fields.next()?.to_owned(),
        unix_nanos: fields.next()?.parse().ok()?,
        pid: fields.next()?.parse().ok()?,
    };
    fields.next().is_none().then_some(entry)
}

/// The events of a timeline file, in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    /// Every entry, in the order the writes happened.
    pub entries: Vec<Entry>,
}

impl Timeline {
    /// The first `event` of `name`, if it happened.
    pub fn first(&self, name: &str, event: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name && e.event == event)
    }

    /// The last `event` of `name`, if it happened.
    pub fn last(&self, name: &str, event: &str) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.name == name && e.event == event)
    }

    /// The time of the first `event` of `name`, if it happened.
    pub fn time(&self, name: &str, event: &str) -> Option<u64> {
        self.first(name, event).map(|e| e.unix_nanos)
    }

    /// Every `event` of `name`, in order (a restarted service's `started`s, say).
    pub fn all<'a>(&'a self, name: &'a str, event: &'a str) -> impl Iterator<Item = &'a Entry> {
        self.entries.iter().filter(move |e| e.name == name && e.event == event)
    }

    /// The events of `name`, in order, as words: `["started", "listening", "term", …]`.
    pub fn events(&self, name: &str) -> Vec<&str> {
        self.entries.iter().filter(|e| e.name == name).map(|e| e.event.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_names_a_bad_one() {
        let timeline = parse("db started 10 7\ndb listening 12 7\nweb started 13 8\n").unwrap();
        assert_eq!(timeline.events("db"), ["started", "listening"]);
        assert_eq!(timeline.time("web", "started"), Some(13));
        assert_eq!(timeline.first("db", "listening").unwrap().pid, 7);
        assert_eq!(timeline.time("web", "term"), None);

        let error = parse("db started 10 7\ndb started ten 7\n").unwrap_err();
        assert!(error.to_string().contains("line 2"), "{error}");
        assert!(parse("db started 10 7 extra\n").is_err());
        assert!(parse("db started 10\n").is_err());
    }

    #[test]
    fn record_appends_one_line_with_the_pid() {
        let dir = std::env::temp_dir().join(format!("tend-timeline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("timeline");
        let before = now_nanos();
        record(&path, "a", "started").unwrap();
        record(&path, "b", "exiting").unwrap();
        let timeline = read(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(timeline.events("a"), ["started"]);
        let (a, b) = (&timeline.entries[0], &timeline.entries[1]);
        assert!(before <= a.unix_nanos && a.unix_nanos <= b.unix_nanos);
        assert_eq!(a.pid, std::process::id());
        assert_eq!(read(&dir.join("missing")).unwrap(), Timeline::default());
    }
}
