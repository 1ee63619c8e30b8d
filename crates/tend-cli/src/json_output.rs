//! `--json`: what a command prints for a program to read instead of a person.
//!
//! One value is printed as pretty JSON (as `tend ps --json` always has); a stream of values
//! (`tend logs --json`) as JSON lines, one compact object per line.

use std::io::Write;

use serde::Serialize;

/// Prints `value` as pretty JSON and a newline on stdout.
pub(crate) fn print<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Writes `value` as one JSON line (compact, newline-terminated) to `out`.
pub(crate) fn line<T: Serialize + ?Sized>(out: &mut impl Write, value: &T) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}
