//! [`ListCache`]: the records of a service as one block of JSON, kept while none of them
//! changes, so that `GET /processes` of thousands of records is a copy with durations.
//!
//! Writing a record means taking its lock, and for thousands of records scattered over the
//! heap that is a cache miss each, one after the other (a locked instruction waits for the
//! line): most of the time of a list, with the JSON kept per record. The block is written
//! once from the records, then served while it is still theirs: the same records in the
//! same order, no write to any of their states since ([`Changes`]), no change to any log
//! file's error (the only other field that moves, but `duration_ms`, which every answer
//! writes fresh).

use std::sync::{Arc, Mutex, MutexGuard};

use jiff::Timestamp;

use super::Service;
use super::table::Table;
use crate::process::{Changes, ProcessShared, Written};

/// The latest block of a service's records.
#[derive(Debug, Default)]
pub(crate) struct ListCache {
    changes: Arc<Changes>,
    latest: Mutex<Option<Arc<Block>>>,
}

/// The records' JSON, one after the other (no `[`, no commas), without their durations.
#[derive(Debug)]
pub(crate) struct Block {
    records: Vec<Arc<ProcessShared>>,
    changes: u64,
    troubles: u64,
    bytes: Vec<u8>,
    /// For each record: where its JSON ends in `bytes` (it begins where the one before ends)
    /// and what its duration is written from.
    written: Vec<(usize, Written)>,
}

impl ListCache {
    /// The count every record of the service adds its writes to.
    pub(crate) fn changes(&self) -> &Arc<Changes> {
        &self.changes
    }

    /// The latest block, if it still holds the records of `table`, else the records to
    /// write a new one from.
    fn latest_or_records(
        &self,
        table: &Table,
        changes: u64,
        troubles: u64,
    ) -> Result<Arc<Block>, Vec<Arc<ProcessShared>>> {
        if let Some(block) = self.latest().clone()
            && block.changes == changes
            && block.troubles == troubles
            && block.holds(table)
        {
            return Ok(block);
        }
        Err(table.all().cloned().collect())
    }

    fn latest(&self) -> MutexGuard<'_, Option<Arc<Block>>> {
        self.latest.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Service {
    /// The block of the records as they are now: the latest one if it still is, else a new
    /// one. `None` if a record cannot be written this way (see
    /// [`ProcessShared::write_json`]).
    pub(crate) fn list_block(&self) -> Option<Arc<Block>> {
        let cache = &self.inner.list_cache;
        // Read before the records: a write during the build makes the next answer build again.
        let changes = cache.changes.count();
        let troubles = crate::logfile::trouble_changes();
        // Only pointers are compared under the table's lock: no record is touched (each would
        // be a cache miss, and a reference count a locked one), and none is locked in it.
        let checked = cache.latest_or_records(&self.table(), changes, troubles);
        let records = match checked {
            Ok(block) => return Some(block),
            Err(records) => records,
        };
        let mut bytes = Vec::with_capacity(cache.latest().as_ref().map_or(0, |b| b.bytes.len()));
        let mut written = Vec::with_capacity(records.len());
        for record in &records {
            let record_written = record.write_json(&mut bytes)?;
            written.push((bytes.len(), record_written));
        }
        let block = Arc::new(Block { records, changes, troubles, bytes, written });
        *cache.latest() = Some(block.clone());
        Some(block)
    }
}

impl Block {
    /// Whether these are the records of `table`, in its order.
    fn holds(&self, table: &Table) -> bool {
        let mut count = 0;
        for (index, record) in table.all().enumerate() {
            if self.records.get(index).is_none_or(|held| !Arc::ptr_eq(held, record)) {
                return false;
            }
            count += 1;
        }
        count == self.records.len()
    }

    /// Each record with its JSON written with `duration_ms` counted up to `now` (moved to the
    /// clock's time for a run that started after it, so that no duration is negative),
    /// appended to `out` when `keep` accepts it; records accepted after the first are
    /// preceded by a comma.
    pub(crate) fn write(
        &self,
        mut now: Timestamp,
        mut keep: impl FnMut(&ProcessShared, &Written) -> bool,
        out: &mut Vec<u8>,
    ) {
        let mut begin = 0;
        let mut first = true;
        for (record, &(end, written)) in self.records.iter().zip(&self.written) {
            let (start, bytes) = (begin, &self.bytes[begin..end]);
            begin = end;
            if !keep(record, &written) {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            if written.started_at.is_some_and(|start| start > now) {
                now = Timestamp::now();
            }
            let (head, tail) = bytes.split_at(written.duration_at - start);
            out.extend_from_slice(head);
            written.write_duration(now, out);
            out.extend_from_slice(tail);
        }
    }
}
