//! `tend procs`: the host's process table, filtered by name and state.

use std::io::Write;

use anyhow::Context;
use clap::Args;
use tend::proctable::{self, ProcState, ProcessEntry};

use crate::table::Table;

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
    let mut text =
        Table::new(&["PID", "PPID", "PGID", "STATE", "NAME"]).right(0).right(1).right(2).gap(" ");
    for e in table {
        text.push(vec![
            e.pid.to_string(),
            e.ppid.to_string(),
            e.pgid.to_string(),
            e.state.to_string(),
            e.name.clone(),
        ]);
    }
    out.write_all(text.render().as_bytes())
}
