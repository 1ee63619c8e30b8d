//! [`Service::restore`]: finished records kept by an earlier run of the supervisor (a
//! daemon's `records/` directory) put back in the table, so that listings and lookups by id
//! find them as before the restart.

use std::sync::Arc;

use super::Service;
use crate::StartOptions;
use crate::event::EventBus;
use crate::process::{ProcessInfo, ProcessShared};

impl Service {
    /// Puts finished records of an earlier run back into the table, each under its own id,
    /// and returns how many were taken (before retention trims them).
    ///
    /// They sit before every record already in the table, in the order their ids were
    /// created (start order), and count against
    /// [`ServiceConfig::max_finished`](super::ServiceConfig::max_finished) like any finished
    /// record: those that ended first are dropped beyond it (their ids then answer
    /// [`Error::Evicted`](crate::Error::Evicted)). A restored record has no output in memory
    /// (its ring is empty; its `log_path`, if any, is kept), no stdin and no process: `wait`
    /// returns its info at once, signals fail with
    /// "not running", [`remove`](Service::remove) removes it. Left out: a record that is not
    /// finished (`pending` or `running`: no process stands behind it any more), and one
    /// whose id the table holds already or that comes twice.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use tend::{ProcessInfo, Service};
    ///
    /// let text = std::fs::read_to_string("/var/lib/myapp/records/0190….json")?;
    /// let info: ProcessInfo = serde_json::from_str(&text)?;
    /// let service = Service::new();
    /// service.restore([info.clone()]);
    /// assert_eq!(service.get(&info.id.to_string())?.info(), info);
    /// # Ok(()) }
    /// ```
    pub fn restore(&self, records: impl IntoIterator<Item = ProcessInfo>) -> usize {
        let mut records: Vec<ProcessInfo> =
            records.into_iter().filter(|info| info.status.is_finished()).collect();
        // Retention drops those that ended first: the table keeps them in end order.
        records.sort_by_key(|info| (info.ended_at, info.id));
        let restored = records
            .into_iter()
            .map(|info| restored(info, &self.inner.bus, self.inner.list_cache.changes()))
            .collect();
        let limit = self.inner.config.max_finished;
        self.table().restore(restored, limit)
    }
}

/// A finished record that no process stands behind: its options as far as the info tells
/// them (program, arguments, directory, name, labels), its state as the info says, done.
fn restored(
    info: ProcessInfo,
    bus: &Arc<EventBus>,
    changes: &Arc<crate::process::Changes>,
) -> Arc<ProcessShared> {
    let mut options = StartOptions::new(info.command).args(info.args).capture(false);
    options.name = info.name;
    options.dir = info.dir;
    options.labels = info.labels;
    if let Some(path) = info.log_path {
        // What it wrote is read back from there: nothing of it is in memory any more.
        options = options.output_file(path);
    }
    let shared = ProcessShared::with_id(info.id, options, bus.clone(), changes.clone());
    {
        let mut state = shared.state();
        state.status = info.status;
        state.pid = info.pid;
        state.exit_code = info.exit_code;
        state.signal = info.signal;
        state.reason = info.reason;
        state.started_at = info.started_at;
        state.ended_at = info.ended_at;
        state.error = info.error;
        state.start_failure = info.start_failure;
        state.restarts = info.restarts;
        state.reaped = true;
    }
    shared.reaped.send_replace(true);
    shared.done.send_replace(true);
    Arc::new(shared)
}

#[cfg(test)]
mod tests {
    use crate::{Error, Service, ServiceConfig, StartOptions, Status};

    #[tokio::test]
    async fn restored_records_keep_their_ids_count_against_retention_and_can_be_removed() {
        let earlier = Service::new();
        let mut infos = Vec::new();
        for code in [0, 3, 4] {
            let script = format!("exit {code}");
            let options = StartOptions::new("sh").args(["-c", &script]).name("job");
            infos.push(earlier.start(options).unwrap().wait().await);
        }
        let running = earlier.start(StartOptions::new("sleep").arg("30")).unwrap();
        infos.push(running.info());

        let service = Service::with_config(ServiceConfig { max_finished: 2, ..Default::default() });
        let current = service.start(StartOptions::new("sleep").arg("30")).unwrap();
        assert_eq!(service.restore(infos.clone()), 3, "the running one is left out");
        // Retention kept the two that ended last: exit 3 and exit 4.
        let listed = service.list();
        assert_eq!(listed.len(), 3, "{listed:?}");
        assert_eq!(listed[0], infos[1], "restored, as it was, before the current process");
        assert_eq!(listed[1], infos[2]);
        assert_eq!(listed[2].id, current.id());
        assert!(matches!(service.get(&infos[0].id.to_string()), Err(Error::Evicted(_))));
        let found = service.get(&infos[2].id.to_string()).unwrap();
        assert_eq!(found.wait().await.exit_code, Some(4));
        let refused = found.signal(crate::Signal::TERM).unwrap_err();
        assert!(matches!(refused, Error::NotRunning(_)), "no process behind a restored record");

        assert_eq!(service.restore(infos[1..3].to_vec()), 0, "ids already there are left out");
        assert_eq!(service.remove(&infos[1].id.to_string()).unwrap().status, Status::Failed);
        assert_eq!(service.list().len(), 2);
        running.kill().unwrap();
        current.kill().unwrap();
    }
}
