//! `tend ps`: the daemon's managed processes.

use std::time::Duration;

use clap::Args;
use serde_json::Value;

use crate::client::{Client, ClientArgs, block_on};
use crate::table::Table;

/// Arguments of `tend ps`.
#[derive(Debug, Args)]
pub(crate) struct PsArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Show finished processes too.
    #[arg(short, long)]
    all: bool,
    /// Print the process info as a JSON array.
    #[arg(long)]
    json: bool,
}

/// Prints a table (or JSON) of running processes, or all with `--all`.
pub(crate) fn run(args: PsArgs) -> anyhow::Result<i32> {
    let client = Client::new(&args.client)?;
    // Every record, so short ids are unique among all of them (they must work as prefixes).
    let list = block_on(client.call("GET", "/processes", None))?;
    let all = list.as_array().cloned().unwrap_or_default();
    let ids: Vec<&str> = all.iter().filter_map(|i| i["id"].as_str()).collect();
    let shown: Vec<Value> =
        all.iter().filter(|i| args.all || i["status"] == "running").cloned().collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&shown)?);
    } else {
        print!("{}", table(&shown, &ids));
    }
    Ok(0)
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn duration(ms: &Value) -> String {
    match ms.as_f64().and_then(|ms| Duration::try_from_secs_f64(ms / 1000.0).ok()) {
        Some(duration) => crate::durations::human(duration),
        None => "-".to_owned(),
    }
}

/// The shortest prefix of `id` (8 characters at least) that no other id starts with. Ids are
/// UUIDv7, whose first characters are the start time, so a fixed short length would collide.
fn short_id(id: &str, ids: &[&str]) -> String {
    let mut length = 8.min(id.len());
    while length < id.len()
        && ids.iter().any(|other| *other != id && other.starts_with(&id[..length]))
    {
        length += 1;
    }
    id[..length].to_owned()
}

/// `ID NAME PID STATUS EXIT DURATION COMMAND` in aligned columns.
fn table(items: &[Value], ids: &[&str]) -> String {
    let mut table = Table::new(&["ID", "NAME", "PID", "STATUS", "EXIT", "DURATION", "COMMAND"]);
    for info in items {
        let id = info["id"].as_str().unwrap_or_default();
        let exit = match (&info["exit_code"], &info["signal"]) {
            (Value::Number(code), _) => code.to_string(),
            (_, Value::String(signal)) => signal.clone(),
            _ => "-".to_owned(),
        };
        let mut command = text(&info["command"]);
        for arg in info["args"].as_array().into_iter().flatten() {
            command.push(' ');
            command.push_str(arg.as_str().unwrap_or_default());
        }
        table.push(vec![
            short_id(id, ids),
            text(&info["name"]),
            text(&info["pid"]),
            text(&info["status"]),
            exit,
            duration(&info["duration_ms"]),
            command,
        ]);
    }
    table.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_are_unique_prefixes() {
        let ids = ["01a20161-6d4d-7036-bfad", "01a20161-6d4e-7000-0000", "ffff0000-0000"];
        assert_eq!(short_id(ids[0], &ids), "01a20161-6d4d");
        assert_eq!(short_id(ids[2], &ids), "ffff0000");
    }
}
