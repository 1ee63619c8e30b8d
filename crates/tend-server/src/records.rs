//! Records of finished processes kept on disk, so that a restarted daemon still lists them
//! (`ps -a`, `GET /processes/{id}`): `STATE_DIR/records/ID.json`, the process's
//! [`ProcessInfo`] as it ended.
//!
//! * Written when a process finishes (its `exited` event), off the runtime's threads, one
//!   atomic write each (temporary file, flush, rename; mode `0600`, never through a link).
//! * At most [`MAX_RECORDS`] files: beyond, those that ended first are deleted. Read back
//!   when the daemon starts and put into its service ([`tend::Service::restore`]), under
//!   their ids; a file that cannot be read back is set aside as `ID.json.corrupt`.
//! * `process.remove` (`DELETE /processes/{id}`, `tend rm`) deletes the file too.
//! * A project's services (processes labelled `service`) are not kept: the project is saved
//!   itself and brings them back as new processes.
//! * A write that fails (a full disk) is reported on stderr, once until one succeeds again,
//!   and never stops anything; the record is written when
//!   [`ServerState::save_records`] sweeps the table at the daemon's stop.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tend::actions::{ActionError, Actions};
use tend::wire::IdRequest;
use tend::{EventKind, ProcessId, ProcessInfo, Received, Service};

use crate::ServerState;
use crate::json_dir::{JsonDir, warn};

/// The most records kept on disk; beyond, those that ended first are deleted.
pub const MAX_RECORDS: usize = 1000;

/// How long [`ServerState::save_records`] waits for the writes in flight.
const SAVE_WAIT: Duration = Duration::from_secs(10);

/// The records directory and what is known to be in it. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Records {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    files: JsonDir,
    /// Finished records waiting to be written, in the order they ended.
    queue: Mutex<Queue>,
    /// What is on disk. Held while a file is written or deleted, so that a record removed
    /// while it was being written does not come back. Lock order: `queue`, then `kept`.
    kept: Mutex<Kept>,
}

#[derive(Debug, Default)]
struct Queue {
    pending: VecDeque<ProcessInfo>,
    /// A blocking task is writing the pending records.
    writing: bool,
}

/// The records on disk, ordered by end time (then id): the first is the next to go.
#[derive(Debug, Default)]
struct Kept {
    by_end: BTreeSet<(Option<Timestamp>, ProcessId)>,
    ends: HashMap<ProcessId, Option<Timestamp>>,
    /// The last write error reported, so a full disk is reported once, not per record.
    failing: Option<String>,
}

/// Opens the records of `state_dir`, puts them into `service` as finished records, keeps
/// the records of processes that finish from now on, and makes `process.remove` delete the
/// file of the record it removes. `None` (after a warning on stderr) when the directory
/// cannot be set up: the daemon then runs without records on disk.
pub(crate) fn keep(state_dir: &Path, service: &Service, actions: &Actions) -> Option<Records> {
    let (records, loaded) = match Records::open(state_dir) {
        Ok(opened) => opened,
        Err(error) => {
            warn(&format!("records of finished processes will not be kept: {error}"));
            return None;
        }
    };
    service.restore(loaded);
    records.follow(service.clone());
    let removing = (service.clone(), records.clone());
    actions.register_typed("process.remove", move |request: IdRequest| {
        let (service, records) = removing.clone();
        async move {
            let removed = service.remove(&request.id)?;
            records.delete(removed.id);
            Ok::<_, ActionError>(removed)
        }
    });
    Some(records)
}

