//! The process table: every managed process in start order, with lookup and retention.

use std::sync::Arc;

use jiff::Timestamp;

use crate::Error;
use crate::process::ProcessShared;

/// Shortest id prefix accepted for lookup.
pub(crate) const MIN_PREFIX: usize = 4;

#[derive(Debug, Default)]
pub(crate) struct Table {
    /// In start order. Linear scans are fine at the sizes a table is bounded to.
    processes: Vec<Arc<ProcessShared>>,
}

impl Table {
    pub(crate) fn insert(&mut self, shared: Arc<ProcessShared>) {
        self.processes.push(shared);
    }

    pub(crate) fn all(&self) -> impl Iterator<Item = &Arc<ProcessShared>> {
        self.processes.iter()
    }

    /// Finds a process by full id, unique id prefix (at least [`MIN_PREFIX`] characters), or
    /// name (the most recently started one with that name).
    pub(crate) fn find(&self, key: &str) -> Result<Arc<ProcessShared>, Error> {
        if let Some(found) = self.processes.iter().find(|p| p.id.to_string() == key) {
            return Ok(found.clone());
        }
        if key.len() >= MIN_PREFIX {
            let mut matches = self.processes.iter().filter(|p| p.id.to_string().starts_with(key));
            if let Some(first) = matches.next() {
                return match matches.next() {
                    None => Ok(first.clone()),
                    Some(_) => Err(Error::Ambiguous(key.to_owned())),
                };
            }
        }
        self.processes
            .iter()
            .rev()
            .find(|p| p.options.name.as_deref() == Some(key))
            .cloned()
            .ok_or_else(|| Error::NotFound(key.to_owned()))
    }

    /// Removes one finished process; refuses a running one.
    pub(crate) fn remove(&mut self, key: &str) -> Result<Arc<ProcessShared>, Error> {
        let found = self.find(key)?;
        if !found.is_done() {
            return Err(Error::StillRunning(found.id.to_string()));
        }
        self.processes.retain(|p| !Arc::ptr_eq(p, &found));
        Ok(found)
    }

    /// Removes every finished process and returns how many went.
    pub(crate) fn clear_finished(&mut self) -> usize {
        let before = self.processes.len();
        self.processes.retain(|p| !p.is_done());
        before - self.processes.len()
    }

    /// Drops the finished records that ended first, beyond `limit`.
    ///
    /// By end time, not start time: a long-running process started before a thousand short
    /// ones would otherwise lose its record the moment it ended, before anyone could see how.
    pub(crate) fn retain_finished(&mut self, limit: usize) {
        let mut finished: Vec<(Timestamp, usize)> = self
            .processes
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                // The final status, not `is_done`: the owner is told before `done` is
                // published, so the table is trimmed by the time `wait` returns.
                let state = p.state();
                state.status.is_finished().then(|| (state.ended_at.unwrap_or_default(), i))
            })
            .collect();
        let excess = finished.len().saturating_sub(limit);
        if excess == 0 {
            return;
        }
        // Ties (same instant) fall back to start order.
        finished.sort_unstable();
        let mut doomed: Vec<usize> = finished[..excess].iter().map(|&(_, i)| i).collect();
        doomed.sort_unstable();
        let mut index = 0;
        self.processes.retain(|_| {
            let keep = doomed.binary_search(&index).is_err();
            index += 1;
            keep
        });
    }
}
