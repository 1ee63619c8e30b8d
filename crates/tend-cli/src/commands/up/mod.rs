//! `tend up`: run a stack file (steps and services) or a Procfile in the foreground.
//!
//! Without FILE, the current directory's `tend.toml`, `tend.yaml`, `tend.yml` or `Procfile`
//! is run, the first that exists ([`file`]). The file (TOML, or YAML by its `.yaml`/`.yml`
//! name, or a Procfile by its `Procfile`/`Procfile.*` name, at most 16 MiB) is read and
//! checked before anything starts: an invalid one exits 2 with a message naming the step or
//! service, the key and the line.
//!
//! Steps and services then run through `tend::runner` as managed processes, in dependency
//! order. Their output is shown live, prefixed with their name; each service's stream also
//! gets its lifecycle lines (`db | ready after 1.2s (tcp 127.0.0.1:5432)`, `db | stopped`;
//! the full list is in `pipeline_output::lifecycle`). A summary table ends the run.
//!
//! The run lasts until every step has finished and every service has ended for good, or until
//! Ctrl-C or SIGTERM ([`interrupt`]), or with `--exit-after-steps` until the last step has
//! finished; services are then stopped in reverse dependency order. A Procfile's run ends when
//! its first process ends. The exit status is described in [`exit_status`].
//!
//! With `-d`, the file goes to the daemon as a project instead, which keeps its services
//! running after `tend up` exits ([`detached`]); `tend reload` and `tend down` act on it.

mod detached;
mod exit_status;
pub(crate) mod file;
mod interrupt;
pub(crate) mod project_file;
pub(crate) mod settle;

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use tend::CancellationToken;
use tend::Service;
use tend::runner::{Mode, Pipeline, Report, Runner, ServiceStatus, StepEvent};

use self::exit_status::{Ending, exit_status};
use self::interrupt::Interrupts;
use crate::UsageError;
use crate::pipeline_output::{
    LinePrinter, Look, Out, Prefixes, Progress, print_failed_output, print_summary,
};

/// Arguments of `tend up`.
#[derive(Debug, Args)]
#[command(after_help = "\
Exit status: 0 when the run succeeded (also after Ctrl-C or SIGTERM once every step had \
finished), 1 when a step or service failed, 2 for an invalid file or usage, 130 when \
interrupted while steps were running; for a Procfile, the status of the first process to end \
(128+N for signal N). With -d: 0 when every service is ready, 1 when one failed or was not ready \
in time (or the daemon could not be reached or started), 2 for an invalid file or usage.")]
pub(crate) struct UpArgs {
    /// The file to run: a stack file in TOML, or YAML when it ends in .yaml or .yml, or a
    /// Procfile (named Procfile or Procfile.*); at most 16 MiB. Default: the first of
    /// tend.toml, tend.yaml, tend.yml, Procfile in the current directory.
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// Run at most N steps at once (default: no bound); services are not counted. With -d:
    /// at most N of the project's processes run at once, services included (the rest queue).
    #[arg(short, long, value_name = "N")]
    jobs: Option<NonZeroUsize>,
    /// How steps and services are ordered: as a graph of `after` dependencies, one by one in
    /// file order (each once the previous passed or is ready), or all at once.
    #[arg(long, value_enum, default_value_t = ModeArg::Dag, conflicts_with = "detach")]
    mode: ModeArg,
    /// On the first failure, start nothing new and shut running steps and services down.
    #[arg(long, conflicts_with = "detach")]
    fail_fast: bool,
    /// Once every step has finished, stop the services (in reverse dependency order) and exit
    /// with the steps' result: start the database and the API, run the tests, tear down.
    #[arg(long, conflicts_with = "detach")]
    exit_after_steps: bool,
    /// Print the report as JSON on stdout, and nothing else there (no output of steps or
    /// services anywhere, so `--quiet` adds nothing to it). With -d: the project as the
    /// daemon holds it.
    #[arg(long)]
    json: bool,
    /// Print only the output of failed steps, the reasons of failed services, and the summary.
    #[arg(short, long, conflicts_with = "detach")]
    quiet: bool,
    #[command(flatten)]
    detached: detached::DetachArgs,
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
    if args.detached.detach {
        return detached::run(&args);
    }
    let path = match &args.file {
        Some(named) => named.clone(),
        None => {
            let cwd = std::env::current_dir().map_err(|e| {
                UsageError(format!("no FILE given and the current directory is unreadable: {e}"))
            })?;
            file::look_up(&cwd)?
        }
    };
    let pipeline = tend::runner::load(&path).map_err(|e| UsageError(e.to_string()))?;
    let procfile = tend::runner::is_procfile(&path);
    crate::containment::contain_descendants();
    // One thread: a step's start, its output, its end, the scheduler and the printer all run
    // here, so no step costs a wake-up of another thread (with two workers each step woke a
    // parked one: 3.3 futex calls a step, and 6.5 context switches against 3.9 now and the
    // shell's 3, children included). Nothing here blocks for long: the printer writes stdout
    // on a blocking thread, and the library's blocking work (closing log files, the final
    // sweep) goes to `spawn_blocking` already.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(up(&args, &pipeline, procfile))
}

