//! [`Pipeline`]: steps and services checked as one dependency graph before anything runs.
//!
//! go-process reported cycles and unknown dependencies as "skipped" steps of a run that still
//! succeeded. Here a pipeline that cannot run as written is not a pipeline:
//! [`Pipeline::new`] and [`Pipeline::with_services`] refuse it with an error naming the
//! culprit and its kind, and nothing is spawned.

use std::collections::HashMap;

use super::pipeline_error::NodeKind;
// Re-exported for the modules that name it through the graph (the file loader).
pub(super) use super::pipeline_error::PipelineError;
use super::service_spec::ServiceSpec;
use super::spec::{Step, StepCommand};

/// A validated list of steps and services: unique non-empty names across both kinds, known
/// dependencies, no cycle.
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
    /// `deps[node]`: the nodes it runs after (see [`deps`](Self::deps)).
    deps: Vec<Vec<usize>>,
    /// The services were declared before the steps (a file whose `services` table comes
    /// first): sequential mode's order among items free to go.
    services_first: bool,
}

impl Pipeline {
    /// Checks `steps` and keeps them in declaration order: a pipeline without services.
    ///
    /// Errors are looked for in this order: empty name, duplicate name and empty command
    /// (step by step); then self-dependency, unknown dependency and duplicate dependency (step
    /// by step); then cycles.
    /// The cycle reported is the first one a depth-first walk in declaration order meets.
    pub fn new(steps: Vec<Step>) -> Result<Self, PipelineError> {
        Self::with_services(steps, Vec::new())
    }

    /// A stack: `steps` and `services`, checked as one graph. Names are unique across both
    /// kinds; an `after` may name either kind (a step or service after a service waits for
    /// it to be ready); a cycle may run through both.
    ///
    /// Errors are looked for in the order of [`new`](Self::new), the steps before the
    /// services at each stage; a culprit that is a service is named as one.
    ///
    /// ```
    /// use tend::runner::{Pipeline, ServiceSpec, Step};
    ///
    /// let stack = Pipeline::with_services(
    ///     vec![Step::command("migrate", "./migrate").after(["db"])],
    ///     vec![
    ///         ServiceSpec::command("db", "postgres"),
    ///         ServiceSpec::command("web", "./server").after(["migrate"]),
    ///     ],
    /// )
    /// .unwrap();
    /// assert_eq!((stack.len(), stack.services().len()), (1, 2));
    ///
    /// let err = Pipeline::with_services(
    ///     vec![Step::command("db", "true")],
    ///     vec![ServiceSpec::command("db", "postgres")],
    /// )
    /// .unwrap_err();
    /// assert_eq!(err.to_string(), "`db` is both a step and a service");
    /// ```
    pub fn with_services(
        steps: Vec<Step>,
        services: Vec<ServiceSpec>,
    ) -> Result<Self, PipelineError> {
        let nodes: Vec<Node<'_>> = steps
            .iter()
            .enumerate()
            .map(|(i, s)| Node::new(NodeKind::Step, i, &s.name, &s.command, &s.after))
            .chain(
                services
                    .iter()
                    .enumerate()
                    .map(|(i, s)| Node::new(NodeKind::Service, i, &s.name, &s.command, &s.after)),
            )
            .collect();
        let index = check_names(&nodes)?;
        let stack = !services.is_empty();
        let deps = nodes
            .iter()
            .map(|node| resolve_after(node, &index, stack))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(cycle) = find_cycle(&deps) {
            let services: Vec<String> = cycle[..cycle.len() - 1]
                .iter()
                .filter(|&&i| nodes[i].kind == NodeKind::Service)
                .map(|&i| nodes[i].name.to_owned())
                .collect();
            let cycle = cycle.into_iter().map(|i| nodes[i].name.to_owned()).collect();
            return Err(if services.is_empty() {
                PipelineError::Cycle { cycle }
            } else {
                PipelineError::StackCycle { cycle, services }
            });
        }
        Ok(Self { steps, services, deps, services_first: false })
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

    /// The graph: `deps()[node]` are the nodes `node` runs after, the steps being nodes
    /// `0..len()` and the services `len()..len() + services().len()`, in declaration order.
    pub(crate) fn deps(&self) -> &[Vec<usize>] {
        &self.deps
    }

    /// Marks the services as declared before the steps, as in a file whose `services` table
    /// comes first.
    #[cfg(feature = "files")]
    pub(crate) fn declared_services_first(mut self) -> Self {
        self.services_first = true;
        self
    }

    /// Each node's place in declaration order: steps first, unless the services were
    /// declared first.
    pub(crate) fn declaration_rank(&self) -> Vec<usize> {
        let (steps, services) = (self.steps.len(), self.services.len());
        let (step_base, service_base) =
            if self.services_first { (services, 0) } else { (0, steps) };
        (0..steps).map(|i| step_base + i).chain((0..services).map(|i| service_base + i)).collect()
    }
}

/// A step or service as the checks see it.
struct Node<'a> {
    kind: NodeKind,
    /// Its position among its kind, from 0.
    position: usize,
    name: &'a str,
    command: &'a StepCommand,
    after: &'a [String],
}

