//! `tend man --out DIR`: a man page per command (`tend.1`, `tend-run.1`, …) written into DIR.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, CommandFactory};

use crate::cli::Cli;

/// Arguments of `tend man`.
#[derive(Debug, Args)]
#[command(after_help = "Then, e.g.: man -l DIR/tend-run.1, or copy DIR/*.1 into a man1 directory.")]
pub(crate) struct ManArgs {
    /// The directory to write the pages into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub(crate) fn run(args: ManArgs) -> anyhow::Result<i32> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let tend = Cli::command();
    let mut written = vec![write_page(&args.out, "tend", tend.clone())?];
    for sub in tend.get_subcommands().filter(|sub| sub.get_name() != "help") {
        let name = format!("tend-{}", sub.get_name());
        written.push(write_page(
            &args.out,
            &name,
            sub.clone()
                .display_name(name.clone())
                .bin_name(format!("tend {}", sub.get_name()))
                .version(env!("CARGO_PKG_VERSION")),
        )?);
    }
    for path in written {
        println!("{}", path.display());
    }
    Ok(0)
}

/// Renders `command`'s page into `DIR/NAME.1`; returns the path.
fn write_page(
    dir: &std::path::Path,
    name: &str,
    command: clap::Command,
) -> anyhow::Result<PathBuf> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command).render(&mut page).context("cannot render a man page")?;
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, page).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}
