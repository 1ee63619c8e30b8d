//! The process table: every managed process in start order, with lookup and retention.

use std::sync::Arc;

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

    /// Drops the oldest finished records beyond `limit`.
    pub(crate) fn retain_finished(&mut self, limit: usize) {
        let finished = self.processes.iter().filter(|p| p.is_done()).count();
        let mut excess = finished.saturating_sub(limit);
        if excess == 0 {
            return;
        }
        self.processes.retain(|p| {
            if excess > 0 && p.is_done() {
                excess -= 1;
                false
            } else {
                true
            }
        });
    }
}
