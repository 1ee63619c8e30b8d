//! CPU and memory per managed process, summed over its whole process group.
//!
//! A sampler reads `/proc` once per tick, sums the CPU time and resident memory of every
//! process by process group, and records the totals of each running managed process (which
//! leads a group of its own, so a child it starts counts toward it). The figures then show in
//! [`ProcessInfo`](crate::ProcessInfo): `cpu_percent` (of one core, over the last interval),
//! `cpu_seconds` and `memory_bytes` — null until the first sample of a run, and when the
//! process is not running. Nothing samples unless a program asks: the `tend` daemon runs
//! [`Service::sample_usage_every`] with [`DEFAULT_INTERVAL`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), tend::Error> {
//! use tend::{Service, StartOptions};
//!
//! let service = Service::new();
//! let sampler = tokio::spawn({
//!     let service = service.clone();
//!     async move { service.sample_usage_every(tend::usage::DEFAULT_INTERVAL).await }
//! });
//! let busy = service.start(StartOptions::new("sh").args(["-c", "while :; do :; done"]))?;
//! tokio::time::sleep(std::time::Duration::from_secs(3)).await;
//! println!("{:?}% of a core", busy.info().cpu_percent);
//! sampler.abort();
//! # Ok(()) }
//! ```
//!
//! # Caveats
//!
//! * **Linux only.** Elsewhere [`Service::sample_usage`] fails with
//!   [`ProcTableError::Unsupported`] and the figures stay null.
//! * **Groups, not trees.** A descendant that moves to another group or session (`setsid`, a
//!   daemonising program) no longer counts. CPU time of a member that exits unreaped leaves the
//!   sum; the interval in which that happens reads lower, never negative.
//! * **RSS counts shared pages once per member**, as `ps` does: a group of forked workers can
//!   show more than the memory they really take.
//! * **Cost.** One tick opens and reads `/proc/PID/stat` of every process on the host; with
//!   no running managed process it reads nothing.

use std::time::Duration;

use crate::Service;
use crate::proctable::ProcTableError;

/// How often the `tend` daemon samples: every 2 seconds.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(2);

impl Service {
    /// Takes one sample: reads `/proc` once and records the CPU and memory of every running
    /// process's group. Does nothing (reads nothing) when no process runs.
    pub fn sample_usage(&self) -> Result<(), ProcTableError> {
        let running: Vec<(crate::Process, u32)> = self
            .running()
            .into_iter()
            .filter_map(|process| process.running_group().map(|pgid| (process, pgid)))
            .collect();
        if running.is_empty() {
            return Ok(());
        }
        #[cfg(target_os = "linux")]
        {
            let groups: std::collections::HashSet<u32> =
                running.iter().map(|(_, pgid)| *pgid).collect();
            let totals = crate::os::group_totals(&groups).map_err(ProcTableError::Io)?;
            let at = std::time::Instant::now();
            let ticks_per_second = crate::os::ticks_per_second();
            for (process, pgid) in &running {
                // A group with no live member left is ending: nothing to record.
                if let Some(group) = totals.get(pgid) {
                    process.record_usage(
                        *pgid,
                        group.cpu_ticks,
                        group.rss_bytes,
                        ticks_per_second,
                        at,
                    );
                }
            }
            Ok(())
        }
        #[cfg(not(target_os = "linux"))]
        {
            Err(ProcTableError::Unsupported)
        }
    }

    /// Samples every `interval` (the first at once) for ever; run it as a task and abort it to
    /// stop. A failed sample is logged (`tracing`, debug) and the next tick tries again.
    pub async fn sample_usage_every(&self, interval: Duration) {
        let mut ticks = tokio::time::interval(interval.max(Duration::from_millis(10)));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            // Reading /proc blocks, briefly; keep it off the async workers' hot path.
            let service = self.clone();
            match tokio::task::spawn_blocking(move || service.sample_usage()).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::debug!(%error, "resource usage sample failed"),
                Err(error) => tracing::debug!(%error, "resource usage sampler task failed"),
            }
        }
    }
}
