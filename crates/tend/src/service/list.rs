//! [`ProcessList`]: the answer of `process.list`, written straight from the table.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Service;
use crate::ProcessInfo;
use crate::wire::ListFilter;

/// The processes of a [`Service`] that pass a [`ListFilter`], in start order: what the
/// `process.list` action answers.
///
/// It holds the service, not copies of the records: they are read when the list is written,
/// by [`write_json`](Self::write_json) (the JSON array of their infos, copied from the
/// service's block of every record's JSON while no record has changed since it was written)
/// or by [`infos`](Self::infos) and `Serialize`, which give the same infos as values. Whichever way, each record is filtered and shown in one state:
/// a list of running processes never shows one that has exited.
///
/// A list decoded from JSON (an action's answer that went through JSON) holds those infos.
///
/// ```no_run
/// # async fn demo() -> Result<(), tend::Error> {
/// use tend::wire::ListQuery;
/// use tend::{Service, StartOptions};
///
/// let service = Service::new();
/// service.start(StartOptions::new("sleep").arg("5").label("tier", "web"))?;
/// let query = ListQuery { label: Some("tier=web".into()), ..ListQuery::default() };
/// let list = service.list_filtered(query.list_filter().expect("a label with `=`"));
/// let mut body = Vec::new();
/// list.write_json(&mut body);
/// assert_eq!(serde_json::from_slice::<Vec<tend::ProcessInfo>>(&body).unwrap().len(), 1);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ProcessList(Records);

#[derive(Debug)]
enum Records {
    Live { service: Service, filter: ListFilter },
    Decoded(Vec<ProcessInfo>),
}

impl Service {
    /// The processes that pass `filter`, in start order, read when the list is written (see
    /// [`ProcessList`]). [`list`](Self::list) gives every info at once.
    pub fn list_filtered(&self, filter: ListFilter) -> ProcessList {
        ProcessList(Records::Live { service: self.clone(), filter })
    }
}

impl ProcessList {
    /// Appends the JSON array of the infos, byte for byte what `serde_json` writes for
    /// [`infos`](Self::infos) read at that instant, each record written from the JSON it keeps
    /// while its state does not change, with `duration_ms`, the usage fields and `log_error`
    /// written fresh.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tend::Error> {
    /// let service = tend::Service::new();
    /// service.start(tend::StartOptions::new("sleep").arg("5"))?;
    /// let mut body = Vec::new();
    /// service.list_filtered(Default::default()).write_json(&mut body);
    /// assert!(body.starts_with(b"[{\"id\":"));
    /// # Ok(()) }
    /// ```
    pub fn write_json(&self, out: &mut Vec<u8>) {
        self.write_json_at(Timestamp::now(), out);
    }

    /// [`write_json`](Self::write_json) with the durations of running processes counted up to
    /// `now` (or to the start of a run that began after it).
    pub(crate) fn write_json_at(&self, now: Timestamp, out: &mut Vec<u8>) {
        let (service, filter) = match &self.0 {
            Records::Live { service, filter } => (service, filter),
            Records::Decoded(infos) => return write_infos(infos, out),
        };
        let Some(block) = service.list_block() else {
            return write_infos(&self.infos(), out);
        };
        out.push(b'[');
        // The status as of the bytes: a filter never disagrees with the status shown.
        block.write(
            now,
            |record, written| filter.admits(written.status, &record.options.labels),
            out,
        );
        out.push(b']');
    }

    /// The infos, read now.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tend::Error> {
    /// let service = tend::Service::new();
    /// service.start(tend::StartOptions::new("sleep").arg("5"))?;
    /// assert_eq!(service.list_filtered(Default::default()).infos().len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn infos(&self) -> Vec<ProcessInfo> {
        match &self.0 {
            Records::Live { service, filter } => service
                .list()
                .into_iter()
                .filter(|info| filter.admits(info.status, &info.labels))
                .collect(),
            Records::Decoded(infos) => infos.clone(),
        }
    }
}

impl Serialize for ProcessList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.infos().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ProcessList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::deserialize(deserializer).map(|infos| ProcessList(Records::Decoded(infos)))
    }
}

fn write_infos(infos: &[ProcessInfo], out: &mut Vec<u8>) {
    // Infos into a `Vec`: nothing here can fail.
    let _ = serde_json::to_writer(out, infos);
}
