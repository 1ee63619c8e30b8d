//! [`Pipeline`]: steps checked as a dependency graph before anything runs.
//!
//! go-process reported cycles and unknown dependencies as "skipped" steps of a run that still
//! succeeded. Here a pipeline that cannot run as written is not a pipeline: [`Pipeline::new`]
//! refuses it with an error naming the culprit, and nothing is spawned.

use std::collections::HashMap;

use super::service_spec::ServiceSpec;
use super::spec::{Step, StepCommand};

/// Why a list of steps is not a valid pipeline. Each variant names the culprit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// A step has an empty name.
    #[error("step #{index} has an empty name")]
    EmptyName {
        /// Its position in declaration order, from 1.
        index: usize,
    },
    /// Two steps have the same name.
    #[error("step `{name}` is defined twice")]
    DuplicateName {
        /// The name.
        name: String,
    },
    /// A step has an empty program or script.
    #[error("step `{step}` has an empty {what}")]
    EmptyCommand {
        /// The step.
        step: String,
        /// `command` or `run`.
        what: &'static str,
    },
    /// A step waits for a step that does not exist.
    #[error("step `{step}` runs after `{dependency}`, which is not a step")]
    UnknownDependency {
        /// The step.
        step: String,
        /// The name it gave.
        dependency: String,
    },
    /// A step waits for itself.
    #[error("step `{step}` runs after itself")]
    SelfDependency {
        /// The step.
        step: String,
    },
    /// A step names the same dependency twice.
    #[error("step `{step}` lists `{dependency}` twice in `after`")]
    DuplicateDependency {
        /// The step.
        step: String,
        /// The repeated name.
        dependency: String,
    },
    /// The dependencies form a cycle, so none of its steps could ever start.
    #[error("dependency cycle: {} (each step runs after the next)", .cycle.join(" -> "))]
    Cycle {
        /// The steps around the cycle; the first is repeated at the end.
        cycle: Vec<String>,
    },
}

/// A validated list of steps: unique non-empty names, known dependencies, no cycle.
///
/// ```
/// use tend::runner::{Pipeline, PipelineError, Step};
///
/// let ok = Pipeline::new(vec![
///     Step::command("build", "make"),
///     Step::command("test", "make").arg("test").after(["build"]),
/// ])
/// .unwrap();
/// assert_eq!(ok.len(), 2);
///
/// let err = Pipeline::new(vec![
///     Step::command("a", "true").after(["b"]),
///     Step::command("b", "true").after(["a"]),
/// ])
/// .unwrap_err();
/// assert_eq!(err.to_string(), "dependency cycle: a -> b -> a (each step runs after the next)");
/// ```
#[derive(Debug, Clone)]
pub struct Pipeline {
    steps: Vec<Step>,
    services: Vec<ServiceSpec>,
    /// `deps[i]`: indices of the steps step `i` runs after.
    deps: Vec<Vec<usize>>,
}

impl Pipeline {
    /// Checks `steps` and keeps them in declaration order.
    ///
    /// Errors are looked for in this order: empty name, duplicate name and empty command
    /// (step by step); then self-dependency, unknown dependency and duplicate dependency (step
    /// by step); then cycles.
    /// The cycle reported is the first one a depth-first walk in declaration order meets.
    pub fn new(steps: Vec<Step>) -> Result<Self, PipelineError> {
        let mut index = HashMap::with_capacity(steps.len());
        for (i, step) in steps.iter().enumerate() {
            if step.name.is_empty() {
                return Err(PipelineError::EmptyName { index: i + 1 });
            }
            if index.insert(step.name.as_str(), i).is_some() {
                return Err(PipelineError::DuplicateName { name: step.name.clone() });
            }
            let empty = match &step.command {
                StepCommand::Program { command, .. } => command.is_empty().then_some("command"),
                StepCommand::Script(script) => script.trim().is_empty().then_some("run"),
            };
            if let Some(what) = empty {
                return Err(PipelineError::EmptyCommand { step: step.name.clone(), what });
            }
        }
        let mut deps = Vec::with_capacity(steps.len());
        for step in &steps {
            let mut mine: Vec<usize> = Vec::with_capacity(step.after.len());
            for dependency in &step.after {
                let culprit = || (step.name.clone(), dependency.clone());
                if *dependency == step.name {
                    return Err(PipelineError::SelfDependency { step: step.name.clone() });
                }
                let Some(&target) = index.get(dependency.as_str()) else {
                    let (step, dependency) = culprit();
                    return Err(PipelineError::UnknownDependency { step, dependency });
                };
                if mine.contains(&target) {
                    let (step, dependency) = culprit();
                    return Err(PipelineError::DuplicateDependency { step, dependency });
                }
                mine.push(target);
            }
            deps.push(mine);
        }
        if let Some(cycle) = find_cycle(&deps) {
            let cycle = cycle.into_iter().map(|i| steps[i].name.clone()).collect();
            return Err(PipelineError::Cycle { cycle });
        }
        Ok(Self { steps, services: Vec::new(), deps })
    }

