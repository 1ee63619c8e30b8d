//! Live output: every line of every step and service, prefixed with its name, and the
//! lifecycle lines of the services ([`lifecycle`](super::lifecycle)) in order with them.
//!
//! Output comes from the service's event bus, lifecycle news from the runner's events: two
//! feeds. A lifecycle line is written only after every bus event published before it (the bus
//! is drained first), and a line about the end of a run (`…; restart 3 in 2s`, `stopped`)
//! waits for that run's `exited` event, so it never overtakes the run's last output lines.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tend::runner::{Pipeline, StepEvent};
use tend::{EventKind, ProcessId, Received, Service, Subscription};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use super::held_lines::HeldLines;
use super::lifecycle;
use super::style::{Out, Prefixes, node_names};

/// Output is written in batches at most this far apart, so a flood of lines costs a few
/// writes per second rather than one per line.
const FLUSH_EVERY: Duration = Duration::from_millis(25);
/// ... or when this much is waiting.
const FLUSH_BYTES: usize = 64 * 1024;
/// After the run, how long to keep draining when events were lost and the count of `exited`
/// events can no longer tell when everything has arrived.
const DRAIN_AFTER_LAG: Duration = Duration::from_millis(500);
/// After the run, how long the bus may stay silent before the printer stops waiting for
/// `exited` events it was told to expect (every process has ended by then, so their events
/// are all published: this only bounds a miscount).
const DRAIN_WHEN_IDLE: Duration = Duration::from_secs(1);

/// Prints the output events of the run's processes, and the services' lifecycle lines, until
/// told how many processes there were and all of them have reported `exited`.
pub(crate) struct LinePrinter {
    task: JoinHandle<()>,
    processes: watch::Sender<Option<u64>>,
    lifecycle: Lifecycle,
}

/// Hands the runner's events to the printer; cheap to clone into the runner's observer.
#[derive(Debug, Clone)]
pub(crate) struct Lifecycle {
    news: mpsc::UnboundedSender<StepEvent>,
    starts: StartedNames,
}

impl Lifecycle {
    /// Takes one runner event; those that are not about a service are dropped here, except
    /// starts, which tell the printer whose the new process is.
    pub(crate) fn observe(&self, event: &StepEvent) {
        if let StepEvent::Started { step, process, .. } = event {
            self.starts.tell(*process, step);
        } else if lifecycle::line(event).is_some() {
            let _ = self.news.send(event.clone());
        }
    }
}

/// Managed process -> the step or service it runs, as the runner told it: spares the printer
/// a search of the service's table by id (linear in the processes, under the table's lock)
/// for every start. Only a hint: a start the printer sees before the runner tells it (or one
/// not started by the runner) is looked up in the service instead.
#[derive(Debug, Clone, Default)]
struct StartedNames(Arc<Mutex<HashMap<ProcessId, String>>>);

/// Hints kept at most: one the printer never takes (it looked the process up first) must not
/// pile up over a long run of restarts.
const STARTED_NAMES_CAP: usize = 1024;

impl StartedNames {
    fn tell(&self, process: ProcessId, name: &str) {
        let mut names = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if names.len() >= STARTED_NAMES_CAP {
            names.clear();
        }
        names.insert(process, name.to_owned());
    }

    fn take(&self, process: ProcessId) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&process)
    }
}

impl LinePrinter {
    /// Subscribes to `service` at once (before anything starts) and prints in the background.
    pub(crate) fn start(
        service: &Service,
        pipeline: &Pipeline,
        prefixes: Prefixes,
        out: Out,
    ) -> Self {
        let (processes, expected) = watch::channel(None);
        let (lifecycle, news) = mpsc::unbounded_channel();
        let starts = StartedNames::default();
        let index =
            node_names(pipeline).enumerate().map(|(i, name)| (name.to_owned(), i)).collect();
        let printer = Printer {
            service: service.clone(),
            starts: starts.clone(),
            index,
            first_service: pipeline.steps().len(),
            prefixes,
            out,
            nodes: HashMap::new(),
            foreign: HashSet::new(),
            services: HeldLines::default(),
            pending: String::new(),
            writing: None,
        };
        let task = tokio::spawn(printer.run(service.subscribe(), news, expected));
        Self { task, processes, lifecycle: Lifecycle { news: lifecycle, starts } }
    }

    /// Where the runner's events go (see [`Runner::on_event`](tend::runner::Runner::on_event)).
    pub(crate) fn lifecycle(&self) -> Lifecycle {
        self.lifecycle.clone()
    }

    /// Waits until the output of all `processes` (every step attempt and service run) has
    /// been printed, and every lifecycle line.
    pub(crate) async fn finish(self, processes: u64) {
        self.processes.send_replace(Some(processes));
        drop(self.lifecycle);
        let _ = self.task.await;
    }
}

