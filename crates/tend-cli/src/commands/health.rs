//! `tend health`: wait until a health server answers healthy (or ready).

use std::time::Duration;

use clap::Args;
use serde::Serialize;

/// Arguments of `tend health`.
#[derive(Debug, Args)]
pub(crate) struct HealthArgs {
    /// The health server's address, `host:port`.
    #[arg(value_name = "ADDR")]
    pub(crate) addr: String,
    /// Ask `/ready` instead of `/health`.
    #[arg(long)]
    pub(crate) ready: bool,
    /// How long to keep asking (every 200 ms), such as `500ms`, `5s`, `1m` (100 years or more:
    /// for ever).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = crate::durations::parse_duration)]
    pub(crate) timeout: Duration,
    /// Print the outcome as JSON, `{addr, check, ok, message}`, failure included (exit 1).
    #[arg(long)]
    pub(crate) json: bool,
}

/// What `tend health --json` prints.
#[derive(Debug, Serialize)]
struct Outcome<'a> {
    /// The address asked.
    addr: &'a str,
    /// `health` or `ready`.
    check: &'static str,
    /// Whether it answered 200 in time.
    ok: bool,
    /// The last reason it did not, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// Exits 0 once the endpoint answers 200; otherwise 1 with the last reason on stderr (and
/// in the JSON with `--json`).
pub(crate) fn run(args: HealthArgs) -> anyhow::Result<i32> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let outcome = runtime.block_on(async {
        if args.ready {
            tend::daemon::wait_for_ready(&args.addr, args.timeout).await
        } else {
            tend::daemon::wait_for_health(&args.addr, args.timeout).await
        }
    });
    let check = if args.ready { "ready" } else { "health" };
    if args.json {
        // A failure is printed too; its reason also goes to stderr, as without --json.
        let message = outcome.as_ref().err().map(ToString::to_string);
        let ok = message.is_none();
        crate::json_output::print(&Outcome { addr: &args.addr, check, ok, message })?;
    } else if outcome.is_ok() {
        println!("{}: {}", args.addr, if args.ready { "ready" } else { "healthy" });
    }
    outcome?;
    Ok(0)
}
