//! Pipelines and stacks: steps and services with dependencies, run as a graph, in order, or
//! all at once.
//!
//! A [`Pipeline`] is a list of [`Step`]s — each a program or a bash script, with its working
//! directory, environment, timeout, retries and the steps it runs `after` — and, for a
//! stack, of [`ServiceSpec`]s (long-running processes, see "Services" below), checked before
//! anything runs. A [`Runner`] runs it as managed processes of a [`Service`] and returns a
//! [`Report`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use tend::Service;
//! use tend::runner::{Pipeline, Runner, Step};
//!
//! let pipeline = Pipeline::new(vec![
//!     Step::command("build", "cargo").arg("build"),
//!     Step::command("lint", "cargo").arg("clippy"),
//!     Step::script("test", "cargo test 2>&1 | tail -n 20").after(["build"]),
//!     Step::script("docs", "cargo doc --no-deps").after(["build"]).allow_failure(true),
//! ])?;
//! let report = Runner::new(Service::new()).jobs(2).run(&pipeline).await;
//! println!("{} steps in {:.1?}", report.steps.len(), report.duration());
//! assert!(report.success);
//! # Ok(()) }
//! ```
//!
//! # Scheduling
//!
//! * [`Mode::Dag`] (the default) starts each step the moment every step in its `after` has
//!   passed (or failed with `allow_failure`) and every service in it is ready. There are no
//!   waves: a step never waits for an unrelated slow step.
//! * [`Mode::Sequential`] runs one item at a time and stops at the first failure that is not
//!   allowed. The order is declaration order where `after` allows it: a stable topological
//!   order of `after`, ties in declaration order (steps before services). Each item starts
//!   once the one before has passed (a step) or is ready (a service).
//! * [`Mode::Parallel`] starts everything at once and ignores `after`.
//!
//! [`Runner::jobs`] bounds how many steps run at once in every mode; ready steps queue in
//! declaration order. A step waiting to retry keeps its slot. Services take no slot. Without
//! it, the open-file limit does (a sixth of [`open_file_limit`](crate::open_file_limit)), so
//! ten thousand steps queue instead of failing with EMFILE.
//!
//! # Failure
//!
//! The transitive dependents of a failed (or timed-out) step are `skipped`, each naming the
//! failed step in [`StepReport::blocked_by`]; the rest of the graph goes on. A failing step
//! with `allow_failure` is reported as `allowed_failure` and blocks nothing. With
//! [`Runner::fail_fast`], the first failure stops the run: nothing new starts, running steps
//! are shut down gracefully and reported `cancelled`, the rest `skipped` (services not started
//! `cancelled`).
//!
//! # Services
//!
//! A [`ServiceSpec`] is a process meant to keep running: a database, a web server, a worker.
//! It starts like a step, when everything in its `after` allows, and it is **ready** when its
//! [`ready`](ServiceSpec::ready) probe succeeds (at once without one). What runs `after` a
//! service waits for that readiness, not for its end; steps and services may each run after
//! either kind, and names are unique across both. A service that ends for good without ever
//! having been ready (it failed, was not ready in time, exited, or could not start) makes its
//! transitive dependents `skipped`, [`ServiceReport::blocked_by`] naming it. Once ready it
//! frees its dependents for good: a restart (by its [`restart`](ServiceSpec::restart) policy)
//! goes through the probe again but restarts nothing that depends on it.
//!
//! A run with services ends when no step runs and every service has ended for good — which
//! for a server is never, until the run's **shutdown**. The shutdown begins when the
//! cancellation token fires, with [`Runner::exit_after_steps`] once every step has its
//! outcome, with [`Runner::stop_when_a_service_ends`] once a service has ended for good
//! ([`Report::ended_by`] names it), or with [`Runner::fail_fast`] at the first failure. Then
//! running steps are cancelled, services not started are `cancelled`, nothing restarts, and
//! each running service is sent its [`stop_signal`](ServiceSpec::stop_signal) — then its
//! [`grace`](ServiceSpec::grace), then SIGKILL of its process group — only once nothing that
//! depends on it (directly or through other steps and services) still runs: **reverse
//! dependency order**, the web server before the database. [`Report::success`] holds when the
//! steps succeeded and every service ended `stopped` or `exited`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use tend::Service;
//! use tend::probe::{Probe, Readiness};
//! use tend::runner::{Pipeline, Runner, ServiceSpec, Step};
//!
//! let stack = Pipeline::with_services(
//!     vec![
//!         Step::command("migrate", "./migrate").after(["db"]),
//!         Step::script("integration", "cargo test --test api").after(["api"]),
//!     ],
//!     vec![
//!         ServiceSpec::command("db", "postgres")
//!             .args(["-D", "data", "-p", "5432"])
//!             .ready(Readiness::new(Probe::tcp("127.0.0.1:5432")?).timeout(Duration::from_secs(30))),
//!         ServiceSpec::script("api", "exec ./api --port 8080")
//!             .after(["migrate"])
//!             .ready(Readiness::new(Probe::exec("curl -fs http://127.0.0.1:8080/health")?)),
//!     ],
//! )?;
//! // Start db, migrate once it accepts connections, start the API, run the tests once it
//! // answers, then stop the API and then the database.
//! let report = Runner::new(Service::new()).exit_after_steps(true).run(&stack).await;
//! for service in &report.services {
//!     println!("{}: {} (ready after {:?})", service.name, service.status, service.ready_after());
//! }
//! std::process::exit(if report.success { 0 } else { 1 });
//! # }
//! ```
//!
//! # Cancellation
//!
//! When the [`CancellationToken`] given to [`Runner::cancel_token`] fires, running steps are
//! shut down gracefully — SIGTERM to their whole process group, their `grace`, then SIGKILL —
//! steps and services not started yet are `cancelled`, and services are stopped in reverse
//! dependency order (see "Services"). `run` returns once every step's and service's process
//! group is gone.
//!
//! # Caveats
//!
//! * Validation is the same in every mode: a cycle is an error even in parallel mode, where
//!   `after` is otherwise ignored.
//! * A step's [`output`](StepReport::output) is its last attempt's, as far as the capture ring
//!   (1 MiB) held. Live output is on the service's event bus: each attempt is a managed process
//!   named after its step ([`StepEvent::Started`] gives its id).
//! * Dropping the future returned by [`Runner::run`] kills the process groups of running steps
//!   and services at once (SIGKILL, no grace). Cancel through the token for a graceful stop.
//! * The shutdown order follows the declared `after` in every mode, also in parallel mode
//!   where `after` does not order the starts.
//! * When two failed steps block the same step, which one [`StepReport::blocked_by`] names
//!   depends on which failure was seen first.
//! * A token that has fired stays fired: a runner given one cancels every later run at once.