struct Printer {
    service: Service,
    /// What the runner said each new process runs.
    starts: StartedNames,
    /// Step or service name → node index (steps, then services, in declaration order).
    index: HashMap<String, usize>,
    /// Node index of the first service.
    first_service: usize,
    prefixes: Prefixes,
    out: Out,
    /// Managed process → the node it runs.
    nodes: HashMap<ProcessId, usize>,
    /// Processes started under a name that is none of ours (a probe's, a user's): their end is
    /// not counted.
    foreign: HashSet<ProcessId>,
    services: HeldLines,
    /// Prefixed lines not written yet.
    pending: String,
    /// The write under way on a blocking thread; it gives its buffer back.
    writing: Option<JoinHandle<String>>,
}

impl Printer {
    async fn run(
        mut self,
        mut events: Subscription,
        mut news: mpsc::UnboundedReceiver<StepEvent>,
        mut expected: watch::Receiver<Option<u64>>,
    ) {
        let mut flush = tokio::time::interval(FLUSH_EVERY);
        flush.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut exited = 0_u64;
        let mut lagged = false;
        let mut give_up: Option<Instant> = None;
        let mut news_open = true;
        loop {
            if let Some(total) = *expected.borrow_and_update() {
                if exited >= total {
                    // Every process has ended and published its events: whatever is left of
                    // them still goes (a count that came out short loses nothing).
                    while let Some(received) = events.try_recv() {
                        self.event(received, &mut lagged);
                    }
                    break;
                }
                let after = if lagged { DRAIN_AFTER_LAG } else { DRAIN_WHEN_IDLE };
                give_up.get_or_insert_with(|| Instant::now() + after);
            }
            tokio::select! {
                received = events.recv() => match received {
                    Some(received) => {
                        exited += self.event(received, &mut lagged);
                        // Silence, not progress, is what the idle deadline measures.
                        if !lagged && give_up.is_some() {
                            give_up = Some(Instant::now() + DRAIN_WHEN_IDLE);
                        }
                    }
                    None => break,
                },
                news = news.recv(), if news_open => match news {
                    Some(news) => {
                        // Everything published before this news goes first.
                        while let Some(received) = events.try_recv() {
                            exited += self.event(received, &mut lagged);
                        }
                        self.lifecycle(&news);
                    }
                    None => news_open = false,
                },
                changed = expected.changed() => {
                    // The sender went away without a count: nobody waits for us any more.
                    if changed.is_err() {
                        break;
                    }
                }
                _ = flush.tick() => self.flush().await,
                () = sleep_until(give_up) => break,
            }
            if self.pending.len() >= FLUSH_BYTES {
                self.flush().await;
            }
        }
        // The runner told everything before the count came: what is still in the channel, then
        // whatever still waits for an `exited` that will not come (lost to a lag).
        while let Ok(news) = news.try_recv() {
            self.lifecycle(&news);
        }
        self.release_all();
        self.flush().await;
        self.written().await;
    }

    /// Handles one bus event; returns 1 for the end of one of the run's processes.
    fn event(&mut self, received: Received, lagged: &mut bool) -> u64 {
        match received {
            Received::Event(event) => match event.kind {
                EventKind::Started { pid, .. } => self.learn(event.id, pid),
                EventKind::Output { line, .. } => self.line(event.id, &line),
                EventKind::Exited { .. } => return self.ended(event.id),
                _ => {}
            },
            Received::Lagged { missed } => {
                *lagged = true;
                self.pending.push_str(&format!(
                    "tend: output is coming faster than it can be shown; {missed} events skipped\n"
                ));
            }
        }
        0
    }

    /// Finds which step or service a new process runs: their processes are named after them.
    fn learn(&mut self, id: ProcessId, pid: u32) {
        let name = self.starts.take(id).or_else(|| {
            self.service.get(&id.to_string()).ok().and_then(|process| process.info().name)
        });
        let node = name.and_then(|name| self.index.get(&name).copied());
        let Some(node) = node else {
            self.foreign.insert(id);
            return;
        };
        self.nodes.insert(id, node);
        if node >= self.first_service {
            self.services.started(node, id, pid);
            self.release(node);
        }
    }

    fn line(&mut self, id: ProcessId, line: &[u8]) {
        let Some(&node) = self.nodes.get(&id) else { return };
        let text = String::from_utf8_lossy(line);
        // A `\r` before the newline would send the cursor back over the prefix.
        let text = text.strip_suffix('\r').unwrap_or(&text);
        self.push(node, text);
    }

    /// A process ended: 1 unless it is foreign. A service's lines waiting for it go now.
    fn ended(&mut self, id: ProcessId) -> u64 {
        if self.foreign.remove(&id) {
            return 0;
        }
        if let Some(&node) = self.nodes.get(&id)
            && node >= self.first_service
        {
            self.services.ended(id);
            self.release(node);
        }
        1
    }

    /// A runner event about a service: its line, after the run's end when it tells of it.
    fn lifecycle(&mut self, event: &StepEvent) {
        let Some((name, _)) = lifecycle::line(event) else { return };
        let Some(&node) = self.index.get(name) else { return };
        self.services.news(node, event);
        self.release(node);
    }

