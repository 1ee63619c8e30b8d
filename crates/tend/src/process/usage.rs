//! One process's resource-usage samples: what the sampler in [`crate::usage`] records.

use std::time::Instant;

use super::handle::Process;
use super::info::Status;
use super::shared::State;

/// The latest sample of one run's process group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct UsageSample {
    /// The leader's PID (the group id) the sample was taken for: a sample of an earlier run
    /// never shows on a later one.
    pub(crate) pid: u32,
    /// The group's CPU time in clock ticks at `at`.
    pub(crate) cpu_ticks: u64,
    pub(crate) at: Instant,
    pub(crate) cpu_percent: f64,
    pub(crate) cpu_seconds: f64,
    pub(crate) memory_bytes: u64,
}

impl State {
    /// The sample of the current run, if it is running and has one.
    pub(crate) fn current_usage(&self) -> Option<&UsageSample> {
        let usage = self.usage.as_ref()?;
        (self.status == Status::Running && self.pid == Some(usage.pid)).then_some(usage)
    }
}

impl Process {
    /// The group id of the current run, if it is running (a managed process leads its group).
    pub(crate) fn running_group(&self) -> Option<u32> {
        let state = self.shared().state();
        if state.status == Status::Running && !state.reaped { state.pid } else { None }
    }

    /// Records a group's totals read at `at` for the run whose leader is `pid`. The CPU
    /// percentage covers the time since the previous sample of the same run, or the run so
    /// far for its first sample.
    pub(crate) fn record_usage(
        &self,
        pid: u32,
        cpu_ticks: u64,
        memory_bytes: u64,
        ticks_per_second: u64,
        at: Instant,
    ) {
        let mut state = self.shared().state();
        if state.pid != Some(pid) {
            return; // restarted since the read: the totals belong to the run before
        }
        let previous = state.usage.filter(|usage| usage.pid == pid);
        let (base_ticks, elapsed) = match previous {
            Some(usage) => (usage.cpu_ticks, at.saturating_duration_since(usage.at)),
            None => {
                let ran = state.started_at.map_or(0.0, |start| {
                    jiff::Timestamp::now().duration_since(start).as_secs_f64().max(0.0)
                });
                (0, std::time::Duration::from_secs_f64(ran))
            }
        };
        // A member that exits takes its CPU time out of the sum (unless a member reaps it), so
        // the total can go down: that interval counts as idle, not negative.
        let ticks = cpu_ticks.saturating_sub(base_ticks) as f64;
        let seconds = elapsed.as_secs_f64();
        let cpu_percent =
            if seconds > 0.0 { ticks / ticks_per_second as f64 / seconds * 100.0 } else { 0.0 };
        state.usage = Some(UsageSample {
            pid,
            cpu_ticks,
            at,
            cpu_percent,
            cpu_seconds: cpu_ticks as f64 / ticks_per_second as f64,
            memory_bytes,
        });
    }
}