mod decode;
#[cfg(feature = "files")]
mod document;
mod env_file;
// Tests of `env` and `env_file` in pipeline files.
#[cfg(all(test, feature = "files"))]
mod env_file_tests;
mod execute;
#[cfg(feature = "files")]
mod file;
mod graph;
// Tests of the graph's validation.
#[cfg(test)]
mod graph_tests;
#[cfg(feature = "files")]
mod json;
mod order;
mod pipeline_error;
#[cfg(feature = "files")]
mod probe_schema;
#[cfg(feature = "files")]
mod procfile;
// Tests of Procfiles.
#[cfg(feature = "files")]
mod file_json;
#[cfg(all(test, feature = "files"))]
mod procfile_tests;
mod report;
mod scheduler;
mod schema;
mod service_report;
#[cfg(feature = "files")]
mod service_schema;
// Tests of `[services.NAME]` in pipeline files.
#[cfg(all(test, feature = "files"))]
mod service_file_tests;
// Tests of the errors of `[services.NAME]`.
#[cfg(all(test, feature = "files"))]
mod service_error_tests;
mod service_spec;
#[cfg(feature = "files")]
mod service_values;
mod settle;
mod shutdown;
mod spec;
// Stacks of steps and services, run for real.
#[cfg(test)]
mod stack_tests;
mod supervise;
// Tests of the pipeline files.
#[cfg(all(test, feature = "files"))]
mod tests;
mod values;

