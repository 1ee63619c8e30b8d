//! `tend daemons`: the daemons registered in the registry and still running.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use tend::daemon::{DaemonEntry, Registry};

use crate::table::Table;

/// Arguments of `tend daemons`.
#[derive(Debug, Args)]
pub(crate) struct DaemonsArgs {
    /// Print the entries as a JSON array instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
    /// The registry directory [default: $TEND_REGISTRY_DIR, else ~/.core/daemons].
    #[arg(long, value_name = "DIR")]
    pub(crate) registry_dir: Option<PathBuf>,
}

/// Lists the live entries; reading the registry prunes stale and corrupt ones.
pub(crate) fn run(args: DaemonsArgs) -> anyhow::Result<i32> {
    let registry = match args.registry_dir {
        Some(dir) => Registry::new(dir),
        None => Registry::from_env().map_err(|e| crate::UsageError(e.to_string()))?,
    };
    let entries = registry.list().context("cannot list the daemon registry")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
    } else if entries.is_empty() {
        let dir = registry.dir().display().to_string();
        eprintln!("no daemons running (registry: {})", crate::terminal_safe::escape(&dir));
    } else {
        print!("{}", table(&entries));
    }
    Ok(0)
}

/// Renders `code, daemon, pid, health, started` in aligned columns.
fn table(entries: &[DaemonEntry]) -> String {
    let mut table = Table::new(&["CODE", "DAEMON", "PID", "HEALTH", "STARTED"]);
    for e in entries {
        table.push(vec![
            e.code.clone(),
            e.daemon.clone(),
            e.pid.to_string(),
            e.health.clone().unwrap_or_else(|| "-".to_owned()),
            e.started.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ]);
    }
    table.render()
}
