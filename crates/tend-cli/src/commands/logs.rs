//! `tend logs`: a managed process's output; `-f` follows it until the process ends.
//!
//! Without `-f` it prints the captured output exactly (`output?format=text`). With `-f` it
//! reads lines from the daemon's event log (`output?since=SEQ`), stdout lines to stdout and
//! stderr lines to stderr, polling until the process has ended and every line is out. Lines
//! the daemon's bounded log evicted before they could be read are not lost silently: a note on
//! stderr counts them.

use std::io::Write;
use std::time::Duration;

use clap::Args;
use serde_json::Value;

use crate::client::{Client, ClientArgs, block_on, process_path};

/// Pause between polls when nothing new arrived.
const POLL: Duration = Duration::from_millis(100);

/// Arguments of `tend logs`.
#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Id, unique id prefix or name.
    id: String,
    /// Follow the output live until the process ends.
    #[arg(short, long)]
    follow: bool,
}

/// Prints the output; exit 0.
pub(crate) fn run(args: LogsArgs) -> anyhow::Result<i32> {
    let client = Client::new(&args.client)?;
    block_on(async {
        if !args.follow {
            let text = client
                .raw(
                    "GET",
                    &process_path(&args.id, "/output?format=text"),
                    None,
                    Duration::from_secs(30),
                )
                .await?;
            std::io::stdout().write_all(&text.body)?;
            return Ok(0);
        }
        follow(&client, &args.id).await
    })
}

async fn follow(client: &Client, id: &str) -> anyhow::Result<i32> {
    // Resolve a name or prefix once, so a later process with the same name is not followed.
    let info = client.call("GET", &process_path(id, ""), None).await?;
    let id = info["id"].as_str().unwrap_or(id).to_owned();
    let mut since = 0;
    let mut ended = false;
    // `dropped` counts every line of the process the log has evicted so far.
    let mut reported = 0;
    loop {
        let page =
            client.call("GET", &process_path(&id, &format!("/output?since={since}")), None).await?;
        let dropped = page["dropped"].as_u64().unwrap_or(0);
        if dropped > reported {
            eprintln!(
                "tend: {} line(s) of {id} were evicted from the daemon's event log before they \
                 could be shown (`tend logs {id}` without -f prints the captured output)",
                dropped - reported
            );
            reported = dropped;
        }
        let lines = page["lines"].as_array().cloned().unwrap_or_default();
        print_lines(&lines)?;
        since = page["next_seq"].as_u64().unwrap_or(since);
        if !lines.is_empty() {
            continue;
        }
        // `exited` comes after every line in the log: once it has ended and a read after
        // that found nothing new, everything is out.
        if ended {
            return Ok(0);
        }
        let info = client.call("GET", &process_path(&id, ""), None).await?;
        if matches!(info["status"].as_str(), Some("exited" | "failed" | "killed")) {
            ended = true;
            continue;
        }
        tokio::time::sleep(POLL).await;
    }
}

fn print_lines(lines: &[Value]) -> std::io::Result<()> {
    let (stdout, stderr) = (std::io::stdout(), std::io::stderr());
    let (mut out, mut err) = (stdout.lock(), stderr.lock());
    for line in lines {
        let text = line["line"].as_str().unwrap_or_default();
        let end = if line["partial"] == true { "" } else { "\n" };
        if line["stream"] == "stderr" {
            write!(err, "{text}{end}")?;
        } else {
            write!(out, "{text}{end}")?;
        }
    }
    out.flush()?;
    err.flush()
}
