//! The lines `tend logs -f` prints on stderr when the followed process restarts:
//! `-- restarted (attempt 3) after exit code 1 --` (or `after signal SIGKILL`), from its
//! `restarted` events, which carry the ended run's exit code or signal. A restart whose event
//! the follower missed (it lagged behind a flood of output events, or subscribed just after
//! it) is found in the record's restart count and shown without its cause:
//! `-- restarted (attempt 3) --`.

use crate::client::events::EventHead;
use crate::client::{Client, NO_BODY, process_path};

/// The restarts of one process shown so far.
pub(crate) struct RestartMarkers {
    id: String,
    shown: u32,
}

impl RestartMarkers {
    /// From the restarts the process has had already (not shown).
    pub(crate) async fn new(client: &Client, id: &str) -> anyhow::Result<Self> {
        let info: tend::ProcessInfo = client.call("GET", &process_path(id, ""), NO_BODY).await?;
        Ok(Self { id: id.to_owned(), shown: info.restarts })
    }

    /// The line for `event` if it is a `restarted` event of the process not shown yet.
    pub(crate) fn of(&mut self, event: &EventHead) -> Option<String> {
        if event.event != "restarted" || event.id.as_deref() != Some(self.id.as_str()) {
            return None;
        }
        let attempt = event.attempt.unwrap_or(self.shown + 1);
        if attempt <= self.shown {
            return None;
        }
        self.shown = attempt;
        let after = match (event.exit_code, event.signal) {
            (Some(code), _) => format!(" after exit code {code}"),
            (None, Some(signal)) => format!(" after signal {signal}"),
            (None, None) => String::new(),
        };
        Some(format!("-- restarted (attempt {attempt}){after} --"))
    }

    /// Lines for the restarts the record counts that no event showed.
    pub(crate) async fn missed(&mut self, client: &Client) -> anyhow::Result<Vec<String>> {
        let info: tend::ProcessInfo =
            client.call("GET", &process_path(&self.id, ""), NO_BODY).await?;
        let lines = (self.shown + 1..=info.restarts)
            .map(|attempt| format!("-- restarted (attempt {attempt}) --"))
            .collect();
        self.shown = self.shown.max(info.restarts);
        Ok(lines)
    }
}
