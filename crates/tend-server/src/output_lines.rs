//! `process.lines`: a managed process's output lines from the server's event log, paged by
//! `seq` — what `GET /processes/{id}/output` answers. The library's `process.output` reads
//! the process's ring (bytes, no sequence numbers); this reads the log, which numbers every
//! line and knows which ones it has evicted.

use serde_json::{Value, json};
use tend::{EventKind, Service};

use crate::actions::{ActionError, Actions, Options};
use crate::log::EventLog;

/// Lines returned by one call at most; ask again from `next_seq` for more.
const MAX_LINES_PER_PAGE: usize = 10_000;

/// Registers `process.lines` (`id`; optional `since`, `limit`) →
/// `{lines: [{seq, stream, line, partial?}], next_seq, dropped}`.
pub(crate) fn register(actions: &Actions, service: Service, log: EventLog) {
    actions.register("process.lines", move |options| {
        let (service, log) = (service.clone(), log.clone());
        async move {
            let options = Options::parse(options, &["id", "since", "limit"])?;
            let id = options.required_string("id")?;
            let since = options.count("since")?.unwrap_or(0);
            let limit = options
                .count("limit")?
                .map_or(MAX_LINES_PER_PAGE, |n| (n as usize).clamp(1, MAX_LINES_PER_PAGE));
            let process = service.get(&id).map_err(ActionError::from)?;
            let (events, next_seq, dropped) = log.lines(process.id(), since, limit);
            let lines: Vec<Value> = events
                .iter()
                .filter_map(|event| match &event.kind {
                    EventKind::Output { stream, line, partial } => {
                        let mut entry = json!({
                            "seq": event.seq,
                            "stream": stream,
                            "line": String::from_utf8_lossy(line),
                        });
                        if *partial {
                            entry["partial"] = Value::Bool(true);
                        }
                        Some(entry)
                    }
                    _ => None,
                })
                .collect();
            Ok(json!({ "lines": lines, "next_seq": next_seq, "dropped": dropped }))
        }
    });
}
