//! Pipelines run by the server: `POST /pipelines` starts one on the server's service, and a
//! live record of it is kept for `GET /pipelines/{id}`.
//!
//! Each step's processes are managed processes of the server's [`Service`](tend::Service),
//! labelled `pipeline=<id>` and `step=<name>`, so `GET /processes?label=pipeline=<id>` finds
//! them and their output is on the event stream like any other. The run's own progress goes
//! into the same event log, in its one sequence: `pipeline_started`, `step_started`,
//! `step_finished`, `pipeline_finished` (see [`events`]).
//!
//! The record of a running pipeline is a live report: every step is `pending` (not started),
//! `running`, or its final [`StepReport`](tend::runner::StepReport). Once the run ends it is
//! the runner's [`Report`]. At most [`MAX_FINISHED_PIPELINES`] finished pipelines are kept; the oldest
//! go first. Running ones are never dropped.

pub(crate) mod actions;
pub(crate) mod events;
pub(crate) mod request;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use jiff::Timestamp;
use serde_json::{Value, json};
use tend::runner::{CancellationToken, Mode, Report, Runner, StepEvent, StepStatus};

use self::request::PipelineRequest;
use crate::log::EventLog;

/// Finished pipelines kept for `GET /pipelines/{id}`.
pub const MAX_FINISHED_PIPELINES: usize = 100;

/// The pipelines the server runs and ran. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pipelines {
    inner: Arc<Mutex<Vec<Record>>>,
}

/// Where a pipeline stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    Finished,
    Cancelled,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Running => "running",
            Phase::Finished => "finished",
            Phase::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug)]
struct Record {
    id: String,
    mode: Mode,
    phase: Phase,
    created_at: Timestamp,
    ended_at: Option<Timestamp>,
    began: Instant,
    /// Per step, in declaration order: its live JSON until the run's report replaces it.
    steps: Vec<(String, Value)>,
    /// Step name → index in `steps`: a step event must not cost a scan of ten thousand.
    index: HashMap<String, usize>,
    report: Option<Report>,
    cancel: CancellationToken,
    /// Set if the run's task died without a report (a bug): said in the view.
    error: Option<String>,
}

impl Record {
    fn step_mut(&mut self, name: &str) -> Option<&mut Value> {
        let at = *self.index.get(name)?;
        self.steps.get_mut(at).map(|(_, v)| v)
    }

    /// Counts of the steps settled so far, as `Report::totals` counts them.
    fn live_totals(&self) -> Value {
        let mut totals = json!({ "passed": 0, "failed": 0, "allowed_failures": 0,
            "skipped": 0, "cancelled": 0 });
        for (_, step) in &self.steps {
            if let Some(key) = step["status"].as_str().and_then(total_key) {
                totals[key] = json!(totals[key].as_u64().unwrap_or(0) + 1);
            }
        }
        totals
    }

    /// Everything but the report.
    fn head(&self) -> Value {
        json!({
            "id": self.id,
            "status": self.phase.as_str(),
            "created_at": self.created_at,
            "ended_at": self.ended_at,
            "cancel_requested": self.cancel.is_cancelled(),
            "error": self.error,
        })
    }

    fn view(&self) -> Value {
        let report = match &self.report {
            Some(report) => serde_json::to_value(report).unwrap_or(Value::Null),
            None => json!({
                "mode": self.mode,
                "success": null,
                "duration_ms": self.began.elapsed().as_secs_f64() * 1000.0,
                "totals": self.live_totals(),
                "steps": self.steps.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
            }),
        };
        let mut view = self.head();
        view["report"] = report;
        view
    }

    /// The head, with the report's outcome but not its steps (no outputs).
    fn summary(&self) -> Value {
        let mut summary = self.head();
        summary["mode"] = json!(self.mode);
        summary["steps"] = json!(self.steps.len());
        match &self.report {
            Some(report) => {
                summary["success"] = json!(report.success);
                summary["totals"] = json!(report.totals);
            }
            None => {
                summary["success"] = Value::Null;
                summary["totals"] = self.live_totals();
            }
        }
        summary
    }
}

/// The key of `Report::totals` a final step status counts under.
fn total_key(status: &str) -> Option<&'static str> {
    Some(match status {
        "passed" => "passed",
        "failed" | "timed_out" => "failed",
        "allowed_failure" => "allowed_failures",
        "skipped" => "skipped",
        "cancelled" => "cancelled",
        _ => return None,
    })
}

/// What `cancel` found.
pub(crate) enum CancelOutcome {
    /// The run was told to stop; its view.
    Cancelling(Value),
    /// It had already ended.
    Ended,
    /// No such pipeline.
    Unknown,
}

impl Pipelines {
    fn lock(&self) -> MutexGuard<'_, Vec<Record>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The view of pipeline `id`.
    pub(crate) fn get(&self, id: &str) -> Option<Value> {
        self.lock().iter().find(|r| r.id == id).map(Record::view)
    }

    /// Summaries of every pipeline held, oldest first.
    pub(crate) fn list(&self) -> Vec<Value> {
        self.lock().iter().map(Record::summary).collect()
    }

    /// Asks a running pipeline to stop: running steps get SIGTERM, their grace, SIGKILL.
    pub(crate) fn cancel(&self, id: &str) -> CancelOutcome {
        let records = self.lock();
        match records.iter().find(|r| r.id == id) {
            None => CancelOutcome::Unknown,
            Some(record) if record.phase != Phase::Running => CancelOutcome::Ended,
            Some(record) => {
                record.cancel.cancel();
                CancelOutcome::Cancelling(record.view())
            }
        }
    }