    /// A stack: `steps` and `services`, checked as one graph. Names are unique across both;
    /// an `after` may name either kind.
    ///
    /// SKELETON: validation of the services is not written yet.
    pub fn with_services(
        steps: Vec<Step>,
        services: Vec<ServiceSpec>,
    ) -> Result<Self, PipelineError> {
        let mut pipeline = Self::new(steps)?;
        pipeline.services = services;
        Ok(pipeline)
    }

    /// The services, in declaration order.
    pub fn services(&self) -> &[ServiceSpec] {
        &self.services
    }

    /// The steps, in declaration order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The step with this name.
    pub fn step(&self, name: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.name == name)
    }

    /// How many steps there are.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether there are no steps at all (a valid pipeline that does nothing).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Indices of the steps each step runs after.
    pub(crate) fn deps(&self) -> &[Vec<usize>] {
        &self.deps
    }
}

/// The first cycle met by an iterative depth-first walk (roots and edges in declaration
/// order), as indices with the first repeated at the end. Iterative, so a chain of a hundred
/// thousand steps cannot overflow the stack.
pub(crate) fn find_cycle(deps: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut marks = vec![Mark::New; deps.len()];
    // The current path: (node, next edge to follow).
    let mut path: Vec<(usize, usize)> = Vec::new();
    for root in 0..deps.len() {
        if marks[root] != Mark::New {
            continue;
        }
        marks[root] = Mark::OnPath;
        path.push((root, 0));
        while let Some((node, edge)) = path.last_mut() {
            let node = *node;
            let Some(&next) = deps[node].get(*edge) else {
                marks[node] = Mark::Done;
                path.pop();
                continue;
            };
            *edge += 1;
            match marks[next] {
                Mark::Done => {}
                Mark::New => {
                    marks[next] = Mark::OnPath;
                    path.push((next, 0));
                }
                Mark::OnPath => {
                    let start = path.iter().position(|&(n, _)| n == next)?;
                    let mut cycle: Vec<usize> = path[start..].iter().map(|&(n, _)| n).collect();
                    cycle.push(next);
                    return Some(cycle);
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str, after: &[&str]) -> Step {
        Step::command(name, "true").after(after.iter().copied())
    }

    fn error(steps: Vec<Step>) -> String {
        Pipeline::new(steps).unwrap_err().to_string()
    }

    #[test]
    fn each_validation_error_names_its_culprit() {
        assert_eq!(error(vec![step("a", &[]), step("", &[])]), "step #2 has an empty name");
        assert_eq!(error(vec![step("a", &[]), step("a", &[])]), "step `a` is defined twice");
        assert_eq!(
            error(vec![step("a", &["zz"])]),
            "step `a` runs after `zz`, which is not a step"
        );
        assert_eq!(error(vec![step("a", &["a"])]), "step `a` runs after itself");
        assert_eq!(
            error(vec![step("a", &[]), step("b", &["a", "a"])]),
            "step `b` lists `a` twice in `after`"
        );
        assert_eq!(error(vec![Step::script("s", "  ")]), "step `s` has an empty run");
        assert_eq!(error(vec![Step::command("c", "")]), "step `c` has an empty command");
    }

    #[test]
    fn a_cycle_is_shown_from_where_the_walk_entered_it() {
        let steps = vec![
            step("setup", &[]),
            step("x", &["a"]),
            step("a", &["setup", "b"]),
            step("b", &["c"]),
            step("c", &["a"]),
        ];
        let Err(PipelineError::Cycle { cycle }) = Pipeline::new(steps) else { panic!() };
        assert_eq!(cycle, ["a", "b", "c", "a"]);
    }

    #[test]
    fn diamonds_and_empty_pipelines_are_fine() {
        let diamond =
            vec![step("a", &[]), step("b", &["a"]), step("c", &["a"]), step("d", &["b", "c"])];
        assert_eq!(Pipeline::new(diamond).unwrap().deps()[3], [1, 2]);
        assert!(Pipeline::new(Vec::new()).unwrap().is_empty());
    }

    #[test]
    fn a_long_chain_does_not_overflow_the_stack() {
        let n = 200_000;
        let mut deps: Vec<Vec<usize>> =
            (0..n).map(|i| if i == 0 { vec![] } else { vec![i - 1] }).collect();
        assert_eq!(find_cycle(&deps), None);
        deps[0].push(n - 1);
        assert_eq!(find_cycle(&deps).map(|c| c.len()), Some(n + 1));
    }
}
