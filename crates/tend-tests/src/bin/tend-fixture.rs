//! `tend-fixture`: a controllable child process for tend's tests.
//!
//! Tests run this instead of `sh -c '…'` whenever the child's behaviour matters, so that what
//! the child does is exact, portable and documented in one place. Every line written to stdout
//! or stderr is flushed at once, and modes that wait print `ready` on stdout once they are set
//! up, so a test can wait for that line instead of sleeping. `serve` is the long-running
//! service of the stack tests: it says `listening ADDR` or its `--print` line instead, and
//! writes a timeline file (`tend_tests::timeline`) of when it did what. Bad usage exits 2
//! with a message on stderr; an I/O failure (say, a closed pipe) exits 1.

use std::io::{self, BufRead, Write};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

#[path = "../fixture/args.rs"]
mod args;
#[path = "../fixture/catch.rs"]
mod catch;
#[path = "../fixture/http.rs"]
mod http;
#[path = "../fixture/serve.rs"]
mod serve;

use args::{Args, Failure};

const USAGE: &str = "\
usage: tend-fixture MODE [ARGS]
  lines N [--stream stdout|stderr|both] [--prefix P]   print P1..PN (default prefix `line `)
  flood BYTES [--line-len L]     BYTES bytes of L-byte lines (default 100), big writes
  long BYTES                     one line of BYTES `x`s, no newline
  bytes ESCAPED [--stderr]       exactly these bytes (\\n \\r \\t \\\\ \\xHH), no newline added
  interleave N                   `out I` on stdout and `err I` on stderr, alternately
  echo                           copy stdin to stdout by line; at EOF `eof` on stderr
  sleep SECS                     print `ready`, sleep
  hold BYTES SECS                allocate and touch BYTES of memory, print `ready`, sleep
  ignore-term [SECS]             ignore SIGTERM (print `got SIGTERM`), `ready`, sleep (60)
  grandchild SECS                leave `sleep SECS` holding stdout/stderr, print `hi`, exit
  spawn K [SECS]                 start K `sleep SECS` children (60), `pid P` each, `ready`, sleep
  exit CODE                      exit with CODE
  signal NAME                    die by signal NAME (TERM, KILL, INT, HUP, SEGV, ...)
  env NAME                       print variable NAME, or `<unset>`
  pwd                            print the working directory
  supervise PROGRAM [ARGS...]    run PROGRAM as a managed process of a tend::Service with the
                                 library's defaults (no containment); exit with its code
  serve [OPTIONS]                a long-running service; runs until its stop signal or
                                 --exit-after (default 300 s). Options (all optional):
    --name NAME                  its name in the timeline and HTTP bodies (default `fixture`)
    --timeline PATH              append `NAME EVENT UNIX_NANOS PID` lines (O_APPEND, one write
                                 each; CLOCK_REALTIME) for: started, listening, printed,
                                 http-STATUS, term (or the --stop-signal's name), exiting
    --listen HOST:PORT           listen there (port 0: any free port); print
                                 `listening HOST:PORT` on stdout once bound
    --listen-after SECS          wait this long before binding (default 0)
    --port-file PATH             write the bound port there (atomically: temp file + rename)
    --http STATUSES              answer HTTP/1.1 (keep-alive too): request K gets status K of
                                 the list (`503,503,200`), the last one every later request
    --http-file PATH             when PATH exists, its content (a status) answers instead
    --print LINE                 print LINE after --print-after SECS (default 0), on
    --print-stream stdout|stderr   this stream (default stdout)
    --print-env NAME             print `NAME=VALUE` (or `NAME=<unset>`) at start; repeatable
    --stop-signal NAME           the signal that stops it (default TERM)
    --term-delay SECS            on the stop signal, wait this long, then exit (default 0)
    --term-exit CODE|signal      ... with this code (default 0), or die by the signal
    --ignore-term                on the stop signal print `got SIGNAME` and carry on
    --exit-after SECS            exit by itself this long after starting ...
    --exit-code CODE             ... with this code (default 0)
  help                           this text";

/// Size of the blocks written by the bulk modes: large writes are what makes `flood` fast.
const BLOCK: usize = 64 * 1024;

fn main() -> ExitCode {
    let outcome = Args::from_env().and_then(|mut args| {
        let mode = args.next_positional("MODE")?;
        run(&mode, args)
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("tend-fixture: {message}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Io(error)) => {
            eprintln!("tend-fixture: {error}");
            ExitCode::from(1)
        }
    }
}

fn run(mode: &str, mut args: Args) -> Result<(), Failure> {
    match mode {
        "lines" => {
            // Options first: they may stand anywhere, and their values are not positionals.
            let stream = args.option("--stream")?.unwrap_or_else(|| "stdout".into());
            let prefix = args.option("--prefix")?.unwrap_or_else(|| "line ".into());
            let count: u64 = args.parse_positional("N")?;
            args.finish()?;
            let (to_out, to_err) = match stream.as_str() {
                "stdout" => (true, false),
                "stderr" => (false, true),
                "both" => (true, true),
                other => return Err(Failure::usage(format!("unknown stream `{other}`"))),
            };
            for i in 1..=count {
                let line = format!("{prefix}{i}");
                if to_out {
                    say(&mut io::stdout(), line.as_bytes())?;
                }
                if to_err {
                    say(&mut io::stderr(), line.as_bytes())?;
                }
            }
            Ok(())
        }
        "flood" => {
            let line_len: usize = args.parse_option("--line-len")?.unwrap_or(100);
            let total: u64 = args.parse_positional("BYTES")?;
            args.finish()?;
            if line_len == 0 {
                return Err(Failure::usage("--line-len must be at least 1"));
            }
            flood(total, line_len).map_err(Failure::Io)
        }
        "long" => {
            let total: u64 = args.parse_positional("BYTES")?;
            args.finish()?;
            let block = vec![b'x'; BLOCK];
            let mut out = io::stdout().lock();
            write_repeated(&mut out, &block, total)?;
            Ok(out.flush()?)
        }
        "bytes" => {
            let to_err = args.switch("--stderr");
            let escaped = args.next_positional("ESCAPED")?;
            args.finish()?;
            let bytes = args::unescape(&escaped)?;
            if to_err {
                write_flushed(&mut io::stderr(), &bytes)
            } else {
                write_flushed(&mut io::stdout(), &bytes)
            }
        }
        "interleave" => {
            let count: u64 = args.parse_positional("N")?;
            args.finish()?;
            for i in 1..=count {
                say(&mut io::stdout(), format!("out {i}").as_bytes())?;
                say(&mut io::stderr(), format!("err {i}").as_bytes())?;
            }
            Ok(())
        }
        "echo" => {
            args.finish()?;
            let mut input = io::stdin().lock();
            let mut line = Vec::new();
            // Bytes, not `String`: echo must pass invalid UTF-8 and `\r\n` through unchanged.
            while input.read_until(b'\n', &mut line)? > 0 {
                write_flushed(&mut io::stdout(), &line)?;
                line.clear();
            }
            say(&mut io::stderr(), b"eof")
        }
        "sleep" => {
            let secs = args.duration_positional("SECS")?;
            args.finish()?;
            ready()?;
            std::thread::sleep(secs);
            Ok(())
        }
        "hold" => {
            let bytes: usize = args.parse_positional("BYTES")?;
            let secs = args.duration_positional("SECS")?;
            args.finish()?;
            // A non-zero fill writes every page, so all of them are resident.
            let held = vec![1u8; bytes];
            ready()?;
            std::thread::sleep(secs);
            drop(std::hint::black_box(held));
            Ok(())
        }
        "ignore-term" => {
            let secs = args.optional_duration_positional()?.unwrap_or(Duration::from_secs(60));
            args.finish()?;
            ignore_term()?;
            ready()?;
            std::thread::sleep(secs);
            Ok(())
        }
        "grandchild" => {
            let secs = args.next_positional("SECS")?;
            args::parse_duration(&secs)?;
            args.finish()?;
            // Inherited stdio: the grandchild keeps the parent's pipes open after it exits.
            let child = sleeper(&secs).stdout(Stdio::inherit()).stderr(Stdio::inherit()).spawn()?;
            say(&mut io::stderr(), format!("grandchild {}", child.id()).as_bytes())?;
            say(&mut io::stdout(), b"hi")
        }
        "spawn" => {
            let count: u32 = args.parse_positional("K")?;
            let secs = args.optional_positional().unwrap_or_else(|| "60".into());
            let duration = args::parse_duration(&secs)?;
            args.finish()?;
            for _ in 0..count {
                let child = sleeper(&secs).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
                say(&mut io::stdout(), format!("pid {}", child.id()).as_bytes())?;
            }
            ready()?;
            std::thread::sleep(duration);
            Ok(())
        }
        "exit" => {
            let code: i32 = args.parse_positional("CODE")?;
            args.finish()?;
            std::process::exit(code)
        }
        "signal" => {
            let name = args.next_positional("NAME")?;
            args.finish()?;
            let signal: tend::Signal =
                name.parse().map_err(|e: tend::UnknownSignal| Failure::usage(e.to_string()))?;
            // Default action, not `raise`: Rust's runtime handles SIGSEGV itself and would
            // swallow a raised one. For signals whose default is to ignore (or stop), the
            // process carries on and exits 0 once it runs again.
            signal_hook::low_level::emulate_default_handler(signal.number())?;
            Ok(())
        }
        "env" => {
            let name = args.next_positional("NAME")?;
            args.finish()?;
            match std::env::var_os(&name) {
                Some(value) => say(&mut io::stdout(), value.as_encoded_bytes()),
                None => say(&mut io::stdout(), b"<unset>"),
            }
        }
        "pwd" => {
            args.finish()?;
            let dir = std::env::current_dir()?;
            say(&mut io::stdout(), dir.as_os_str().as_encoded_bytes())
        }
        "supervise" => {
            let command = args.rest();
            let (program, program_args) =
                command.split_first().ok_or_else(|| Failure::usage("missing PROGRAM"))?;
            supervise(program, program_args)
        }
        "serve" => serve::run(args),
        "help" | "--help" | "-h" => {
            args.finish()?;
            say(&mut io::stdout(), USAGE.as_bytes())
        }
        other => Err(Failure::usage(format!("unknown mode `{other}`"))),
    }
}

/// Runs `program` through a [`tend::Service`] as an embedder would, and exits with its code.
fn supervise(program: &str, args: &[String]) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let code = runtime.block_on(async {
        let service = tend::Service::new();
        let process = service
            .start(tend::StartOptions::new(program).args(args.iter().cloned()))
            .map_err(|error| Failure::Io(io::Error::other(error.to_string())))?;
        Ok::<_, Failure>(process.wait().await.exit_code.unwrap_or(1))
    })?;
    std::process::exit(code)
}

/// Writes `line` and a newline, then flushes, so the reader sees each line as it happens.
fn say(out: &mut impl Write, line: &[u8]) -> Result<(), Failure> {
    let mut buffered = Vec::with_capacity(line.len() + 1);
    buffered.extend_from_slice(line);
    buffered.push(b'\n');
    write_flushed(out, &buffered)
}

fn write_flushed(out: &mut impl Write, bytes: &[u8]) -> Result<(), Failure> {
    out.write_all(bytes)?;
    Ok(out.flush()?)
}

fn ready() -> Result<(), Failure> {
    say(&mut io::stdout(), b"ready")
}

/// `tend-fixture sleep SECS`, from this same executable, with no stdin.
fn sleeper(secs: &str) -> Command {
    let exe = std::env::current_exe().unwrap_or_else(|_| "tend-fixture".into());
    let mut command = Command::new(exe);
    command.args(["sleep", secs]).stdin(Stdio::null());
    command
}

/// Replaces SIGTERM's default action with a report on stdout, from a thread of its own.
fn ignore_term() -> Result<(), Failure> {
    let mut signals = catch::catch(&[signal_hook::consts::SIGTERM])?;
    std::thread::spawn(move || {
        for _ in signals.forever() {
            // Nowhere to report a failed write to; the test will notice the missing line.
            let _ = say(&mut io::stdout(), b"got SIGTERM");
        }
    });
    Ok(())
}

/// `total` bytes of `line_len`-byte lines (`x`s and a newline); a shorter last line if
/// `line_len` does not divide `total`.
fn flood(total: u64, line_len: usize) -> io::Result<()> {
    let mut line = vec![b'x'; line_len];
    line[line_len - 1] = b'\n';
    let block = line.repeat((BLOCK / line_len).max(1));
    let mut out = io::stdout().lock();
    let whole_lines = total - total % line_len as u64;
    write_repeated(&mut out, &block, whole_lines)?;
    let rest = (total % line_len as u64) as usize;
    if rest > 0 {
        out.write_all(&line[line_len - rest..])?;
    }
    out.flush()
}

/// Writes the first `total` bytes of `block` repeated. Callers pass a total that ends on a
/// boundary they care about (a whole line) or do not care.
fn write_repeated(out: &mut impl Write, block: &[u8], mut total: u64) -> io::Result<()> {
    while total > 0 {
        let n = block.len().min(usize::try_from(total).unwrap_or(usize::MAX));
        out.write_all(&block[..n])?;
        total -= n as u64;
    }
    Ok(())
}
