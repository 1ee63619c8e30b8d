//! Starting `tend daemon` in the background, as PM2 does: `tend up -d` when no daemon runs,
//! and `tend daemon --detach`.
//!
//! The daemon is this same binary, run as `tend daemon` in a session of its own (the
//! terminal closing never reaches it), stdin `/dev/null`, stdout and stderr appended to
//! `STATE_DIR/daemon.log`. The starter waits at most [`START_TIMEOUT`] for the daemon's
//! `listening on http://ADDR` line in that log; a daemon that exits first (its port taken, a
//! daemon of the same state directory already running) is an error quoting the log's last
//! lines.

use std::ffi::OsString;
use std::io::{Read, Seek, SeekFrom};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::{ClientArgs, host_port};
use crate::commands::daemon::{DEFAULT_LISTEN, state_dir};

/// How long a starter waits for the daemon to listen.
pub(crate) const START_TIMEOUT: Duration = Duration::from_secs(10);
/// The daemon's log in its state directory when it was started in the background.
pub(crate) const DAEMON_LOG: &str = "daemon.log";
/// The daemon's PID file in its state directory.
const PID_FILE: &str = "tend.pid";
/// What the daemon prints once it serves.
const LISTENING: &str = "listening on http://";

/// Starts a daemon in the background unless one runs: a daemon holds the PID file of the
/// client's state directory, or something answers at `--server`/`TEND_SERVER`. The new
/// daemon listens where the client will look (`--server`/`TEND_SERVER`, else the default
/// address) with the client's state directory. Returns the new daemon's address, if one was
/// started. With an explicit token none is started: it would make a token of its own.
pub(crate) fn ensure_daemon(args: &ClientArgs) -> anyhow::Result<Option<String>> {
    let dir = state_dir(args.state_dir.clone())?;
    if running_pid(&dir).is_some() {
        // It may have just started (another client's `up -d`): its token and address file
        // come a moment after its PID file, and the caller reads both.
        published_within(&dir, START_TIMEOUT);
        return Ok(None);
    }
    let listen = match &args.server {
        Some(url) => {
            let addr = resolve(&host_port(url)?)?;
            if answers(addr) {
                return Ok(None);
            }
            addr
        }
        None => DEFAULT_LISTEN.parse().expect("the default address is valid"),
    };
    if args.token.is_some() {
        // A daemon started here makes a token of its own in the state directory: the one
        // given would be refused, after the daemon had started for nothing.
        bail!(
            "no daemon answers at {listen}, and one started here would not take the --token \
             (or TEND_TOKEN) given: start it yourself (`tend daemon`), or leave the token out \
             to use the state directory's"
        );
    }
    let dir = crate::state_dir::secure(&dir, true)?;
    let daemon_args: Vec<OsString> = vec![
        "daemon".into(),
        "--listen".into(),
        listen.to_string().into(),
        "--state-dir".into(),
        dir.clone().into(),
    ];
    let addr = match start(&dir, &daemon_args, Some(Path::new("/"))) {
        Ok(addr) => addr,
        // Another client started one at the same moment (ours lost the PID file): use that
        // one once it listens.
        Err(error) => match running_pid(&dir) {
            Some(_) if answers_within(listen, START_TIMEOUT) => return Ok(None),
            _ => return Err(error),
        },
    };
    eprintln!(
        "tend: no daemon was running; started one on http://{addr} (log: {})",
        dir.join(DAEMON_LOG).display()
    );
    Ok(Some(addr))
}

/// `tend daemon --detach`: runs this same command line without `--detach` in the background
/// with state directory `dir`, prints `listening on http://ADDR` once it serves, and exits 0.
/// A daemon of that state directory already running is an error naming its PID.
pub(crate) fn detach(dir: &Path) -> anyhow::Result<i32> {
    if let Some(pid) = running_pid(dir) {
        bail!("a daemon already runs with the state directory {} (PID {pid})", dir.display());
    }
    let secured = crate::state_dir::secure(dir, true)?;
    let args: Vec<OsString> = std::env::args_os().skip(1).filter(|arg| arg != "--detach").collect();
    let addr = start(&secured, &args, None)?;
    println!("listening on http://{addr}");
    Ok(0)
}

