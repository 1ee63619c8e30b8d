//! `tend ps`: the daemon's managed processes.

use clap::Args;
use tend::ProcessInfo;

use crate::client::{Client, ClientArgs, NO_BODY, block_on};
use crate::table::Table;

/// Arguments of `tend ps`.
#[derive(Debug, Args)]
pub(crate) struct PsArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Show finished processes too (without it: every process not finished, queued, pending
    /// and restarting ones included).
    #[arg(short, long)]
    all: bool,
    /// Print the process info as a JSON array.
    #[arg(long)]
    json: bool,
}

/// Prints a table (or JSON) of the processes not finished, or all with `--all`. CPU and
/// memory are those of each process's whole group, as the daemon last sampled them.
pub(crate) fn run(args: PsArgs) -> anyhow::Result<i32> {
    let client = Client::new(&args.client)?;
    // Every record, so short ids are unique among all of them (they must work as prefixes).
    let all: Vec<ProcessInfo> = block_on(client.call("GET", "/processes", NO_BODY))?;
    let ids: Vec<String> = all.iter().map(|info| info.id.to_string()).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let shown: Vec<&ProcessInfo> =
        all.iter().filter(|info| args.all || !info.status.is_finished()).collect();
    if args.json {
        crate::json_output::print(&shown)?;
    } else {
        print!("{}", table(&shown, &ids));
        print!("{}", notes(&shown, &ids));
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

/// The label that names a process's project (none yet: the column shows `-`).
const PROJECT_LABEL: &str = "project";

/// `ID NAME PROJECT PID STATUS RESTARTS CPU MEM UPTIME COMMAND` in aligned columns.
fn table(items: &[&ProcessInfo], ids: &[&str]) -> String {
    let mut table = Table::new(&[
        "ID", "NAME", "PROJECT", "PID", "STATUS", "RESTARTS", "CPU", "MEM", "UPTIME", "COMMAND",
    ]);
    for info in items {
        let command = std::iter::once(&info.command).chain(&info.args).cloned();
        table.push(vec![
            short_id(&info.id.to_string(), ids),
            or_dash(info.name.as_ref()),
            or_dash(info.labels.get(PROJECT_LABEL)),
            or_dash(info.pid),
            status(info),
            info.restarts.to_string(),
            or_dash(info.cpu_percent.map(|percent| format!("{percent:.1}%"))),
            or_dash(info.memory_bytes.map(human_bytes)),
            or_dash(info.duration().map(crate::durations::human)),
            command.collect::<Vec<_>>().join(" "),
        ]);
    }
    table.render()
}

/// The status, with how a finished process ended: `exited(0)`, `failed(SIGSEGV)`.
/// A line under the table for each process whose log file cannot be written now:
/// `note: 3f2a… web: log file …: No space left on device (4096 bytes not written)`.
fn notes(items: &[&ProcessInfo], ids: &[&str]) -> String {
    let mut notes = String::new();
    for info in items {
        if let Some(error) = &info.log_error {
            let id = short_id(&info.id.to_string(), ids);
            let name = info.name.as_deref().map(|name| format!(" {name}")).unwrap_or_default();
            notes.push_str(&format!("note: {id}{name}: {error}\n"));
        }
    }
    notes
}

fn status(info: &ProcessInfo) -> String {
    if !info.status.is_finished() {
        return info.status.to_string();
    }
    match (info.exit_code, info.signal) {
        (Some(code), _) => format!("{}({code})", info.status),
        (None, Some(signal)) => format!("{}({signal})", info.status),
        (None, None) => info.status.to_string(),
    }
}

/// Bytes in binary units with one decimal: `512B`, `1.5K`, `100.0M`, `2.0G`.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["K", "M", "G", "T", "P"];
    if bytes < 1024 {
        return format!("{bytes}B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1}{}", UNITS[unit])
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

    #[test]
    fn bytes_read_in_binary_units() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(1023), "1023B");
        assert_eq!(human_bytes(1536), "1.5K");
        assert_eq!(human_bytes(100 << 20), "100.0M");
        assert_eq!(human_bytes(3 << 30), "3.0G");
    }
}