impl Records {
    /// `state_dir/records` (created 0700) and the records in it, in the order they ended;
    /// the files of those beyond [`MAX_RECORDS`] are deleted, bad ones set aside.
    fn open(state_dir: &Path) -> std::io::Result<(Self, Vec<ProcessInfo>)> {
        let files = JsonDir::open(state_dir, "records")?;
        let check = |key: &str, info: &ProcessInfo| {
            if info.id.to_string() != key {
                return Err(format!("it holds record {}", info.id));
            }
            if !info.status.is_finished() {
                return Err(format!("its status is `{}`, not a finished one", info.status));
            }
            Ok(())
        };
        let mut loaded: Vec<ProcessInfo> =
            files.read_all(check).into_iter().map(|(_, info)| info).collect();
        loaded.sort_by_key(|info| (info.ended_at, info.id));
        let excess = loaded.len().saturating_sub(MAX_RECORDS);
        for old in loaded.drain(..excess) {
            remove_file(&files, old.id);
        }
        let mut kept = Kept::default();
        for info in &loaded {
            kept.insert(info);
        }
        let inner = Inner { files, queue: Mutex::default(), kept: Mutex::new(kept) };
        Ok((Self { inner: Arc::new(inner) }, loaded))
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.inner.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn kept(&self) -> MutexGuard<'_, Kept> {
        self.inner.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes the record of every process of `service` that finishes from now on (the
    /// task holds `service`: it runs as long as the runtime).
    fn follow(&self, service: Service) {
        let mut events = service.subscribe();
        let records = self.clone();
        tokio::spawn(async move {
            while let Some(received) = events.recv().await {
                match received {
                    Received::Event(event) if matches!(event.kind, EventKind::Exited { .. }) => {
                        // `exited` is published once, at the end for good, with the info
                        // final; a record removed since is not written.
                        if let Ok(process) = service.get(&event.id.to_string()) {
                            records.enqueue(process.info());
                        }
                    }
                    Received::Event(_) => {}
                    Received::Lagged { .. } => records.sweep(&service),
                }
            }
        });
    }

    /// Queues every finished record of `service` that is not on disk.
    fn sweep(&self, service: &Service) {
        let missing: Vec<ProcessInfo> = {
            let kept = self.kept();
            let finished = service.list().into_iter().filter(|i| i.status.is_finished());
            finished.filter(|info| !kept.ends.contains_key(&info.id)).collect()
        };
        for info in missing {
            self.enqueue(info);
        }
    }

    /// Queues `info` for writing, and starts the writer if it is idle. The queue holds at
    /// most [`MAX_RECORDS`]: beyond, the oldest would be deleted as soon as written.
    fn enqueue(&self, info: ProcessInfo) {
        if info.labels.contains_key("service") {
            return;
        }
        let mut queue = self.queue();
        if queue.pending.len() >= MAX_RECORDS {
            queue.pending.pop_front();
        }
        queue.pending.push_back(info);
        if !queue.writing {
            queue.writing = true;
            let records = self.clone();
            tokio::task::spawn_blocking(move || records.drain());
        }
    }

    /// Writes the queued records until there are none (on a blocking thread).
    fn drain(&self) {
        loop {
            let mut queue = self.queue();
            let Some(info) = queue.pending.pop_front() else {
                queue.writing = false;
                return;
            };
            // Taken before the queue is let go: a `delete` of this record waits for it.
            let mut kept = self.kept();
            drop(queue);
            self.write(&mut kept, &info);
        }
    }

    /// Writes one record unless it is on disk already or would be deleted at once; then
    /// deletes the records beyond [`MAX_RECORDS`].
    fn write(&self, kept: &mut Kept, info: &ProcessInfo) {
        let key = (info.ended_at, info.id);
        let full = kept.by_end.len() >= MAX_RECORDS;
        if kept.ends.contains_key(&info.id) || full && kept.by_end.first() > Some(&key) {
            return;
        }
        match self.inner.files.write(&info.id.to_string(), info) {
            Ok(()) => {
                if kept.failing.take().is_some() {
                    warn(&format!(
                        "records are written to {} again",
                        self.inner.files.path().display()
                    ));
                }
            }
            Err(error) => {
                let message = format!("cannot write the record of {}: {error}", info.id);
                if kept.failing.as_deref() != Some(&error.to_string()) {
                    warn(&message);
                }
                kept.failing = Some(error.to_string());
                return;
            }
        }
        kept.insert(info);
        while kept.by_end.len() > MAX_RECORDS {
            let Some((_, oldest)) = kept.by_end.pop_first() else { break };
            kept.ends.remove(&oldest);
            remove_file(&self.inner.files, oldest);
        }
    }

    /// Forgets record `id`: a queued write of it is dropped, its file deleted.
    fn delete(&self, id: ProcessId) {
        let mut queue = self.queue();
        queue.pending.retain(|info| info.id != id);
        let mut kept = self.kept();
        drop(queue);
        if let Some(end) = kept.ends.remove(&id) {
            kept.by_end.remove(&(end, id));
        }
        remove_file(&self.inner.files, id);
    }

    /// Whether no record is queued or being written.
    fn idle(&self) -> bool {
        let queue = self.queue();
        queue.pending.is_empty() && !queue.writing
    }
}

impl Kept {
    fn insert(&mut self, info: &ProcessInfo) {
        self.by_end.insert((info.ended_at, info.id));
        self.ends.insert(info.id, info.ended_at);
    }
}

fn remove_file(files: &JsonDir, id: ProcessId) {
    if let Err(error) = files.remove(&id.to_string()) {
        warn(&format!("cannot delete {}: {error}", files.file(&id.to_string()).display()));
    }
}

impl ServerState {
    /// Writes the record of every finished process not on disk yet (those that ended while
    /// the service shut down, say) and waits, at most 10 s, until every write is done. A
    /// daemon calls it after [`Service::shutdown`](tend::Service::shutdown). Nothing to do
    /// without a [`state_dir`](crate::ServerConfig::state_dir).
    pub async fn save_records(&self) {
        let Some(records) = &self.inner.records else { return };
        records.sweep(self.service());
        let deadline = Instant::now() + SAVE_WAIT;
        while !records.idle() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
