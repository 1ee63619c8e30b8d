//! The services' lifecycle lines on their way to the printer: each service's lines in order,
//! a line about the end of a run held back until that run's `exited` event has been read
//! (so it cannot overtake the run's last output lines).

use std::collections::{HashMap, HashSet, VecDeque};

use tend::ProcessId;
use tend::runner::StepEvent;

use super::lifecycle;

/// What the printer knows about the services' runs, and the lines it holds for them. Services
/// are known by their node index.
#[derive(Default)]
pub(super) struct HeldLines {
    /// Runs started so far, per service.
    runs: HashMap<usize, u32>,
    /// The latest run's process, per service.
    current: HashMap<usize, ProcessId>,
    /// Service processes whose `exited` event has been read.
    ended: HashSet<ProcessId>,
    /// Lines not given out yet, per service, each maybe waiting for a process's end.
    waiting: HashMap<usize, VecDeque<(Option<ProcessId>, String)>>,
    /// Services whose last line already said `; stopping`.
    said_stopping: HashSet<usize>,
}

impl HeldLines {
    /// Run `id` of service `node` has started (its `started` event was read): its line.
    pub(super) fn started(&mut self, node: usize, id: ProcessId, pid: u32) {
        let run = self.runs.entry(node).or_default();
        *run += 1;
        let text = lifecycle::started(pid, *run);
        self.current.insert(node, id);
        self.said_stopping.remove(&node);
        self.queue(node, None, text);
    }

    /// Process `id` of service `node` has ended (its `exited` event was read).
    pub(super) fn ended(&mut self, id: ProcessId) {
        self.ended.insert(id);
    }

    /// The runner's news about service `node`: its line, held until the run's end when it
    /// tells of that end. A `stopping` right after `not alive: …; stopping` is left out.
    pub(super) fn news(&mut self, node: usize, event: &StepEvent) {
        let Some((_, text)) = lifecycle::line(event) else { return };
        let current = self.current.get(&node).copied();
        let wait = match event {
            StepEvent::Restarting { .. } => current,
            StepEvent::ServiceFinished(report) => report.process_id.or(current),
            StepEvent::Stopping { .. } if self.said_stopping.contains(&node) => return,
            _ => None,
        };
        if matches!(event, StepEvent::NotAlive { .. } | StepEvent::Stopping { .. }) {
            self.said_stopping.insert(node);
        }
        self.queue(node, wait, text);
    }

    fn queue(&mut self, node: usize, wait: Option<ProcessId>, text: String) {
        self.waiting.entry(node).or_default().push_back((wait, text));
    }

    /// Service `node`'s lines that may go now: up to the first whose process has not ended.
    pub(super) fn release(&mut self, node: usize) -> Vec<String> {
        let Some(queue) = self.waiting.get_mut(&node) else { return Vec::new() };
        let mut lines = Vec::new();
        while let Some((wait, _)) = queue.front() {
            if wait.is_some_and(|id| !self.ended.contains(&id)) {
                break;
            }
            lines.extend(queue.pop_front().map(|(_, text)| text));
        }
        if queue.is_empty() {
            self.waiting.remove(&node);
        }
        lines
    }

    /// Every line still held, in node order, ended or not (for the end of the run, when an
    /// `exited` event lost to a lag will not come).
    pub(super) fn release_all(&mut self) -> Vec<(usize, String)> {
        let mut nodes: Vec<usize> = self.waiting.keys().copied().collect();
        nodes.sort_unstable();
        let mut lines = Vec::new();
        for node in nodes {
            let queue = self.waiting.remove(&node).unwrap_or_default();
            lines.extend(queue.into_iter().map(|(_, text)| (node, text)));
        }
        lines
    }
}