async fn up(args: &UpArgs, pipeline: &Pipeline, procfile: bool) -> anyhow::Result<i32> {
    let service = Service::new();
    let cancel = CancellationToken::new();
    let has_services = !pipeline.services().is_empty();
    let interrupts =
        Interrupts::install(cancel.clone(), service.clone(), pipeline.len(), has_services);
    let look = Look::detect();
    let live = !args.json && !args.quiet;
    let progress = (live && look.fancy)
        .then(|| Progress::new(pipeline.len(), pipeline.services().iter().map(|s| s.name.clone())));
    let out = match &progress {
        Some(progress) => Out::Above(progress.bar()),
        None => Out::Plain,
    };
    let prefixes = Prefixes::new(pipeline, look);
    let printer =
        live.then(|| LinePrinter::start(&service, pipeline, prefixes.clone(), out.clone()));

    let lifecycle = printer.as_ref().map(LinePrinter::lifecycle);
    let observe_progress = progress.clone();
    let observe_interrupts = interrupts.clone();
    let report = Runner::new(service)
        .mode(args.mode.into())
        .jobs(args.jobs.map_or(0, NonZeroUsize::get))
        .fail_fast(args.fail_fast)
        .exit_after_steps(args.exit_after_steps)
        .stop_when_a_service_ends(procfile)
        .cancel_token(cancel)
        .on_event(move |event| {
            if let StepEvent::Finished(_) = event {
                observe_interrupts.step_finished();
            }
            if let Some(progress) = &observe_progress {
                progress.observe(event);
            }
            if let Some(lifecycle) = &lifecycle {
                lifecycle.observe(event);
            }
        })
        .run(pipeline)
        .await;

    if let Some(printer) = printer {
        printer.finish(processes(&report)).await;
    }
    if let Some(progress) = &progress {
        progress.finish();
    }
    show(args, &report, look, &prefixes)?;
    let ending = Ending { interrupted_during_steps: interrupts.during_steps(), procfile };
    Ok(exit_status(&report, ending))
}

/// How many managed processes the run started: every step attempt, and every run of a
/// service (the first and each restart). A service without a process never ran, unless it
/// `failed` to start: a run that could not start has a process too, which reports `exited`
/// with the error. (A count that comes out high costs the printer a second of silence at the
/// end; one that comes out low loses nothing: see `LinePrinter`.)
fn processes(report: &Report) -> u64 {
    let steps = report.steps.iter().map(|step| u64::from(step.attempts));
    let services = report.services.iter().map(|service| {
        let ran = match service.status {
            ServiceStatus::Skipped | ServiceStatus::Cancelled => false,
            ServiceStatus::Failed => true,
            ServiceStatus::Stopped | ServiceStatus::Exited => service.process_id.is_some(),
        };
        if ran { 1 + u64::from(service.restarts) } else { 0 }
    });
    steps.chain(services).sum()
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

#[cfg(test)]
mod tests {
    use tend::runner::{ServiceReport, Totals};

    use super::*;

    fn report(services: Vec<ServiceReport>) -> Report {
        Report {
            mode: Mode::Dag,
            success: true,
            duration_ms: 1.0,
            totals: Totals::default(),
            steps: Vec::new(),
            services,
            ended_by: None,
        }
    }

    fn service(name: &str, restarts: u32, ran: bool) -> ServiceReport {
        ServiceReport {
            name: name.to_owned(),
            status: if ran { ServiceStatus::Stopped } else { ServiceStatus::Skipped },
            restarts,
            ready_after_ms: ran.then_some(412.5),
            exit_code: None,
            signal: ran.then_some(tend::Signal::TERM),
            error: None,
            blocked_by: None,
            process_id: ran.then(|| "00000000-0000-0000-0000-000000000001".parse().unwrap()),
        }
    }

    #[test]
    fn every_service_run_is_a_process_to_wait_for() {
        let services =
            vec![service("db", 0, true), service("web", 3, true), service("api", 0, false)];
        assert_eq!(processes(&report(services)), 1 + 4);
    }

    #[test]
    fn the_json_report_lists_services_with_the_documented_keys() {
        let json = serde_json::to_value(report(vec![service("db", 0, true)])).unwrap();
        let db = json["services"][0].as_object().unwrap();
        for key in ["name", "status", "restarts", "ready_after_ms", "exit_code", "signal", "error"]
        {
            assert!(db.contains_key(key), "`{key}` missing from {db:?}");
        }
        assert_eq!(db["status"], "stopped");
        assert_eq!(db["ready_after_ms"], 412.5);
        assert_eq!(db["signal"], "SIGTERM");
    }
}
