//! Live step output: every line of every step, prefixed with the step's name.

use std::collections::HashMap;
use std::time::Duration;

use tend::runner::Pipeline;
use tend::{EventKind, ProcessId, Received, Service, Subscription};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use super::style::{Out, Prefixes};

/// Output is written in batches at most this far apart, so a flood of lines costs a few
/// writes per second rather than one per line.
const FLUSH_EVERY: Duration = Duration::from_millis(25);
/// ... or when this much is waiting.
const FLUSH_BYTES: usize = 64 * 1024;
/// After the run, how long to keep draining when events were lost and the count of `exited`
/// events can no longer tell when everything has arrived.
const DRAIN_AFTER_LAG: Duration = Duration::from_millis(500);

/// Prints the output events of the pipeline's processes until told how many processes there
/// were and all of them have reported `exited`.
pub(crate) struct LinePrinter {
    task: JoinHandle<()>,
    attempts: watch::Sender<Option<u64>>,
}

impl LinePrinter {
    /// Subscribes to `service` at once (before any step starts) and prints in the background.
    pub(crate) fn start(
        service: &Service,
        pipeline: &Pipeline,
        prefixes: Prefixes,
        out: Out,
    ) -> Self {
        let (attempts, expected) = watch::channel(None);
        let index = pipeline.steps().iter().enumerate().map(|(i, s)| (s.name.clone(), i)).collect();
        let printer = Printer {
            service: service.clone(),
            index,
            prefixes,
            out,
            steps: HashMap::new(),
            pending: String::new(),
        };
        let task = tokio::spawn(printer.run(service.subscribe(), expected));
        Self { task, attempts }
    }

    /// Waits until the output of all `attempts` processes has been printed.
    pub(crate) async fn finish(self, attempts: u64) {
        self.attempts.send_replace(Some(attempts));
        let _ = self.task.await;
    }
}

struct Printer {
    service: Service,
    /// Step name → declaration index.
    index: HashMap<String, usize>,
    prefixes: Prefixes,
    out: Out,
    /// Managed process → the step it runs (declaration index).
    steps: HashMap<ProcessId, usize>,
    /// Prefixed lines not written yet.
    pending: String,
}

impl Printer {
    async fn run(mut self, mut events: Subscription, mut expected: watch::Receiver<Option<u64>>) {
        let mut flush = tokio::time::interval(FLUSH_EVERY);
        flush.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut exited = 0_u64;
        let mut lagged = false;
        let mut give_up: Option<Instant> = None;
        loop {
            if let Some(total) = *expected.borrow_and_update() {
                if exited >= total {
                    break;
                }
                if lagged && give_up.is_none() {
                    give_up = Some(Instant::now() + DRAIN_AFTER_LAG);
                }
            }
            tokio::select! {
                received = events.recv() => match received {
                    Some(Received::Event(event)) => match event.kind {
                        EventKind::Started { .. } => self.learn(event.id),
                        EventKind::Output { line, .. } => self.line(event.id, &line),
                        EventKind::Exited { .. } => exited += 1,
                        _ => {}
                    },
                    Some(Received::Lagged { missed }) => {
                        lagged = true;
                        self.pending.push_str(&format!(
                            "tend: output is coming faster than it can be shown; {missed} events skipped\n"
                        ));
                    }
                    None => break,
                },
                changed = expected.changed() => {
                    // The sender went away without a count: nobody waits for us any more.
                    if changed.is_err() {
                        break;
                    }
                }
                _ = flush.tick() => self.flush(),
                () = sleep_until(give_up) => break,
            }
            if self.pending.len() >= FLUSH_BYTES {
                self.flush();
            }
        }
        self.flush();
    }

    /// Finds which step a new process runs: steps' processes are named after them.
    fn learn(&mut self, id: ProcessId) {
        let step = self
            .service
            .get(&id.to_string())
            .ok()
            .and_then(|process| process.info().name)
            .and_then(|name| self.index.get(&name).copied());
        if let Some(step) = step {
            self.steps.insert(id, step);
        }
    }

    fn line(&mut self, id: ProcessId, line: &[u8]) {
        let Some(&step) = self.steps.get(&id) else { return };
        let text = String::from_utf8_lossy(line);
        // A `\r` before the newline would send the cursor back over the prefix.
        let text = text.strip_suffix('\r').unwrap_or(&text);
        self.pending.push_str(self.prefixes.get(step));
        self.pending.push_str(text);
        self.pending.push('\n');
    }

    fn flush(&mut self) {
        if !self.pending.is_empty() {
            self.out.write(&self.pending);
            self.pending.clear();
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
