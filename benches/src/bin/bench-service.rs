//! A service for the stack benchmarks (`benches/benches/stack.rs`) that records when it does
//! what.
//!
//! `bench-service NAME RECORD [--listen-after MS PORT] [--print-after MS] [--term-delay MS]`
//! (MS may have a fraction) appends `NAME EVENT UNIX_NANOS` lines to the file RECORD (see `tend_benches::timeline`):
//!
//! * `start`: first thing in `main`, so exec and loading are not in the service's own times;
//! * `armed`: its SIGTERM handler is installed (a TERM before this kills it at once);
//! * `listening`: it listens on `127.0.0.1:PORT`, MS after `start` (the time is taken just
//!   before the bind);
//! * `printed`: it printed the line `ready` on stdout, MS after `start` (the time is taken
//!   just before the write);
//! * `term`: SIGTERM arrived; `exit`: just before it exits with code 0, `--term-delay` MS
//!   later (default 0).
//!
//! It runs until SIGTERM.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tend_benches::timeline::{now_ns, record_at};
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::{Instant, sleep_until};

struct Options {
    name: String,
    record: PathBuf,
    listen: Option<(Duration, u16)>,
    print_after: Option<Duration>,
    term_delay: Duration,
}

fn main() {
    let began = (Instant::now(), now_ns());
    let options = parse(std::env::args().skip(1).collect()).unwrap_or_else(|| {
        eprintln!(
            "usage: bench-service NAME RECORD [--listen-after MS PORT] [--print-after MS] \
             [--term-delay MS]"
        );
        std::process::exit(2)
    });
    let note_at = |event: &str, at: u64| {
        check(record_at(&options.record, &options.name, event, at), &options.record)
    };
    let note = |event: &str| note_at(event, now_ns());
    note_at("start", began.1);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        note("armed");
        let work = async {
            // Held (listening) until the process exits.
            let _listener = match options.listen {
                Some((after, port)) => {
                    sleep_until(began.0 + after).await;
                    // Taken before the bind: the port opens at or after this time.
                    let at = now_ns();
                    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
                    note_at("listening", at);
                    Some(listener)
                }
                None => None,
            };
            if let Some(after) = options.print_after {
                sleep_until(began.0 + after).await;
                // Taken before the write: the line is out at or after this time.
                let at = now_ns();
                println!("ready");
                note_at("printed", at);
            }
            std::future::pending::<()>().await;
        };
        tokio::select! {
            _ = term.recv() => {}
            () = work => {}
        }
    });
    note("term");
    std::thread::sleep(options.term_delay);
    note("exit");
    std::process::exit(0)
}

fn check(result: std::io::Result<()>, path: &Path) {
    if let Err(error) = result {
        eprintln!("bench-service: record {}: {error}", path.display());
        std::process::exit(1);
    }
}

fn parse(args: Vec<String>) -> Option<Options> {
    let mut args = args.into_iter();
    let ms = |value: Option<String>| {
        value?
            .parse::<f64>()
            .ok()
            .filter(|ms| *ms >= 0.0)
            .map(|ms| Duration::from_secs_f64(ms / 1e3))
    };
    let mut options = Options {
        name: args.next()?,
        record: args.next()?.into(),
        listen: None,
        print_after: None,
        term_delay: Duration::ZERO,
    };
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--listen-after" => {
                options.listen = Some((ms(args.next())?, args.next()?.parse().ok()?))
            }
            "--print-after" => options.print_after = Some(ms(args.next())?),
            "--term-delay" => options.term_delay = ms(args.next())?,
            _ => return None,
        }
    }
    Some(options)
}
