//! `tend run`: one program under supervision, exiting with its status.
//!
//! Output goes straight to our own stdout and stderr (the child writes to them directly, so
//! colours and partial lines behave as without tend), or, with `--events`, becomes JSON lines.
//! Our stdin is forwarded through a pipe: the child runs in its own process group, and a
//! background group reading the terminal would be stopped by SIGTTIN.
//!
//! With `--restart`, the program is started again when it ends (by the library's restart
//! policy) and `tend run` exits with the last run's status. Our stdin goes to whichever run
//! is live; end-of-file on it closes the stdin of every later run too. Each restart is
//! announced on stderr (`tend: exited with code 1; restart 2 in 400ms`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use tend::process::exit_code;
use tend::{Error, OutputMode, Process, Restart, Service, StartOptions, StdinMode};
use tokio::io::AsyncReadExt;

use crate::UsageError;
use crate::durations::parse_duration;
use crate::events::print_events;
use crate::interrupt::Interrupts;
use crate::key_value::parse_env;
use crate::restart_flag::{RestartArgs, RestartFlag};
use crate::restart_notice::{Delays, announce_restarts};

/// Arguments of `tend run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Working directory of the program.
    #[arg(short = 'C', long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Adds KEY=VALUE to the program's environment (repeatable).
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// Ends the program gracefully after this long (exit status 124); 0 means no timeout.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL when stopping the program (100 years or more: never
    /// SIGKILL).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5s")]
    grace: Duration,
    /// Print the event stream as JSON lines on stdout instead of the program's output.
    #[arg(long)]
    events: bool,
    #[command(flatten)]
    restart: RestartArgs,
    /// The program, then its arguments. Everything from the program on is the program's
    /// (tend's options go before it); `--` before it is optional, needed only for a program
    /// whose name starts with `-`.
    #[arg(required = true, trailing_var_arg = true, value_name = "PROGRAM")]
    command: Vec<String>,
}

impl RunArgs {
    fn start_options(&self) -> anyhow::Result<StartOptions> {
        let (program, args) = self.command.split_first().expect("clap requires a program");
        if program.is_empty() {
            return Err(UsageError("PROGRAM: the program name is empty".to_owned()).into());
        }
        let mut options = StartOptions::new(program.clone())
            .args(args.iter().cloned())
            .grace(self.grace)
            .stdin(StdinMode::Piped)
            .output(if self.events { OutputMode::Piped } else { OutputMode::Inherit });
        if let Some(dir) = &self.dir {
            if !dir.is_dir() {
                return Err(
                    UsageError(format!("--dir `{}` is not a directory", dir.display())).into()
                );
            }
            options = options.dir(dir.clone());
        }
        for (key, value) in &self.env {
            options = options.env(key, value);
        }
        if let Some(timeout) = self.timeout {
            options = options.timeout(timeout);
        }
        if let Some(policy) = self.restart.restart {
            let mut restart = Restart::new(policy.into());
            if let Some(max) = self.restart.max_restarts {
                restart = restart.max(max);
            }
            if let Some(delay) = self.restart.restart_delay {
                restart = restart.delay(delay);
            }
            options = options.restart(restart);
        }
        Ok(options)
    }
}

pub(crate) fn run(args: RunArgs) -> anyhow::Result<i32> {
    let options = args.start_options()?;
    crate::containment::contain_descendants();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let code = runtime.block_on(supervise(options, &args));
    // Not a plain drop: that waits for blocking tasks, and the stdin forwarder sits in a read
    // that returns only when our stdin has data or ends, which a terminal or an idle pipe may
    // never do. The program is over and everything is printed, so nothing is lost.
    runtime.shutdown_background();
    code
}

async fn supervise(options: StartOptions, args: &RunArgs) -> anyhow::Result<i32> {
    let (events, grace) = (args.events, args.grace);
    let service = Service::new();
    let subscription = events.then(|| service.subscribe());
    let program = &args.command[0];
    let restarts = args.restart.restart.is_some_and(|policy| policy != RestartFlag::Never);
    // Before the start: from here on SIGINT and SIGTERM are ours to act on.
    let interrupts = Interrupts::install()?;
    let process = match service.start(options) {
        Ok(process) => process,
        Err(Error::Spawn { source, .. }) => {
            let program = crate::terminal_safe::escape(program);
            eprintln!("tend: cannot run `{program}`: {source}");
            // The failed record (status `failed`, with the error) is the only one: its shell
            // status says 127 or 126, as `tend wait` would.
            let record = service.list().pop();
            // `--events` readers still get the record's `exited` event: it was published
            // before `start` returned, so this does not wait.
            if let (Some(subscription), Some(record)) = (subscription, &record) {
                print_events(subscription, record.id).await?;
            }
            return Ok(record.map_or(exit_code::FAILURE, |record| record.shell_status()));
        }
        Err(other) => return Err(other.into()),
    };
    tokio::spawn(forward_stdin(process.clone(), restarts));
    if restarts {
        let first = args.restart.restart_delay.unwrap_or(tend::process::DEFAULT_RESTART_DELAY);
        tokio::spawn(announce_restarts(process.clone(), Delays::new(first)));
    }
    interrupts.shut_down(process.clone(), grace);
    if let Some(subscription) = subscription {
        print_events(subscription, process.id()).await?;
    }
    Ok(exit_status(&process).await)
}

/// Copies our stdin to the child's until end-of-file, then closes the child's. With
/// `restarts`, input a run no longer takes goes to the next run.
async fn forward_stdin(process: Process, restarts: bool) {
    let mut stdin = tokio::io::stdin();
    let mut buffer = vec![0; 64 * 1024];
    loop {
        match stdin.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => loop {
                // The run this write is for: its PID, or none between runs.
                let run = process.pid();
                if process.send_input(&buffer[..n]).await.is_ok() {
                    break;
                }
                if !restarts || !next_run(&process, run).await {
                    return;
                }
            },
        }
    }
    let _ = process.close_stdin().await;
}

/// Waits until a run other than `run` takes input; `false` when the process ended for good
/// instead. Polls: the library has no "stdin reopened" event.
async fn next_run(process: &Process, run: Option<u32>) -> bool {
    loop {
        if process.status().is_finished() {
            return false;
        }
        let pid = process.pid();
        if pid.is_some() && pid != run && process.stdin_open() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The exit status `tend run` reports for the finished program: the same as `tend wait`'s.
async fn exit_status(process: &Process) -> i32 {
    process.wait().await.shell_status()
}
