//! `tend input`: write to a managed process's stdin (started with stdin piped).

use std::io::Read;

use clap::Args;
use tend::wire::{Empty, InputRequest};

use crate::client::{ClientArgs, process_call};

/// Arguments of `tend input`.
#[derive(Debug, Args)]
pub(crate) struct InputArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Id, unique id prefix or name.
    id: String,
    /// The text to send, followed by a newline; `-` sends our stdin as it is.
    text: String,
    /// Do not add the newline after TEXT.
    #[arg(short = 'n', long)]
    no_newline: bool,
}

/// Sends the text.
pub(crate) fn run(args: InputArgs) -> anyhow::Result<i32> {
    let data = if args.text == "-" {
        let mut data = String::new();
        std::io::stdin().read_to_string(&mut data)?;
        data
    } else if args.no_newline {
        args.text.clone()
    } else {
        format!("{}\n", args.text)
    };
    let request = InputRequest { data: Some(data), ..InputRequest::default() };
    let _: Empty = process_call(&args.client, "POST", &args.id, "/input", Some(&request))?;
    Ok(0)
}
