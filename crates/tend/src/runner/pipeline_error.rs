//! [`PipelineError`]: why steps and services cannot run as written, naming the culprit and
//! its kind.

use std::fmt;

/// Whether a node of a pipeline's graph is a step or a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// A one-shot step.
    Step,
    /// A long-running service.
    Service,
}

impl NodeKind {
    /// `step` or `service`.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Step => "step",
            NodeKind::Service => "service",
        }
    }
}

impl fmt::Display for NodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Why a list of steps (and services) is not a valid pipeline. Each variant names the
/// culprit; the variants about services name them as services.
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
    /// A step waits for a step that does not exist (in a pipeline without services; see
    /// [`UnknownStackDependency`](Self::UnknownStackDependency) for a stack).
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
    /// The dependencies of steps form a cycle, so none of its steps could ever start.
    #[error("dependency cycle: {} (each step runs after the next)", .cycle.join(" -> "))]
    Cycle {
        /// The steps around the cycle; the first is repeated at the end.
        cycle: Vec<String>,
    },
    /// A service has an empty name.
    #[error("service #{index} has an empty name")]
    EmptyServiceName {
        /// Its position among the services in declaration order, from 1.
        index: usize,
    },
    /// Two services have the same name.
    #[error("service `{name}` is defined twice")]
    DuplicateService {
        /// The name.
        name: String,
    },
    /// A step and a service have the same name.
    #[error("`{name}` is both a step and a service")]
    StepAndService {
        /// The name.
        name: String,
    },
    /// A service has an empty program or script.
    #[error("service `{service}` has an empty {what}")]
    EmptyServiceCommand {
        /// The service.
        service: String,
        /// `command` or `run`.
        what: &'static str,
    },
    /// A step or service of a stack (a pipeline with services) waits for a name that is
    /// neither a step nor a service.
    #[error("{kind} `{name}` runs after `{dependency}`, which is not a step or service")]
    UnknownStackDependency {
        /// Whether the culprit is a step or a service.
        kind: NodeKind,
        /// The step or service.
        name: String,
        /// The name it gave.
        dependency: String,
    },
    /// A service waits for itself.
    #[error("service `{service}` runs after itself")]
    ServiceSelfDependency {
        /// The service.
        service: String,
    },
    /// A service names the same dependency twice.
    #[error("service `{service}` lists `{dependency}` twice in `after`")]
    ServiceDuplicateDependency {
        /// The service.
        service: String,
        /// The repeated name.
        dependency: String,
    },
    /// The dependencies form a cycle through at least one service, so none of its steps and
    /// services could ever start.
    #[error(
        "dependency cycle: {} (each runs after the next; {})",
        .cycle.join(" -> "),
        services_in(.services)
    )]
    StackCycle {
        /// The steps and services around the cycle; the first is repeated at the end.
        cycle: Vec<String>,
        /// Which of them are services, in the cycle's order.
        services: Vec<String>,
    },
}

/// "`db` is a service", "`db` and `web` are services".
fn services_in(services: &[String]) -> String {
    let quoted: Vec<String> = services.iter().map(|s| format!("`{s}`")).collect();
    match quoted.as_slice() {
        [one] => format!("{one} is a service"),
        [init @ .., last] => format!("{} and {last} are services", init.join(", ")),
        [] => "no service".to_owned(),
    }
}
