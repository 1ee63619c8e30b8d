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

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use jiff::Timestamp;
use tend::CancellationToken;
use tend::runner::{Report, Runner, StepEvent, StepReport, StepStatus};
use tend::wire::{
    LiveReport, PipelineHead, PipelineParts, PipelineState, PipelineStatus, PipelineSummary,
    StepState,
};

use crate::log::EventLog;

/// Finished pipelines kept for `GET /pipelines/{id}`.
pub const MAX_FINISHED_PIPELINES: usize = 100;

/// The pipelines the server runs and ran. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pipelines {
    inner: Arc<Mutex<Vec<Record>>>,
}

#[derive(Debug)]
struct Record {
    id: String,
    status: PipelineStatus,
    created_at: Timestamp,
    ended_at: Option<Timestamp>,
    began: Instant,
    /// Live until the run's report replaces it; its steps in declaration order.
    report: LiveReport,
    /// Step name → index in the report's steps: a step event must not cost a scan of ten
    /// thousand.
    index: HashMap<String, usize>,
    /// Each step's `after`, for the state's dependency map (steps with none left out).
    after: BTreeMap<String, Vec<String>>,
    cancel: CancellationToken,
    /// Set if the run's task died without a report (a bug): said in the state.
    error: Option<String>,
}

impl Record {
    fn step_mut(&mut self, name: &str) -> Option<&mut StepState> {
        let at = *self.index.get(name)?;
        self.report.steps.get_mut(at)
    }

    fn head(&self) -> PipelineHead {
        PipelineHead {
            id: self.id.clone(),
            status: self.status,
            created_at: self.created_at,
            ended_at: self.ended_at,
            cancel_requested: self.cancel.is_cancelled(),
            error: self.error.clone(),
        }
    }

    fn state(&self) -> PipelineState {
        let mut report = self.report.clone();
        if self.status == PipelineStatus::Running {
            report.duration_ms = self.began.elapsed().as_secs_f64() * 1000.0;
        }
        PipelineState { head: self.head(), report, after: self.after.clone() }
    }

    /// Its state without the steps (no outputs).
    fn summary(&self) -> PipelineSummary {
        PipelineSummary {
            head: self.head(),
            mode: self.report.mode,
            steps: self.report.steps.len(),
            success: self.report.success,
            totals: self.report.totals,
        }
    }
}

/// What `cancel` found.
pub(crate) enum CancelOutcome {
    /// The run was told to stop; its state.
    Cancelling(PipelineState),
    /// It had already ended.
    Ended,
    /// No such pipeline.
    Unknown,
}

impl Pipelines {
    fn lock(&self) -> MutexGuard<'_, Vec<Record>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The state of pipeline `id`.
    pub(crate) fn get(&self, id: &str) -> Option<PipelineState> {
        self.lock().iter().find(|r| r.id == id).map(Record::state)
    }

    /// Summaries of every pipeline held, oldest first.
    pub(crate) fn list(&self) -> Vec<PipelineSummary> {
        self.lock().iter().map(Record::summary).collect()
    }

    /// Asks a running pipeline to stop: running steps get SIGTERM, their grace, SIGKILL.
    pub(crate) fn cancel(&self, id: &str) -> CancelOutcome {
        let records = self.lock();
        match records.iter().find(|r| r.id == id) {
            None => CancelOutcome::Unknown,
            Some(record) if record.status != PipelineStatus::Running => CancelOutcome::Ended,
            Some(record) => {
                record.cancel.cancel();
                CancelOutcome::Cancelling(record.state())
            }
        }
    }