/// The PID of the live daemon holding `STATE_DIR/tend.pid`, if any.
pub(crate) fn running_pid(dir: &Path) -> Option<u32> {
    tend::daemon::read_pid(dir.join(PID_FILE)).ok().filter(|status| status.alive).map(|s| s.pid)
}

/// Runs `tend ARGS` (`args` begins with `daemon`) detached, its output appended to
/// `STATE_DIR/daemon.log` (`dir` secured already), in `cwd` when given; waits until it
/// listens and returns its address.
pub(crate) fn start(dir: &Path, args: &[OsString], cwd: Option<&Path>) -> anyhow::Result<String> {
    let log = dir.join(DAEMON_LOG);
    let from = std::fs::symlink_metadata(&log).map(|m| m.len()).unwrap_or(0);
    let exe = std::env::current_exe().context("cannot find this program to run the daemon")?;
    let mut command = Command::new(exe);
    command.args(args);
    if let Some(cwd) = cwd {
        // Not the directory the client ran in: it may be unmounted or removed later.
        command.current_dir(cwd);
    }
    let mut child = tend::daemon::spawn_detached(&mut command, &log)
        .with_context(|| format!("cannot start the daemon (log: {})", log.display()))?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let text = read_from(&log, from);
        if let Some(addr) = listening_address(&text) {
            return Ok(addr);
        }
        if let Some(status) = child.try_wait().context("cannot watch the daemon")? {
            bail!(
                "the daemon exited at once ({status}): {}; see {}",
                last_lines(&read_from(&log, from)),
                log.display()
            );
        }
        if Instant::now() >= deadline {
            bail!(
                "the daemon (PID {}) did not start listening within {}s; see {}",
                child.id(),
                START_TIMEOUT.as_secs(),
                log.display()
            );
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// The log's text from byte `from` on (empty when unreadable).
fn read_from(log: &Path, from: u64) -> String {
    let mut text = Vec::new();
    if let Ok(mut file) = std::fs::File::open(log)
        && file.seek(SeekFrom::Start(from)).is_ok()
    {
        let _ = file.take(1 << 20).read_to_end(&mut text);
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// The address in the daemon's `listening on http://ADDR` line, once a whole one is there
/// (a line still being written may hold part of the port).
fn listening_address(text: &str) -> Option<String> {
    let complete = &text[..text.rfind('\n').map_or(0, |end| end + 1)];
    let addr = complete.lines().find_map(|line| line.strip_prefix(LISTENING))?.trim();
    addr.parse::<SocketAddr>().is_ok().then(|| addr.to_owned())
}

/// The last few non-empty lines of `text`, joined with ` / `, for an error on one line.
fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|line| !line.trim().is_empty()).collect();
    let tail = &lines[lines.len().saturating_sub(4)..];
    if tail.is_empty() { "it printed nothing".to_owned() } else { tail.join(" / ") }
}

/// `host:port` as one socket address (the first a name resolves to).
fn resolve(host_port: &str) -> anyhow::Result<SocketAddr> {
    host_port
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve the daemon's address `{host_port}`"))?
        .next()
        .with_context(|| format!("the daemon's address `{host_port}` resolves to nothing"))
}

/// Whether something comes to accept connections at `addr` within `within`.
fn answers_within(addr: SocketAddr, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while !answers(addr) {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    true
}

/// Waits until the daemon of `dir` has written its address file (it has its token and
/// listens by then), at most `within`; a daemon that never does is the caller's error to
/// report, with what it finds.
fn published_within(dir: &Path, within: Duration) {
    let deadline = Instant::now() + within;
    while !dir.join(crate::state_dir::ADDRESS_FILE).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether something accepts connections at `addr` (within a second).
fn answers(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_comes_from_a_whole_listening_line() {
        assert_eq!(
            listening_address("tend: warning: x\nlistening on http://127.0.0.1:7420\n").as_deref(),
            Some("127.0.0.1:7420")
        );
        assert_eq!(listening_address("listening on http://127.0.0.1:742"), None);
        assert_eq!(listening_address("nothing\n"), None);
    }

    #[test]
    fn an_error_quotes_the_last_lines() {
        assert_eq!(last_lines("a\n\nb\nc\nd\ne\n"), "b / c / d / e");
        assert_eq!(last_lines(""), "it printed nothing");
    }
}
