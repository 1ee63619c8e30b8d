//! The process table: every managed process in start order, with lookup and retention.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use crate::process::ProcessShared;
use crate::{Error, ProcessId, StartOptions};

/// Shortest id prefix accepted for lookup.
pub(crate) const MIN_PREFIX: usize = 4;

#[derive(Debug, Default)]
pub(crate) struct Table {
    /// In start order. Linear scans are fine at the sizes a table is bounded to.
    processes: Vec<Arc<ProcessShared>>,
    /// The finished ones among them, in the order they ended: retention drops from the front.
    ended: VecDeque<Arc<ProcessShared>>,
    /// Ids that retention dropped, so a lookup can say "evicted" instead of "no such
    /// process": the newest [`MAX_EVICTED_IDS`](super::MAX_EVICTED_IDS), oldest first.
    evicted: VecDeque<ProcessId>,
    /// The same ids, for lookup.
    evicted_set: HashSet<ProcessId>,
    /// The processes that hold a running slot: admitted, not finished.
    holding: Vec<Arc<ProcessShared>>,
    /// Queued processes, in submission order.
    queued: VecDeque<Arc<ProcessShared>>,
}

impl Table {
    /// Adds a new process. With [`StartOptions::unique_name`](crate::StartOptions::unique_name)
    /// set, refuses it while an unfinished process has its name: checked here, under the
    /// table's lock, so two concurrent starts cannot both take it.
    pub(crate) fn insert(&mut self, shared: Arc<ProcessShared>) -> Result<(), Error> {
        if shared.options.unique_name
            && let Some(name) = shared.options.name.as_deref()
            && let Some(holder) = self.named(name).find(|p| !p.is_done())
        {
            return Err(Error::NameTaken { name: name.to_owned(), id: holder.id });
        }
        self.processes.push(shared);
        Ok(())
    }

    /// For a process just inserted: whether it may run now (it takes a slot) or must wait
    /// (it joins the queue; the caller parks it before releasing the lock).
    pub(crate) fn admit(
        &mut self,
        shared: &Arc<ProcessShared>,
        max_running: Option<usize>,
    ) -> bool {
        // No queued process could run now (one that could was started when its slot freed),
        // so a start that has room overtakes nobody.
        if self.has_room(&shared.options, max_running) {
            self.holding.push(shared.clone());
            true
        } else {
            self.queued.push_back(shared.clone());
            false
        }
    }

    /// Whether one more process started with `options` may run beside those holding a slot.
    fn has_room(&self, options: &StartOptions, max_running: Option<usize>) -> bool {
        if max_running.is_some_and(|max| self.holding.len() >= max) {
            return false;
        }
        let Some((key, limit)) = &options.queue_group else { return true };
        let in_group = |p: &&Arc<ProcessShared>| {
            p.options.queue_group.as_ref().is_some_and(|(other, _)| other == key)
        };
        self.holding.iter().filter(in_group).count() < *limit
    }

    /// The queued processes that may run now, in submission order, each given a slot; the
    /// caller starts them once the lock is released. One whose group is full waits on
    /// without holding up those behind it.
    pub(crate) fn next_to_start(&mut self, max_running: Option<usize>) -> Vec<Arc<ProcessShared>> {
        let mut starting = Vec::new();
        let mut at = 0;
        while at < self.queued.len() && max_running.is_none_or(|max| self.holding.len() < max) {
            let candidate = self.queued[at].clone();
            // A record being cancelled is no longer queued: its owner call takes it out.
            if self.has_room(&candidate.options, max_running) && candidate.leave_queue() {
                self.queued.remove(at);
                self.holding.push(candidate.clone());
                starting.push(candidate);
            } else {
                at += 1;
            }
        }
        starting
    }

    /// Takes every queued process out of the queue (the service is going away).
    pub(crate) fn drain_queue(&mut self) -> Vec<Arc<ProcessShared>> {
        self.queued.drain(..).collect()
    }

    /// Gives up `shared`'s running slot or its place in the queue.
    fn release(&mut self, shared: &Arc<ProcessShared>) {
        self.holding.retain(|p| !Arc::ptr_eq(p, shared));
        self.queued.retain(|p| !Arc::ptr_eq(p, shared));
    }

    /// The processes named `name`, in start order.
    fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Arc<ProcessShared>> {
        self.processes.iter().filter(move |p| p.options.name.as_deref() == Some(name))
    }

    pub(crate) fn all(&self) -> impl Iterator<Item = &Arc<ProcessShared>> {
        self.processes.iter()
    }

