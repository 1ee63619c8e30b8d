//! Changes to projects: apply (and reload) by difference, delete in reverse dependency
//! order, and one service's start, stop and restart.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use tend::CancellationToken;
use tend::actions::ActionError;
use tend::runner::{Mode, Pipeline, Step};
use tend::wire::{
    PipelineParts, ProjectApplied, ProjectInfo, ProjectRequest, ProjectServiceInfo, ServiceChange,
    ServiceChanged,
};
use tokio::sync::watch;

use super::definition::{Definition, service_definition};
use super::unit::{Dep, Phase, Unit};
use super::{MAX_PROJECTS, Project, Projects};

impl Projects {
    /// Applies `request`: a new project is started; an existing one (`reload`, or an apply
    /// of a name already held) changes by difference: removed services stopped (reverse
    /// dependency order), changed ones stopped and started anew, added ones started,
    /// unchanged ones untouched (same process). Steps run again only when they changed.
    pub(crate) async fn apply(
        &self,
        request: ProjectRequest,
        reload: bool,
    ) -> Result<ProjectApplied, ActionError> {
        let definition = Definition::read(&request, self.inner.logs.as_deref())?;
        let _changing = self.inner.changes.lock().await;
        let old = self.project(&definition.name);
        if old.is_none() {
            if reload {
                return Err(unknown(&definition.name));
            }
            if self.table().len() >= MAX_PROJECTS {
                return Err(ActionError::LimitReached {
                    message: format!("{MAX_PROJECTS} projects are held: delete one first"),
                });
            }
        }
        let mut changes = Vec::new();
        let mut kept = BTreeMap::new();
        if let Some(old) = &old {
            for name in old.order.iter().rev() {
                let unit = &old.units[name];
                match definition.services.get(name) {
                    Some(spec) if service_definition(spec) == unit.definition => {
                        kept.insert(name.clone(), unit.clone());
                    }
                    new => {
                        unit.stop().await;
                        if new.is_none() {
                            changes.push(changed(name, ServiceChange::Removed));
                        }
                    }
                }
            }
        }
        let steps_definition = definition.steps_definition();
        let steps_changed = old.as_ref().is_none_or(|old| old.steps_definition != steps_definition);
        let (pipeline, steps_stop, launch) = match &old {
            Some(old) if !steps_changed => (old.pipeline.clone(), old.steps_stop.clone(), None),
            _ => {
                if let Some(old) = &old {
                    self.stop_steps(old);
                }
                let (launch, pipeline) = watch::channel(None);
                (pipeline, CancellationToken::new(), Some(launch))
            }
        };
        let service = &self.inner.service;
        let mut units: BTreeMap<String, Arc<Unit>> = BTreeMap::new();
        for name in definition.service_order() {
            if let Some(unit) = kept.remove(&name) {
                changes.push(changed(&name, ServiceChange::Unchanged));
                units.insert(name, unit);
                continue;
            }
            let was = old.as_ref().is_some_and(|old| old.units.contains_key(&name));
            let spec = definition.services[&name].clone();
            let deps = self.deps(&spec.after, &units, &pipeline);
            let definition_of = service_definition(&spec);
            let unit = Unit::new(&definition.name, spec, definition_of, definition.jobs);
            unit.launch(service, deps);
            units.insert(name.clone(), unit);
            let change = if was { ServiceChange::Changed } else { ServiceChange::Added };
            changes.push(changed(&name, change));
        }
        if let Some(launch) = launch
            && !definition.steps.is_empty()
        {
            self.launch_steps(&definition, &units, launch, steps_stop.clone());
        }
        let now = Timestamp::now();
        let identical =
            !steps_changed && changes.iter().all(|c| c.change == ServiceChange::Unchanged);
        let project = Project {
            order: definition.service_order(),
            units,
            steps_definition,
            pipeline,
            steps_stop,
            created_at: old.as_ref().map_or(now, |old| old.created_at),
            updated_at: match &old {
                Some(old) if identical => old.updated_at,
                _ => now,
            },
            request,
        };
        if let Some(store) = &self.inner.store
            && let Err(error) = store.save(&project.request)
        {
            tracing::warn!(%error, project = %definition.name, "cannot save the project");
        }
        let info = project.info();
        self.table().insert(definition.name.clone(), project);
        Ok(ProjectApplied { created: old.is_none(), changes, project: info })
    }

    /// What a service running after `after` waits for: the services among `units`, and the
    /// steps of the pipeline `pipeline` will name.
    fn deps(
        &self,
        after: &[String],
        units: &BTreeMap<String, Arc<Unit>>,
        pipeline: &watch::Receiver<Option<String>>,
    ) -> Vec<Dep> {
        after
            .iter()
            .map(|name| match units.get(name) {
                Some(unit) => Dep::Service { name: name.clone(), phase: unit.phase() },
                None => Dep::Step {
                    name: name.clone(),
                    pipeline: pipeline.clone(),
                    pipelines: self.inner.pipelines.pipelines.clone(),
                },
            })
            .collect()
    }