    /// Writes the service's lines that may go now.
    fn release(&mut self, node: usize) {
        for text in self.services.release(node) {
            self.push(node, &text);
        }
    }

    /// Writes every line still held.
    fn release_all(&mut self) {
        for (node, text) in self.services.release_all() {
            self.push(node, &text);
        }
    }

    fn push(&mut self, node: usize, text: &str) {
        self.pending.push_str(self.prefixes.get(node));
        self.pending.push_str(text);
        self.pending.push('\n');
    }

    /// Hands the pending lines to a blocking thread to write: `tend up` supervises on one
    /// thread, and a stdout nobody reads (a full pipe, a terminal stopped with Ctrl-S) must
    /// stall only this printer, never the reading of output, the ends of processes or Ctrl-C.
    /// One write at a time, in order; while it runs the printer goes on taking events from
    /// the bus (a printer too far behind is told `lagged`).
    async fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let spare = self.written().await.unwrap_or_default();
        let text = std::mem::replace(&mut self.pending, spare);
        let out = self.out.clone();
        self.writing = Some(tokio::task::spawn_blocking(move || {
            out.write(&text);
            text
        }));
    }

    /// Waits for the write under way, if any; its buffer, emptied, to reuse (none after a
    /// panic in the write).
    async fn written(&mut self) -> Option<String> {
        let mut text = self.writing.take()?.await.ok()?;
        text.clear();
        Some(text)
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use tend::StartOptions;
    use tend::runner::{ServiceReport, ServiceSpec, ServiceStatus, Step};

    use super::super::style::Look;
    use super::*;

    /// A run's end is told by the runner possibly before the printer has read the run's last
    /// output lines from the bus: the line about it must still come after them.
    #[tokio::test]
    async fn a_line_about_a_runs_end_waits_for_the_runs_last_output() {
        let service = Service::new();
        let pipeline =
            Pipeline::with_services(Vec::new(), vec![ServiceSpec::script("db", "true")]).unwrap();
        let captured = Arc::new(Mutex::new(String::new()));
        let prefixes = Prefixes::new(&pipeline, Look { fancy: false });
        let printer =
            LinePrinter::start(&service, &pipeline, prefixes, Out::Captured(captured.clone()));
        let script = "echo first; sleep 0.3; echo last";
        let process =
            service.start(StartOptions::new("bash").args(["-c", script]).name("db")).unwrap();
        // Told while the run still has a line to print.
        printer.lifecycle().observe(&StepEvent::Restarting {
            service: "db".into(),
            restart: 1,
            delay: Duration::from_secs(2),
            reason: "exited with code 0".into(),
        });
        let report = ServiceReport {
            name: "db".into(),
            status: ServiceStatus::Stopped,
            restarts: 0,
            ready_after_ms: None,
            exit_code: None,
            signal: None,
            error: None,
            blocked_by: None,
            process_id: Some(process.id()),
        };
        printer.lifecycle().observe(&StepEvent::ServiceFinished(report));
        tokio::time::timeout(Duration::from_secs(20), process.wait()).await.unwrap();
        printer.finish(1).await;

        let text = captured.lock().unwrap().clone();
        let pid = process.info().pid.unwrap();
        assert_eq!(
            text,
            format!(
                "db | started with pid {pid}\ndb | first\ndb | last\n\
                 db | exited with code 0; restart 1 in 2s\ndb | stopped\n"
            )
        );
    }

    /// The runner tells the printer which step a new process runs (a hint taken instead of a
    /// search of the service's table): its lines come out exactly as those of a process the
    /// printer had to look up.
    #[tokio::test]
    async fn an_announced_start_prints_like_one_looked_up() {
        let service = Service::new();
        let steps = vec![Step::script("build", "true"), Step::script("test", "true")];
        let pipeline = Pipeline::new(steps).unwrap();
        let captured = Arc::new(Mutex::new(String::new()));
        let prefixes = Prefixes::new(&pipeline, Look { fancy: false });
        let printer =
            LinePrinter::start(&service, &pipeline, prefixes, Out::Captured(captured.clone()));
        let lifecycle = printer.lifecycle();
        let echo = |text: &str, name: &str| {
            StartOptions::new("sh").args(["-c", &format!("echo {text}")]).name(name.to_owned())
        };
        // On this single-threaded runtime the printer runs only at the awaits below: the
        // announcement is there before it reads the start from the bus.
        let announced = service.start(echo("one", "build")).unwrap();
        lifecycle.observe(&StepEvent::Started {
            step: "build".into(),
            attempt: 1,
            process: announced.id(),
        });
        let wait = |process: tend::Process| async move {
            tokio::time::timeout(Duration::from_secs(20), process.wait()).await.unwrap()
        };
        wait(announced).await;
        let looked_up = service.start(echo("two", "test")).unwrap();
        wait(looked_up).await;
        printer.finish(2).await;

        assert_eq!(captured.lock().unwrap().as_str(), "build | one\ntest  | two\n");
        assert!(lifecycle.starts.0.lock().unwrap().is_empty(), "the hint was not taken");
    }
}