impl<'a> Node<'a> {
    fn new(
        kind: NodeKind,
        position: usize,
        name: &'a str,
        command: &'a StepCommand,
        after: &'a [String],
    ) -> Self {
        Self { kind, position, name, command, after }
    }

    fn is_service(&self) -> bool {
        self.kind == NodeKind::Service
    }
}

/// Checks names (non-empty, unique across both kinds) and commands (non-empty), node by
/// node; returns the index of every name.
fn check_names<'a>(nodes: &[Node<'a>]) -> Result<HashMap<&'a str, usize>, PipelineError> {
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(nodes.len());
    for (i, node) in nodes.iter().enumerate() {
        let name = || node.name.to_owned();
        if node.name.is_empty() {
            let index = node.position + 1;
            return Err(if node.is_service() {
                PipelineError::EmptyServiceName { index }
            } else {
                PipelineError::EmptyName { index }
            });
        }
        if let Some(first) = index.insert(node.name, i) {
            return Err(match (nodes[first].kind, node.kind) {
                (NodeKind::Step, NodeKind::Step) => PipelineError::DuplicateName { name: name() },
                (NodeKind::Service, NodeKind::Service) => {
                    PipelineError::DuplicateService { name: name() }
                }
                _ => PipelineError::StepAndService { name: name() },
            });
        }
        let empty = match node.command {
            StepCommand::Program { command, .. } => command.is_empty().then_some("command"),
            StepCommand::Script(script) => script.trim().is_empty().then_some("run"),
        };
        if let Some(what) = empty {
            return Err(if node.is_service() {
                PipelineError::EmptyServiceCommand { service: name(), what }
            } else {
                PipelineError::EmptyCommand { step: name(), what }
            });
        }
    }
    Ok(index)
}

/// The nodes `node` runs after, or why its `after` is wrong. `stack`: the pipeline has
/// services, so an unknown name is "not a step or service".
fn resolve_after(
    node: &Node<'_>,
    index: &HashMap<&str, usize>,
    stack: bool,
) -> Result<Vec<usize>, PipelineError> {
    let mut mine: Vec<usize> = Vec::with_capacity(node.after.len());
    for dependency in node.after {
        let culprit = || (node.name.to_owned(), dependency.clone());
        if *dependency == node.name {
            return Err(if node.is_service() {
                PipelineError::ServiceSelfDependency { service: culprit().0 }
            } else {
                PipelineError::SelfDependency { step: culprit().0 }
            });
        }
        let Some(&target) = index.get(dependency.as_str()) else {
            let (name, dependency) = culprit();
            return Err(if stack {
                PipelineError::UnknownStackDependency { kind: node.kind, name, dependency }
            } else {
                PipelineError::UnknownDependency { step: name, dependency }
            });
        };
        if mine.contains(&target) {
            let (name, dependency) = culprit();
            return Err(if node.is_service() {
                PipelineError::ServiceDuplicateDependency { service: name, dependency }
            } else {
                PipelineError::DuplicateDependency { step: name, dependency }
            });
        }
        mine.push(target);
    }
    Ok(mine)
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