use std::fmt;
use std::sync::Arc;

pub use decode::steps_from;
pub use execute::StepEvent;
#[cfg(feature = "yaml_serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "yaml_serde")))]
pub use file::parse_yaml;
#[cfg(feature = "files")]
#[cfg_attr(docsrs, doc(cfg(feature = "files")))]
pub use file::{FileError, MAX_FILE_SIZE, is_procfile, load, parse_toml};
#[cfg(feature = "files")]
#[cfg_attr(docsrs, doc(cfg(feature = "files")))]
pub use file_json::{load_json, toml_json};
pub use graph::Pipeline;
#[cfg(feature = "files")]
#[cfg_attr(docsrs, doc(cfg(feature = "files")))]
pub use json::from_json;
pub use pipeline_error::{NodeKind, PipelineError};
#[cfg(feature = "files")]
#[cfg_attr(docsrs, doc(cfg(feature = "files")))]
pub use probe_schema::{ALIVE_KEYS, READY_KEYS};
#[cfg(feature = "files")]
#[cfg_attr(docsrs, doc(cfg(feature = "files")))]
pub use procfile::PROCFILE_BASE_PORT;
pub use report::{Report, StepReport, StepStatus, Totals};
pub use schema::STEP_KEYS;
pub use service_report::{ServiceReport, ServiceStatus};
#[cfg(feature = "files")]
#[cfg_attr(docsrs, doc(cfg(feature = "files")))]
pub use service_schema::SERVICE_KEYS;
pub use service_spec::{
    DEFAULT_LOG_KEEP, DEFAULT_LOG_MAX_SIZE, DEFAULT_SERVICE_GRACE, ServiceLog, ServiceSpec,
};
pub use spec::{DEFAULT_RETRY_DELAY, Mode, SCRIPT_SHELL, Step, StepCommand, UnknownMode};

use crate::{CancellationToken, Service};

/// Runs [`Pipeline`]s as managed processes of a [`Service`].
///
/// Settings are chained; a runner is cheap to clone and can run any number of pipelines.
///
/// ```no_run
/// # async fn demo(pipeline: tend::runner::Pipeline) {
/// use tend::Service;
/// use tend::CancellationToken;
/// use tend::runner::{Mode, Runner, StepEvent};
///
/// let cancel = CancellationToken::new();
/// let runner = Runner::new(Service::new())
///     .mode(Mode::Dag)
///     .jobs(4)
///     .fail_fast(true)
///     .cancel_token(cancel.clone())
///     .on_event(|event| {
///         if let StepEvent::Finished(step) = event {
///             eprintln!("{}: {}", step.name, step.status);
///         }
///     });
/// // Elsewhere, e.g. on Ctrl-C: `cancel.cancel()`.
/// let report = runner.run(&pipeline).await;
/// std::process::exit(if report.success { 0 } else { 1 });
/// # }
/// ```
#[derive(Clone)]
pub struct Runner {
    service: Service,
    mode: Mode,
    jobs: Option<usize>,
    fail_fast: bool,
    cancel: CancellationToken,
    observer: Option<execute::Observer>,
    /// Labels added to every step's process.
    labels: Vec<(String, String)>,
    /// The label key under which each step's process carries its step's name.
    step_label: Option<String>,
    /// Stop the services once every step has finished.
    exit_after_steps: bool,
    /// Stop every service once one ends for good.
    stop_when_a_service_ends: bool,
}

