//! `tend procs`: the host's process table, filtered by name and state.

use std::io::Write;

use anyhow::Context;
use clap::Args;
use tend::proctable::{self, ProcState, ProcessEntry};

/// Arguments of `tend procs`.
#[derive(Debug, Args)]
pub(crate) struct ProcsArgs {
    /// Only processes with this name (the kernel's 15-byte `comm`; a longer name matches on
    /// its first 15 bytes).
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,

    /// Only processes in this state: running, sleeping, disk_sleep, zombie, stopped,
    /// tracing_stop, idle, dead, or a kernel letter such as R.
    #[arg(long, value_name = "STATE", value_parser = parse_state)]
    pub(crate) state: Option<ProcState>,

    /// Print only how many processes match.
    #[arg(long)]
    pub(crate) count: bool,

    /// Print a JSON list of `{pid, ppid, pgid, name, state, start_time}`.
    #[arg(long)]
    pub(crate) json: bool,
}

fn parse_state(text: &str) -> Result<ProcState, String> {
    text.parse().map_err(|e: proctable::UnknownProcState| e.to_string())
}

pub(crate) fn run(args: ProcsArgs) -> anyhow::Result<i32> {
    match print(args) {
        // `tend procs | head`: the reader has seen enough; that is not a failure.
        Err(error)
            if error.downcast_ref::<std::io::Error>().map(std::io::Error::kind)
                == Some(std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(0)
        }
        other => other,
    }
}

fn print(args: ProcsArgs) -> anyhow::Result<i32> {
    let mut stdout = std::io::stdout().lock();
    // Counting everything needs no per-process reads at all.
    if args.count && args.name.is_none() && args.state.is_none() {
        let count = proctable::count_pids().context("counting processes")?;
        writeln!(stdout, "{count}")?;
        return Ok(0);
    }
    let mut table = match &args.name {
        Some(name) => proctable::find_by_name(name),
        None => proctable::processes(),
    }
    .context("reading the process table")?;
    if let Some(state) = args.state {
        table.retain(|entry| entry.state == state);
    }
    if args.count {
        writeln!(stdout, "{}", table.len())?;
    } else if args.json {
        serde_json::to_writer_pretty(&mut stdout, &table)?;
        writeln!(stdout)?;
    } else {
        print_table(&mut stdout, &table)?;
    }
    Ok(0)
}

/// `PID PPID PGID STATE NAME`, numbers right-aligned to the widest value.
fn print_table(out: &mut impl Write, table: &[ProcessEntry]) -> std::io::Result<()> {
    let width = |value: fn(&ProcessEntry) -> u32, title: &str| {
        table.iter().map(|e| value(e).to_string().len()).max().unwrap_or(0).max(title.len())
    };
    let (pid_w, ppid_w, pgid_w) =
        (width(|e| e.pid, "PID"), width(|e| e.ppid, "PPID"), width(|e| e.pgid, "PGID"));
    let state_w = table.iter().map(|e| e.state.to_string().len()).max().unwrap_or(0).max(5);
    writeln!(
        out,
        "{:>pid_w$} {:>ppid_w$} {:>pgid_w$} {:<state_w$} NAME",
        "PID", "PPID", "PGID", "STATE"
    )?;
    for e in table {
        writeln!(
            out,
            "{:>pid_w$} {:>ppid_w$} {:>pgid_w$} {:<state_w$} {}",
            e.pid,
            e.ppid,
            e.pgid,
            e.state.to_string(),
            e.name
        )?;
    }
    Ok(())
}
