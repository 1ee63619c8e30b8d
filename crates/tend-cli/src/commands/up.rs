//! `tend up`: run a pipeline file.
//!
//! The file (TOML, or YAML by its `.yaml`/`.yml` name, at most 16 MiB) is read and checked
//! before anything starts: an invalid one exits 2 with a message naming the step, key and line. Steps then run
//! through `tend::runner` as managed processes; their output is shown live, prefixed with the
//! step's name, and a summary table ends the run. Exit status: 0 when the run succeeded, 1 when
//! a step failed, 2 for an invalid file or usage, 130 when interrupted.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, ValueEnum};
use tend::CancellationToken;
use tend::Service;
use tend::runner::{Mode, Pipeline, Report, Runner};
use tokio::signal::unix::{SignalKind, signal};

use crate::UsageError;
use crate::pipeline_output::{
    LinePrinter, Look, Out, Prefixes, Progress, print_failed_output, print_summary,
};

/// Exit status when Ctrl-C or SIGTERM interrupted the run (128 + SIGINT, as shells report).
const INTERRUPTED: i32 = 130;
/// Exit status when a step failed.
const STEP_FAILED: i32 = 1;

/// Arguments of `tend up`.
#[derive(Debug, Args)]
pub(crate) struct UpArgs {
    /// The pipeline file: TOML, or YAML when it ends in .yaml or .yml; at most 16 MiB.
    #[arg(value_name = "FILE", default_value = "tend.toml")]
    file: PathBuf,
    /// Run at most N steps at once (default: no bound).
    #[arg(short, long, value_name = "N")]
    jobs: Option<NonZeroUsize>,
    /// How steps are ordered: as a graph of `after` dependencies, one by one in file order, or
    /// all at once.
    #[arg(long, value_enum, default_value_t = ModeArg::Dag)]
    mode: ModeArg,
    /// On the first failure, start nothing new and shut running steps down.
    #[arg(long)]
    fail_fast: bool,
    /// Print the report as JSON on stdout, and nothing else there (no step output anywhere,
    /// so `--quiet` adds nothing to it).
    #[arg(long)]
    json: bool,
    /// Print only the output of failed steps, and the summary.
    #[arg(short, long)]
    quiet: bool,
}

/// `--mode`, with clap's list of possible values in `--help`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    Dag,
    Sequential,
    Parallel,
}

impl From<ModeArg> for Mode {
    fn from(mode: ModeArg) -> Self {
        match mode {
            ModeArg::Dag => Mode::Dag,
            ModeArg::Sequential => Mode::Sequential,
            ModeArg::Parallel => Mode::Parallel,
        }
    }
}

pub(crate) fn run(args: UpArgs) -> anyhow::Result<i32> {
    let pipeline = tend::runner::load(&args.file).map_err(|e| UsageError(e.to_string()))?;
    crate::containment::contain_descendants();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(up(&args, &pipeline))
}

async fn up(args: &UpArgs, pipeline: &Pipeline) -> anyhow::Result<i32> {
    let service = Service::new();
    let cancel = CancellationToken::new();
    let interrupted = on_interrupt(cancel.clone(), service.clone());
    let look = Look::detect();
    let live = !args.json && !args.quiet;
    let progress = (live && look.fancy).then(|| Progress::new(pipeline.len()));
    let out = match &progress {
        Some(progress) => Out::Above(progress.bar()),
        None => Out::Plain,
    };
    let prefixes = Prefixes::new(pipeline, look);
    let printer =
        live.then(|| LinePrinter::start(&service, pipeline, prefixes.clone(), out.clone()));

    let mut runner = Runner::new(service)
        .mode(args.mode.into())
        .jobs(args.jobs.map_or(0, NonZeroUsize::get))
        .fail_fast(args.fail_fast)
        .cancel_token(cancel);
    if let Some(progress) = progress.clone() {
        runner = runner.on_event(move |event| progress.observe(event));
    }
    let report = runner.run(pipeline).await;

    if let Some(printer) = printer {
        printer.finish(report.steps.iter().map(|s| u64::from(s.attempts)).sum()).await;
    }
    if let Some(progress) = &progress {
        progress.finish();
    }
    show(args, &report, look, &prefixes)?;
    Ok(if interrupted.load(Ordering::SeqCst) {
        INTERRUPTED
    } else if report.success {
        0
    } else {
        STEP_FAILED
    })
}

fn show(args: &UpArgs, report: &Report, look: Look, prefixes: &Prefixes) -> anyhow::Result<()> {
    if args.json {
        let mut json = serde_json::to_string_pretty(report)?;
        json.push('\n');
        Out::Plain.write(&json);
        return Ok(());
    }
    if args.quiet {
        print_failed_output(report, prefixes, &Out::Plain);
    }
    print_summary(report, look, &Out::Plain);
    Ok(())
}

/// Ctrl-C or SIGTERM cancels the run (running steps are shut down gracefully); a second one
/// kills every step's process group at once. The library never installs signal handlers; the
/// binary does, here. Returns whether the run was interrupted.
fn on_interrupt(cancel: CancellationToken, service: Service) -> Arc<AtomicBool> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let (Ok(mut interrupt), Ok(mut terminate)) =
        (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    else {
        return interrupted;
    };
    let flag = interrupted.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            if flag.swap(true, Ordering::SeqCst) {
                for process in service.running() {
                    let _ = process.kill();
                }
            } else {
                eprintln!("tend: interrupted; stopping running steps (again to kill them now)");
                cancel.cancel();
            }
        }
    });
    interrupted
}