impl fmt::Debug for Runner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runner")
            .field("mode", &self.mode)
            .field("jobs", &self.jobs)
            .field("fail_fast", &self.fail_fast)
            .field("cancelled", &self.cancel.is_cancelled())
            .field("observer", &self.observer.is_some())
            .field("labels", &self.labels)
            .field("step_label", &self.step_label)
            .field("exit_after_steps", &self.exit_after_steps)
            .field("stop_when_a_service_ends", &self.stop_when_a_service_ends)
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner that starts steps in `service`: DAG mode, no concurrency bound, no
    /// fail-fast, never cancelled.
    pub fn new(service: Service) -> Self {
        Self {
            service,
            mode: Mode::default(),
            jobs: None,
            fail_fast: false,
            cancel: CancellationToken::new(),
            observer: None,
            labels: Vec::new(),
            step_label: None,
            exit_after_steps: false,
            stop_when_a_service_ends: false,
        }
    }

    /// Sets how steps and services are ordered.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Runs at most `jobs` steps at once; 0 (the default) means no bound of its own. Either
    /// way no more run at once than the open-file limit allows (a sixth of it: each step
    /// holds three descriptors, and half is left for the rest), and a start refused for lack
    /// of descriptors waits for a step to end and tries again rather than failing.
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = (jobs > 0).then_some(jobs);
        self
    }

    /// On the first failure (not allowed), starts nothing new and shuts running steps down.
    pub fn fail_fast(mut self, fail_fast: bool) -> Self {
        self.fail_fast = fail_fast;
        self
    }

    /// Cancels runs when `token` fires (see the module's "Cancellation").
    pub fn cancel_token(mut self, token: CancellationToken) -> Self {
        self.cancel = token;
        self
    }

    /// Calls `observer` with every [`StepEvent`] as it happens. It is called from the
    /// runner's tasks, so it must be quick and must not block.
    pub fn on_event(mut self, observer: impl Fn(&StepEvent) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// Once every step has its outcome (at once when there are none), begins the run's
    /// shutdown: services not started yet are `cancelled`, running ones are stopped in
    /// reverse dependency order and end `stopped`. The "start the database and the API, run
    /// the tests, tear down" harness: the report's `success` is then the steps' (unless a
    /// service failed or was skipped before).
    pub fn exit_after_steps(mut self, exit_after_steps: bool) -> Self {
        self.exit_after_steps = exit_after_steps;
        self
    }

    /// When a service ends for good (it exited or failed and is not restarted), begins the
    /// run's shutdown: running steps are cancelled, the other services stopped (in reverse
    /// dependency order), and [`Report::ended_by`] names the service. This is how Procfile
    /// runners (foreman, honcho) behave.
    pub fn stop_when_a_service_ends(mut self, stop: bool) -> Self {
        self.stop_when_a_service_ends = stop;
        self
    }

    /// Labels the process of every step (every attempt) and service (every run) with
    /// `key=value`, beside the `pipeline.step` (`pipeline.service`) and `pipeline.attempt`
    /// labels every step (service) gets. A supervisor running
    /// many pipelines tells their processes apart this way.
    ///
    /// ```no_run
    /// # async fn demo(pipeline: tend::runner::Pipeline) {
    /// let service = tend::Service::new();
    /// let runner = tend::runner::Runner::new(service.clone())
    ///     .label("pipeline", "nightly")
    ///     .step_label("step");
    /// runner.run(&pipeline).await;
    /// let mine = service.list().into_iter().filter(|p| p.labels["pipeline"] == "nightly");
    /// # }
    /// ```
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.push((key.into(), value.into()));
        self
    }

    /// Labels the process of every step and service with `key=<its name>` (see
    /// [`label`](Self::label)).
    pub fn step_label(mut self, key: impl Into<String>) -> Self {
        self.step_label = Some(key.into());
        self
    }

    /// The labels the processes of the step or service `name` get from this runner's
    /// settings.
    fn labels_for(&self, name: &str) -> Vec<(String, String)> {
        let mut labels = self.labels.clone();
        if let Some(key) = &self.step_label {
            labels.push((key.clone(), name.to_owned()));
        }
        labels
    }

    /// The service steps run in.
    pub fn service(&self) -> &Service {
        &self.service
    }

    /// Runs every step and service of `pipeline` as its mode says and reports each, in
    /// declaration order. Needs a Tokio runtime (with the time driver). Returns when no
    /// step's or service's process is left running (see the module's "Services" for when
    /// that is).
    pub async fn run(&self, pipeline: &Pipeline) -> Report {
        scheduler::run(self, pipeline).await
    }
}
