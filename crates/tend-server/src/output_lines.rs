//! `process.lines`: a managed process's output lines from the server's event log, paged by
//! `seq` — what `GET /processes/{id}/output` answers. The library's `process.output` reads
//! the process's ring (bytes, no sequence numbers); this reads the log, which numbers every
//! line and knows which ones it has evicted.

use tend::wire::{LinesAnswer, LinesQuery, OutputLine};
use tend::{EventKind, Service};

use crate::actions::{ActionError, Actions};
use crate::log::EventLog;

/// Lines returned by one call at most; ask again from `next_seq` for more.
const MAX_LINES_PER_PAGE: usize = 10_000;

/// Registers `process.lines` ([`LinesQuery`] → [`LinesAnswer`]).
pub(crate) fn register(actions: &Actions, service: Service, log: EventLog) {
    actions.register_typed("process.lines", move |query: LinesQuery| {
        let (service, log) = (service.clone(), log.clone());
        async move {
            let since = query.since.unwrap_or(0);
            let limit = query.limit.map_or(MAX_LINES_PER_PAGE, |n| {
                usize::try_from(n).unwrap_or(usize::MAX).clamp(1, MAX_LINES_PER_PAGE)
            });
            let process = service.get(&query.id).map_err(ActionError::from)?;
            let (events, next_seq, dropped) = log.lines(process.id(), since, limit);
            let lines = events
                .iter()
                .filter_map(|event| match &event.kind {
                    EventKind::Output { stream, line, partial } => Some(OutputLine {
                        seq: event.seq,
                        stream: *stream,
                        line: String::from_utf8_lossy(line).into_owned(),
                        partial: *partial,
                    }),
                    _ => None,
                })
                .collect();
            Ok(LinesAnswer { lines, next_seq, dropped })
        }
    });
}
