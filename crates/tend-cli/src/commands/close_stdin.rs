//! `tend close-stdin`: close a managed process's stdin (it reads end-of-file).

use clap::Args;
use tend::wire::Empty;

use crate::client::{ClientArgs, NO_BODY, process_call};

/// Arguments of `tend close-stdin`.
#[derive(Debug, Args)]
pub(crate) struct CloseStdinArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Id, unique id prefix or name.
    id: String,
}

/// Closes it.
pub(crate) fn run(args: CloseStdinArgs) -> anyhow::Result<i32> {
    let _: Empty = process_call(&args.client, "POST", &args.id, "/close-stdin", NO_BODY)?;
    Ok(0)
}
