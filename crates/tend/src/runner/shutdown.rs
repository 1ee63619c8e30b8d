//! Stopping services in reverse dependency order.
//!
//! During a run's shutdown a service is asked to stop only once nothing that depends on it,
//! directly or through other steps and services, still runs: the web server stops before the
//! database it talks to. [`StopOrder`] keeps, for each service, a count of its transitive
//! dependents that are running, so each start and end costs only the number of services the
//! node depends on — nothing at all in a pipeline of steps only.

use tokio_util::sync::CancellationToken;

use super::graph::Pipeline;

/// Which services may be stopped, as steps and services start and end.
pub(super) struct StopOrder {
    /// Node index of the first service (the number of steps).
    first_service: usize,
    /// `ancestors[node]`: the services (by position among the services) that `node` depends
    /// on through its declared `after`, transitively. Empty when there are no services.
    ancestors: Vec<Vec<usize>>,
    /// Per service: how many of its transitive dependents are running.
    live_dependents: Vec<usize>,
    /// Per service: its stop token while it runs and has not been asked to stop.
    running: Vec<Option<CancellationToken>>,
    /// Whether the run is shutting down (from then on, idle services are stopped).
    stopping: bool,
}

impl StopOrder {
    /// The transitive dependents of each service, computed once, by a walk from each
    /// service over the declared `after` edges reversed.
    pub(super) fn new(pipeline: &Pipeline) -> Self {
        let deps = pipeline.deps();
        let first_service = pipeline.len();
        let services = deps.len() - first_service;
        let mut ancestors = Vec::new();
        if services > 0 {
            let mut dependents = vec![Vec::new(); deps.len()];
            for (node, mine) in deps.iter().enumerate() {
                for &dependency in mine {
                    dependents[dependency].push(node);
                }
            }
            ancestors = vec![Vec::new(); deps.len()];
            // `seen[node] == service + 1`: reached in this service's walk.
            let mut seen = vec![0; deps.len()];
            for service in 0..services {
                let mut stack = vec![first_service + service];
                while let Some(node) = stack.pop() {
                    for &dependent in &dependents[node] {
                        if seen[dependent] != service + 1 {
                            seen[dependent] = service + 1;
                            ancestors[dependent].push(service);
                            stack.push(dependent);
                        }
                    }
                }
            }
        }
        Self {
            first_service,
            ancestors,
            live_dependents: vec![0; services],
            running: vec![None; services],
            stopping: false,
        }
    }

    fn ancestors(&self, node: usize) -> &[usize] {
        self.ancestors.get(node).map_or(&[], Vec::as_slice)
    }

    /// `node` started; `stop` is its token when it is a service.
    pub(super) fn started(&mut self, node: usize, stop: Option<CancellationToken>) {
        for i in 0..self.ancestors(node).len() {
            let service = self.ancestors[node][i];
            self.live_dependents[service] += 1;
        }
        if let Some(stop) = stop {
            self.running[node - self.first_service] = Some(stop);
        }
    }

    /// `node` ended: during shutdown, the services it was the last running dependent of are
    /// asked to stop.
    pub(super) fn ended(&mut self, node: usize) {
        if let Some(service) = node.checked_sub(self.first_service) {
            self.running[service] = None;
        }
        for i in 0..self.ancestors(node).len() {
            let service = self.ancestors[node][i];
            self.live_dependents[service] -= 1;
            self.stop_if_idle(service);
        }
    }

    /// The shutdown begins: every running service with no running dependent is asked to
    /// stop now, the others as their dependents end.
    pub(super) fn begin(&mut self) {
        self.stopping = true;
        for service in 0..self.running.len() {
            self.stop_if_idle(service);
        }
    }

    fn stop_if_idle(&mut self, service: usize) {
        if self.stopping
            && self.live_dependents[service] == 0
            && let Some(stop) = self.running[service].take()
        {
            stop.cancel();
        }
    }
}