    /// Starts `request` on `service`, its tasks on `runtime`, and returns its id at once.
    pub(crate) fn launch(
        &self,
        runtime: &tokio::runtime::Handle,
        service: &tend::Service,
        log: &EventLog,
        request: PipelineRequest,
    ) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        let PipelineRequest { pipeline, mode, jobs, fail_fast } = request;
        let cancel = CancellationToken::new();
        let names: Vec<String> = pipeline.steps().iter().map(|s| s.name.clone()).collect();
        let steps = names
            .iter()
            .map(|name| (name.clone(), json!({ "name": name, "status": "pending" })))
            .collect();
        let index = names.iter().enumerate().map(|(at, name)| (name.clone(), at)).collect();
        {
            let mut records = self.lock();
            records.push(Record {
                id: id.clone(),
                mode,
                phase: Phase::Running,
                created_at: Timestamp::now(),
                ended_at: None,
                began: Instant::now(),
                steps,
                index,
                report: None,
                cancel: cancel.clone(),
                error: None,
            });
            prune(&mut records);
        }
        events::pipeline_started(log, &id, mode, &names);
        let observer = {
            let (store, log, id) = (self.clone(), log.clone(), id.clone());
            move |event: &StepEvent| store.observe(&log, &id, event)
        };
        let runner = Runner::new(service.clone())
            .mode(mode)
            .jobs(jobs)
            .fail_fast(fail_fast)
            .cancel_token(cancel)
            .label("pipeline", id.clone())
            .step_label("step")
            .on_event(observer);
        let (store, log, pipeline_id) = (self.clone(), log.clone(), id.clone());
        // The run is its own task, watched by this one: if it died (a bug), the record says
        // so instead of staying `running` for ever.
        let run = runtime.spawn(async move { runner.run(&pipeline).await });
        runtime.spawn(async move {
            let outcome = run.await.map_err(|e| format!("the pipeline's task ended: {e}"));
            store.finish(&log, &pipeline_id, outcome);
        });
        id
    }

    /// Records a step event (after putting it in the log, so a client that sees the change
    /// here finds the event there).
    fn observe(&self, log: &EventLog, id: &str, event: &StepEvent) {
        events::step(log, id, event);
        let mut records = self.lock();
        let Some(record) = records.iter_mut().find(|r| r.id == id) else { return };
        match event {
            StepEvent::Started { step, attempt, process } => {
                if let Some(live) = record.step_mut(step) {
                    let started_at = match live.get("started_at") {
                        Some(at) if !at.is_null() => at.clone(),
                        _ => json!(Timestamp::now()),
                    };
                    *live = json!({ "name": step, "status": "running", "attempts": attempt,
                        "process_id": process, "started_at": started_at });
                }
            }
            StepEvent::Finished(report) => {
                if let Some(live) = record.step_mut(&report.name) {
                    *live = serde_json::to_value(report).unwrap_or(Value::Null);
                }
            }
            // A step waiting to retry stays `running` (it keeps its slot).
            _ => {}
        }
    }

    fn finish(&self, log: &EventLog, id: &str, outcome: Result<Report, String>) {
        let report = outcome.as_ref().ok();
        // Cancelled when asked to be and it shows: a request that came after the last step
        // ended changed nothing.
        let cancelled = report.is_none_or(|r| !r.success) && {
            let records = self.lock();
            records.iter().find(|r| r.id == id).is_some_and(|r| r.cancel.is_cancelled())
        };
        events::pipeline_finished(log, id, report, cancelled);
        let mut records = self.lock();
        if let Some(record) = records.iter_mut().find(|r| r.id == id) {
            record.phase = if cancelled { Phase::Cancelled } else { Phase::Finished };
            record.ended_at = Some(Timestamp::now());
            match outcome {
                Ok(report) => record.report = Some(report),
                Err(error) => {
                    for (_, step) in &mut record.steps {
                        if matches!(step["status"].as_str(), Some("pending" | "running")) {
                            step["status"] = json!(StepStatus::Cancelled);
                        }
                    }
                    record.error = Some(error);
                }
            }
        }
        prune(&mut records);
    }
}

/// Drops the oldest finished records beyond [`MAX_FINISHED_PIPELINES`].
fn prune(records: &mut Vec<Record>) {
    let mut excess = records.iter().filter(|r| r.phase != Phase::Running).count();
    excess = excess.saturating_sub(MAX_FINISHED_PIPELINES);
    records.retain(|r| {
        if excess > 0 && r.phase != Phase::Running {
            excess -= 1;
            false
        } else {
            true
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: usize, phase: Phase) -> Record {
        Record {
            id: id.to_string(),
            mode: Mode::Dag,
            phase,
            created_at: Timestamp::now(),
            ended_at: None,
            began: Instant::now(),
            steps: vec![("a".into(), json!({ "name": "a", "status": "passed" }))],
            index: HashMap::from([("a".to_owned(), 0)]),
            report: None,
            cancel: CancellationToken::new(),
            error: None,
        }
    }

    #[test]
    fn only_the_newest_finished_are_kept_and_running_ones_never_go() {
        let mut records = vec![record(0, Phase::Running)];
        for i in 1..=MAX_FINISHED_PIPELINES + 5 {
            records.push(record(i, if i % 2 == 0 { Phase::Cancelled } else { Phase::Finished }));
        }
        prune(&mut records);
        assert_eq!(records.len(), MAX_FINISHED_PIPELINES + 1);
        assert_eq!(records[0].id, "0", "the running one stays");
        assert_eq!(records[1].id, "6", "the five oldest finished went");
    }

    #[test]
    fn a_live_view_counts_what_has_settled() {
        let view = record(1, Phase::Running).view();
        assert_eq!(view["report"]["success"], Value::Null);
        assert_eq!(view["report"]["totals"]["passed"], 1);
        assert_eq!(record(1, Phase::Running).summary()["steps"], 1);
    }
}