    /// Starts `request` on `service`, its tasks on `runtime`, and returns its id at once. Its
    /// step processes carry `labels` beside `pipeline=ID` and `step=NAME`.
    pub(crate) fn launch(
        &self,
        runtime: &tokio::runtime::Handle,
        service: &tend::Service,
        log: &EventLog,
        parts: PipelineParts,
        labels: &[(&str, &str)],
    ) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        let PipelineParts { pipeline, mode, jobs, fail_fast } = parts;
        let cancel = CancellationToken::new();
        let names: Vec<String> = pipeline.steps().iter().map(|s| s.name.clone()).collect();
        let steps = names.iter().map(|name| StepState::Pending { name: name.clone() }).collect();
        let report =
            LiveReport { mode, success: None, duration_ms: 0.0, totals: Default::default(), steps };
        let index = names.iter().enumerate().map(|(at, name)| (name.clone(), at)).collect();
        let after = pipeline
            .steps()
            .iter()
            .filter(|step| !step.after.is_empty())
            .map(|step| (step.name.clone(), step.after.clone()))
            .collect();
        {
            let mut records = self.lock();
            records.push(Record {
                id: id.clone(),
                status: PipelineStatus::Running,
                created_at: Timestamp::now(),
                ended_at: None,
                began: Instant::now(),
                report,
                index,
                after,
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
        let runner = labels.iter().fold(runner, |runner, (key, value)| runner.label(*key, *value));
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
                    let started_at = match live {
                        StepState::Running { started_at, .. } => *started_at,
                        _ => Timestamp::now(),
                    };
                    *live = StepState::Running {
                        name: step.clone(),
                        attempts: *attempt,
                        process_id: *process,
                        started_at,
                    };
                }
            }
            StepEvent::Finished(report) => {
                if let Some(live) = record.step_mut(&report.name) {
                    *live = StepState::Ended(report.clone());
                }
                record.report.count();
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
            record.status =
                if cancelled { PipelineStatus::Cancelled } else { PipelineStatus::Finished };
            record.ended_at = Some(Timestamp::now());
            match outcome {
                Ok(report) => record.report = LiveReport::from(report),
                Err(error) => {
                    record.report.duration_ms = record.began.elapsed().as_secs_f64() * 1000.0;
                    for step in &mut record.report.steps {
                        if !matches!(step, StepState::Ended(_)) {
                            *step = StepState::Ended(cancelled_step(step));
                        }
                    }
                    record.report.count();
                    record.error = Some(error);
                }
            }
        }
        prune(&mut records);
    }
}

/// The report of a step its run left pending or running when it died.
fn cancelled_step(step: &StepState) -> StepReport {
    let (attempts, process_id, started_at) = match step {
        StepState::Running { attempts, process_id, started_at, .. } => {
            (*attempts, Some(*process_id), Some(*started_at))
        }
        _ => (0, None, None),
    };
    StepReport {
        name: step.name().to_owned(),
        status: StepStatus::Cancelled,
        exit_code: None,
        signal: None,
        duration_ms: None,
        output: String::new(),
        error: None,
        attempts,
        blocked_by: None,
        process_id,
        started_at,
    }
}

/// Drops the oldest finished records beyond [`MAX_FINISHED_PIPELINES`].
fn prune(records: &mut Vec<Record>) {
    let mut excess = records.iter().filter(|r| r.status != PipelineStatus::Running).count();
    excess = excess.saturating_sub(MAX_FINISHED_PIPELINES);
    records.retain(|r| {
        if excess > 0 && r.status != PipelineStatus::Running {
            excess -= 1;
            false
        } else {
            true
        }
    });
}

#[cfg(test)]
mod tests {
    use tend::runner::Mode;

    use super::*;

    fn record(id: usize, status: PipelineStatus) -> Record {
        let passed = StepReport {
            name: "a".into(),
            status: StepStatus::Passed,
            exit_code: Some(0),
            signal: None,
            duration_ms: Some(1.0),
            output: String::new(),
            error: None,
            attempts: 1,
            blocked_by: None,
            process_id: None,
            started_at: None,
        };
        let mut report = LiveReport {
            mode: Mode::Dag,
            success: None,
            duration_ms: 0.0,
            totals: Default::default(),
            steps: vec![StepState::Ended(passed), StepState::Pending { name: "b".into() }],
        };
        report.count();
        Record {
            id: id.to_string(),
            status,
            created_at: Timestamp::now(),
            ended_at: None,
            began: Instant::now(),
            report,
            index: HashMap::from([("a".to_owned(), 0), ("b".to_owned(), 1)]),
            after: BTreeMap::from([("b".to_owned(), vec!["a".to_owned()])]),
            cancel: CancellationToken::new(),
            error: None,
        }
    }

    #[test]
    fn only_the_newest_finished_are_kept_and_running_ones_never_go() {
        let mut records = vec![record(0, PipelineStatus::Running)];
        for i in 1..=MAX_FINISHED_PIPELINES + 5 {
            let status =
                if i % 2 == 0 { PipelineStatus::Cancelled } else { PipelineStatus::Finished };
            records.push(record(i, status));
        }
        prune(&mut records);
        assert_eq!(records.len(), MAX_FINISHED_PIPELINES + 1);
        assert_eq!(records[0].id, "0", "the running one stays");
        assert_eq!(records[1].id, "6", "the five oldest finished went");
    }

    #[test]
    fn a_live_state_counts_what_has_settled() {
        let state = serde_json::to_value(record(1, PipelineStatus::Running).state()).unwrap();
        assert_eq!(state["report"]["success"], serde_json::Value::Null);
        assert_eq!(state["report"]["totals"]["passed"], 1);
        assert_eq!(
            state["report"]["steps"][1],
            serde_json::json!({"name": "b", "status": "pending"})
        );
        // The dependencies, for a client drawing the graph.
        assert_eq!(state["after"], serde_json::json!({"b": ["a"]}));
        assert_eq!(record(1, PipelineStatus::Running).summary().steps, 2);
    }
}
