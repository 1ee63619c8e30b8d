//! `tend signal`: send one signal to a managed process.

use clap::Args;
use tend::ProcessInfo;
use tend::wire::SignalRequest;

use crate::UsageError;
use crate::client::{ClientArgs, process_call};

/// Arguments of `tend signal`.
#[derive(Debug, Args)]
pub(crate) struct SignalArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Id, unique id prefix or name.
    id: String,
    /// The signal: a name (`TERM`, `SIGHUP`) or a number.
    signal: String,
    /// Print the process's info as JSON (by default it prints nothing).
    #[arg(long)]
    json: bool,
}

/// Delivers it once, to the process itself. With `--json`, prints the process's info.
pub(crate) fn run(args: SignalArgs) -> anyhow::Result<i32> {
    let signal: tend::Signal = args.signal.parse().map_err(|_| {
        UsageError(format!("SIGNAL `{}`: not a signal name or number", args.signal))
    })?;
    let request = SignalRequest { signal: Some(signal), ..SignalRequest::default() };
    let info: ProcessInfo =
        process_call(&args.client, "POST", &args.id, "/signal", Some(&request))?;
    if args.json {
        crate::json_output::print(&info)?;
    }
    Ok(0)
}
