//! Printing the event stream as JSON lines.

use std::io::Write;

use tend::{EventKind, ProcessId, Received, Subscription};

/// Prints every event of process `id` as one JSON line on stdout until its `exited` event.
/// A lag is printed as `{"event": "lagged", "missed": N}`.
pub(crate) async fn print_events(mut events: Subscription, id: ProcessId) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    while let Some(received) = events.recv().await {
        let mut out = stdout.lock();
        match received {
            Received::Event(event) if event.id == id => {
                serde_json::to_writer(&mut out, &event)?;
                out.write_all(b"\n")?;
                out.flush()?;
                if matches!(event.kind, EventKind::Exited { .. }) {
                    return Ok(());
                }
            }
            Received::Event(_) => {}
            Received::Lagged { missed } => {
                writeln!(out, "{}", serde_json::json!({"event": "lagged", "missed": missed}))?;
                out.flush()?;
            }
        }
    }
    Ok(())
}
