//! `tend health`: wait until a health server answers healthy (or ready).

use std::time::Duration;

use clap::Args;

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
}

/// Exits 0 once the endpoint answers 200; otherwise 1 with the last reason on stderr.
pub(crate) fn run(args: HealthArgs) -> anyhow::Result<i32> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let outcome = runtime.block_on(async {
        if args.ready {
            tend::daemon::wait_for_ready(&args.addr, args.timeout).await
        } else {
            tend::daemon::wait_for_health(&args.addr, args.timeout).await
        }
    });
    outcome?;
    println!("{}: {}", args.addr, if args.ready { "ready" } else { "healthy" });
    Ok(0)
}