    /// Finds a process by full id, unique id prefix (at least [`MIN_PREFIX`] characters), or
    /// name. A full id that retention dropped gives [`Error::Evicted`].
    ///
    /// A name must match exactly one record in the table, finished ones included: one
    /// running and one finished, or several finished, give [`Error::AmbiguousName`] listing
    /// them all, so that `stop web` never acts on a process the caller did not mean.
    pub(crate) fn find(&self, key: &str) -> Result<Arc<ProcessShared>, Error> {
        // Only the canonical (hyphenated) spelling is a full id, as before.
        let full_id = key.parse::<ProcessId>().ok().filter(|id| id.to_string() == key);
        if let Some(id) = full_id {
            if let Some(found) = self.processes.iter().find(|p| p.id == id) {
                return Ok(found.clone());
            }
            if self.evicted_set.contains(&id) {
                return Err(Error::Evicted(key.to_owned()));
            }
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
        let mut named = self.named(key);
        match (named.next(), named.next()) {
            (None, _) => Err(Error::NotFound(key.to_owned())),
            (Some(only), None) => Ok(only.clone()),
            (Some(_), Some(_)) => Err(Error::AmbiguousName {
                name: key.to_owned(),
                ids: self.named(key).map(|p| p.id).collect(),
            }),
        }
    }

    /// Removes one finished process; refuses a running one.
    pub(crate) fn remove(&mut self, key: &str) -> Result<Arc<ProcessShared>, Error> {
        let found = self.find(key)?;
        if !found.is_done() {
            return Err(Error::StillRunning(found.id.to_string()));
        }
        self.processes.retain(|p| !Arc::ptr_eq(p, &found));
        self.ended.retain(|p| !Arc::ptr_eq(p, &found));
        Ok(found)
    }

    /// Drops `shared`'s record without remembering it as evicted (a start that never ran).
    pub(crate) fn discard(&mut self, shared: &Arc<ProcessShared>) {
        self.release(shared);
        self.processes.retain(|p| !Arc::ptr_eq(p, shared));
        self.ended.retain(|p| !Arc::ptr_eq(p, shared));
    }

    /// Removes every finished process and returns how many went.
    pub(crate) fn clear_finished(&mut self) -> usize {
        let before = self.processes.len();
        self.processes.retain(|p| !p.is_done());
        self.ended.retain(|p| !p.is_done());
        before - self.processes.len()
    }

    /// Records that `shared` has ended, then drops the records that ended first beyond
    /// `limit`.
    ///
    /// By end time, not start time: a long-running process started before a thousand short
    /// ones would otherwise lose its record the moment it ended, before anyone could see how.
    /// Called before `done` is published, so the table is trimmed by the time `wait` returns.
    pub(crate) fn finished(&mut self, shared: &Arc<ProcessShared>, limit: usize) {
        self.release(shared);
        if !self.processes.iter().any(|p| Arc::ptr_eq(p, shared)) {
            return; // removed already
        }
        self.ended.push_back(shared.clone());
        self.trim(limit);
    }

    /// Adds finished records of an earlier run (`restored`, in the order they ended): before
    /// every record already here, since they started and ended earlier. A record whose id is
    /// already in the table (or twice in `restored`) is left out. Then drops those that
    /// ended first beyond `limit`. Returns how many were added.
    pub(crate) fn restore(&mut self, restored: Vec<Arc<ProcessShared>>, limit: usize) -> usize {
        let mut known: HashSet<ProcessId> = self.processes.iter().map(|p| p.id).collect();
        let restored: Vec<_> = restored.into_iter().filter(|r| known.insert(r.id)).collect();
        let mut by_start = restored.clone();
        // Ids are UUID v7: their order is the order they were created in, i.e. started.
        by_start.sort_by_key(|r| r.id);
        self.processes.splice(0..0, by_start);
        for record in restored.iter().rev() {
            self.ended.push_front(record.clone());
        }
        self.trim(limit);
        restored.len()
    }

    /// Drops the records that ended first beyond `limit`, remembering their ids as evicted.
    fn trim(&mut self, limit: usize) {
        while self.ended.len() > limit {
            let Some(oldest) = self.ended.pop_front() else { break };
            if let Some(at) = self.processes.iter().position(|p| Arc::ptr_eq(p, &oldest)) {
                self.processes.remove(at);
                self.remember_evicted(oldest.id);
            }
        }
    }

    fn remember_evicted(&mut self, id: ProcessId) {
        if self.evicted.len() >= super::MAX_EVICTED_IDS
            && let Some(forgotten) = self.evicted.pop_front()
        {
            self.evicted_set.remove(&forgotten);
        }
        self.evicted.push_back(id);
        self.evicted_set.insert(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventBus;

    fn record(bus: &Arc<EventBus>) -> Arc<ProcessShared> {
        Arc::new(ProcessShared::new(StartOptions::new("true"), bus.clone()))
    }

    fn named(bus: &Arc<EventBus>, name: &str, unique: bool) -> Arc<ProcessShared> {
        let options = StartOptions::new("true").name(name).unique_name(unique);
        Arc::new(ProcessShared::new(options, bus.clone()))
    }

    #[test]
    fn a_name_two_records_have_is_ambiguous_and_lists_both_ids() {
        let bus = Arc::new(EventBus::new(16, 1 << 20));
        let mut table = Table::default();
        let (first, second) = (named(&bus, "web", false), named(&bus, "web", false));
        table.insert(first.clone()).unwrap();
        assert_eq!(table.find("web").unwrap().id, first.id, "one record: the name finds it");
        table.insert(second.clone()).unwrap();
        match table.find("web") {
            Err(error @ Error::AmbiguousName { .. }) => {
                let Error::AmbiguousName { ref name, ref ids } = error else { unreachable!() };
                assert_eq!((name.as_str(), ids.as_slice()), ("web", &[first.id, second.id][..]));
                assert_eq!(
                    error.to_string(),
                    format!(
                        "name `web` matches 2 processes: {}, {}; use an id",
                        first.id, second.id
                    )
                );
            }
            other => panic!("expected AmbiguousName, got {other:?}"),
        }
        assert!(matches!(table.remove("web"), Err(Error::AmbiguousName { .. })), "removes none");
        assert_eq!(table.all().count(), 2);
        assert_eq!(table.find(&first.id.to_string()).unwrap().id, first.id, "ids still work");
    }

    #[test]
    fn a_unique_name_is_refused_while_its_holder_is_unfinished() {
        let bus = Arc::new(EventBus::new(16, 1 << 20));
        let mut table = Table::default();
        let holder = named(&bus, "web", false);
        table.insert(holder.clone()).unwrap();
        let refused = table.insert(named(&bus, "web", true)).unwrap_err();
        assert!(
            matches!(&refused, Error::NameTaken { name, id } if name == "web" && *id == holder.id),
            "{refused:?}"
        );
        assert_eq!(table.all().count(), 1, "a refused start leaves no record");
        table.insert(named(&bus, "api", true)).unwrap();
        table.insert(named(&bus, "web", false)).unwrap();
        assert_eq!(table.all().count(), 3, "without the option a name may repeat");
    }

    #[test]
    fn a_dropped_record_is_evicted_an_unknown_or_discarded_one_not_found() {
        let bus = Arc::new(EventBus::new(16, 1 << 20));
        let mut table = Table::default();
        let (first, second) = (record(&bus), record(&bus));
        table.insert(first.clone()).unwrap();
        table.insert(second.clone()).unwrap();
        table.finished(&first, 1);
        table.finished(&second, 1);
        assert!(matches!(table.find(&first.id.to_string()), Err(Error::Evicted(_))));
        assert!(table.find(&second.id.to_string()).is_ok());
        table.discard(&second);
        assert!(matches!(table.find(&second.id.to_string()), Err(Error::NotFound(_))));
        let never = ProcessId::new().to_string();
        assert!(matches!(table.find(&never), Err(Error::NotFound(_))));
    }

    #[test]
    fn a_queued_process_whose_group_is_full_does_not_hold_up_those_behind_it() {
        let bus = Arc::new(EventBus::new(16, 1 << 20));
        let mut table = Table::default();
        let make = |group: Option<&str>| {
            let options = StartOptions::new("true");
            let options = match group {
                Some(key) => options.queue_group(key, 1),
                None => options,
            };
            let shared = Arc::new(ProcessShared::new(options, bus.clone()));
            table_status(&shared, crate::Status::Queued);
            shared
        };
        let (grouped, other) = (make(Some("g")), make(Some("g")));
        let (free, later) = (make(None), make(None));
        let mut admitted = Vec::new();
        for shared in [&grouped, &other, &free, &later] {
            table.insert(shared.clone()).unwrap();
            admitted.push(table.admit(shared, Some(2)));
        }
        assert_eq!(
            admitted,
            [true, false, true, false],
            "the group's second and the third start wait"
        );
        table.finished(&free, 10);
        let next: Vec<_> = table.next_to_start(Some(2)).iter().map(|p| p.id).collect();
        assert_eq!(next, [later.id], "`other` waits for its group; `later` takes the slot");
        table.finished(&grouped, 10);
        let next: Vec<_> = table.next_to_start(Some(2)).iter().map(|p| p.id).collect();
        assert_eq!(next, [other.id]);
    }

    fn table_status(shared: &ProcessShared, status: crate::Status) {
        shared.state().status = status;
    }

    #[test]
    fn evicted_ids_are_bounded() {
        let mut table = Table::default();
        let oldest = ProcessId::new();
        table.remember_evicted(oldest);
        for _ in 0..super::super::MAX_EVICTED_IDS {
            table.remember_evicted(ProcessId::new());
        }
        assert_eq!(table.evicted.len(), super::super::MAX_EVICTED_IDS);
        assert_eq!(table.evicted_set.len(), super::super::MAX_EVICTED_IDS);
        assert!(!table.evicted_set.contains(&oldest), "the oldest is forgotten first");
    }
}
