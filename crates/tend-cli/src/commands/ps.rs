//! `tend ps`: the daemon's managed processes.

use clap::Args;
use tend::{ProcessInfo, Status};

use crate::client::{Client, ClientArgs, NO_BODY, block_on};
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
    let all: Vec<ProcessInfo> = block_on(client.call("GET", "/processes", NO_BODY))?;
    let ids: Vec<String> = all.iter().map(|info| info.id.to_string()).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let shown: Vec<&ProcessInfo> =
        all.iter().filter(|info| args.all || info.status == Status::Running).collect();
    if args.json {
        crate::json_output::print(&shown)?;
    } else {
        print!("{}", table(&shown, &ids));
    }
    Ok(0)
}

/// `-` for a value not there.
fn or_dash<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |value| value.to_string())
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
fn table(items: &[&ProcessInfo], ids: &[&str]) -> String {
    let mut table = Table::new(&["ID", "NAME", "PID", "STATUS", "EXIT", "DURATION", "COMMAND"]);
    for info in items {
        let exit = match (info.exit_code, info.signal) {
            (Some(code), _) => code.to_string(),
            (None, signal) => or_dash(signal),
        };
        let command = std::iter::once(&info.command).chain(&info.args).cloned();
        table.push(vec![
            short_id(&info.id.to_string(), ids),
            or_dash(info.name.as_ref()),
            or_dash(info.pid),
            info.status.to_string(),
            exit,
            or_dash(info.duration().map(crate::durations::human)),
            command.collect::<Vec<_>>().join(" "),
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
