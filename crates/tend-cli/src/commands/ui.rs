//! `tend ui`: a one-time login link for the running daemon's web UI.
//!
//! The link carries a code, not the token: the daemon exchanges it once, within 60 s, for a
//! browser session cookie. The token never reaches the browser.

use std::process::{Command, Stdio};

use clap::Args;
use tend::wire::LoginCode;

use crate::client::{Client, ClientArgs, NO_BODY, block_on};

/// Arguments of `tend ui`.
#[derive(Debug, Args)]
pub(crate) struct UiArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Also open the link in the default browser (`xdg-open`; `open` on macOS).
    #[arg(long)]
    open: bool,
}

/// Prints the link (and opens it with `--open`).
pub(crate) fn run(args: UiArgs) -> anyhow::Result<i32> {
    let client = Client::new(&args.client)?;
    let answer: LoginCode = block_on(client.call("POST", "/ui/login-codes", NO_BODY))?;
    println!("{}", answer.url);
    if args.open {
        let opener = if cfg!(target_os = "macos") { "open" } else { "xdg-open" };
        // The link is printed either way; a missing opener is only a warning.
        let opened = Command::new(opener)
            .arg(&answer.url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        if let Err(error) = opened {
            eprintln!("tend: cannot run `{opener}` to open the link ({error}); open it yourself");
        }
    }
    eprintln!(
        "The link logs one browser in; it is good once, for {} s.",
        answer.expires_in_ms / 1000
    );
    Ok(0)
}