    /// Launches the project's steps as one pipeline once the services they run after are
    /// ready; `pipeline` gets its id. Never launched when one of those services fails, the
    /// project's steps are stopped, or the server shuts down.
    fn launch_steps(
        &self,
        definition: &Definition,
        units: &BTreeMap<String, Arc<Unit>>,
        pipeline: watch::Sender<Option<String>>,
        stop: CancellationToken,
    ) {
        let mut services = Vec::new();
        let steps: Vec<Step> = definition
            .steps
            .iter()
            .map(|step| {
                let mut step = step.clone();
                step.after.retain(|name| match units.get(name) {
                    Some(unit) => {
                        services.push(unit.phase());
                        false
                    }
                    None => true,
                });
                step
            })
            .collect();
        let Ok(steps) = Pipeline::new(steps) else { return };
        let jobs = definition.jobs;
        let project = definition.name.clone();
        let host = self.inner.pipelines.clone();
        let shutting_down = self.inner.service.shutting_down();
        tokio::spawn(async move {
            for mut phase in services {
                let ready = tokio::select! {
                    biased;
                    () = stop.cancelled() => return,
                    () = shutting_down.cancelled() => return,
                    phase = phase.wait_for(|p| *p != Phase::Waiting) => {
                        phase.map(|p| *p == Phase::Ready).unwrap_or(false)
                    }
                };
                if !ready {
                    return;
                }
            }
            let runtime = host.runtime.clone().unwrap_or_else(tokio::runtime::Handle::current);
            let parts = PipelineParts { pipeline: steps, mode: Mode::Dag, jobs, fail_fast: false };
            // Its step processes show under the project in `ps` and /metrics.
            let labels = [("project", project.as_str())];
            let id = host.pipelines.launch(&runtime, &host.service, &host.log, parts, &labels);
            pipeline.send_replace(Some(id));
        });
    }

    /// Stops a project's steps: the launch if still waiting, the pipeline if running.
    fn stop_steps(&self, project: &Project) {
        project.steps_stop.cancel();
        if let Some(id) = project.pipeline.borrow().clone() {
            let _ = self.inner.pipelines.pipelines.cancel(&id);
        }
    }

    /// Takes a project down: its services stopped in reverse dependency order, each with its
    /// stop signal and grace, its steps cancelled, the project forgotten. Its final state.
    pub(crate) async fn delete(&self, name: &str) -> Result<ProjectInfo, ActionError> {
        let _changing = self.inner.changes.lock().await;
        let project = self.project(name).ok_or_else(|| unknown(name))?;
        // Queued ones first, so that a slot a stopped service frees starts none of them.
        for unit in project.units.values().filter(|unit| unit.is_queued()) {
            unit.stop().await;
        }
        for service in project.order.iter().rev() {
            project.units[service].stop().await;
        }
        self.stop_steps(&project);
        let info = project.info();
        self.table().remove(name);
        if let Some(store) = &self.inner.store
            && let Err(error) = store.remove(name)
        {
            tracing::warn!(%error, project = %name, "cannot remove the saved project");
        }
        Ok(info)
    }

    /// One service, or 404 naming the project or the service.
    fn unit(&self, project: &str, service: &str) -> Result<Arc<Unit>, ActionError> {
        let held = self.project(project).ok_or_else(|| unknown(project))?;
        held.units.get(service).cloned().ok_or_else(|| ActionError::Unknown {
            what: "service".into(),
            id: format!("{project}/{service}"),
        })
    }

    /// Stops one service (its stop signal, its grace); returns once it has stopped.
    pub(crate) async fn stop_service(
        &self,
        project: &str,
        service: &str,
    ) -> Result<ProjectServiceInfo, ActionError> {
        let _changing = self.inner.changes.lock().await;
        let unit = self.unit(project, service)?;
        unit.stop().await;
        Ok(unit.info())
    }

    /// Starts one service that is not running (at once: what it runs after is not waited
    /// for); a running one is left as it is.
    pub(crate) async fn start_service(
        &self,
        project: &str,
        service: &str,
    ) -> Result<ProjectServiceInfo, ActionError> {
        let _changing = self.inner.changes.lock().await;
        let unit = self.unit(project, service)?;
        if !unit.is_active() {
            unit.launch(&self.inner.service, Vec::new());
        }
        Ok(unit.info())
    }

    /// Restarts one service: a running one on the same record (its stop signal, its grace,
    /// then at once the next run: `restarts` + 1); one that is not running is started anew.
    pub(crate) async fn restart_service(
        &self,
        project: &str,
        service: &str,
    ) -> Result<ProjectServiceInfo, ActionError> {
        let _changing = self.inner.changes.lock().await;
        let unit = self.unit(project, service)?;
        if !unit.restart().await {
            unit.stop().await;
            unit.launch(&self.inner.service, Vec::new());
        }
        Ok(unit.info())
    }
}

fn changed(name: &str, change: ServiceChange) -> ServiceChanged {
    ServiceChanged { name: name.to_owned(), change }
}

fn unknown(name: &str) -> ActionError {
    ActionError::Unknown { what: "project".into(), id: name.to_owned() }
}
