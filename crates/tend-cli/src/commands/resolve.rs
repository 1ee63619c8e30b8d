//! Which process or project service a NAME of `tend restart|stop|start NAME...` means.
//!
//! A NAME is a process id, a unique id prefix (4 characters or more), a process name, a
//! service name, or `PROJECT/NAME`. It is looked up in one snapshot of the daemon
//! (`GET /projects` and `GET /processes`), in the daemon's own order: `PROJECT/NAME`, then a
//! full id, then an id prefix, then a name. A service's process is the service: its id names
//! the service, and its name is the service's name (not a second match). A NAME that more than
//! one service, or a service and an ad-hoc process, answer to is an error listing them all,
//! never an action on one of them.

use tend::ProcessInfo;
use tend::wire::ProjectInfo;

use crate::client::{Client, NO_BODY};

/// The label that names a process's project (as `ps` shows it).
const PROJECT_LABEL: &str = "project";
/// The shortest id prefix the daemon takes.
const MIN_PREFIX: usize = 4;

/// What a NAME stands for.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// A service of a project: the `/projects/{project}/services/{service}/…` routes.
    Service {
        /// The project's name.
        project: String,
        /// The service's name.
        service: String,
        /// Its process as the snapshot saw it (null before it first started).
        process: Option<Box<ProcessInfo>>,
    },
    /// An ad-hoc process: the `/processes/{key}/…` routes.
    Process {
        /// Its full id when the snapshot knew it; else the NAME as typed, for the daemon to
        /// resolve (and to report as not found, evicted or ambiguous in its own words).
        key: String,
        /// Its record as the snapshot saw it, when found.
        info: Option<Box<ProcessInfo>>,
    },
}

/// One look at the daemon's projects and processes.
#[derive(Debug)]
pub(crate) struct Snapshot {
    projects: Vec<ProjectInfo>,
    processes: Vec<ProcessInfo>,
}

/// Which lookup matched, in the order they are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tier {
    ProjectName,
    Id,
    Prefix,
    Name,
}

/// One thing a NAME matched, before the decision.
#[derive(Debug, Clone)]
enum Candidate<'a> {
    Service { project: &'a str, service: &'a str, process: Option<&'a ProcessInfo> },
    Process(&'a ProcessInfo),
}

impl Candidate<'_> {
    /// How the error for an ambiguous NAME lists it.
    fn describe(&self) -> String {
        match self {
            Candidate::Service { project, service, .. } => format!("{project}/{service} (service)"),
            Candidate::Process(info) => format!("{} (process)", info.id),
        }
    }

    fn into_target(self) -> Target {
        match self {
            Candidate::Service { project, service, process } => Target::Service {
                project: project.to_owned(),
                service: service.to_owned(),
                process: process.cloned().map(Box::new),
            },
            Candidate::Process(info) => {
                Target::Process { key: info.id.to_string(), info: Some(Box::new(info.clone())) }
            }
        }
    }
}

impl Snapshot {
    /// Reads the projects and every process record (finished ones too: a name must be
    /// unique among all of them, as the daemon requires).
    pub(crate) async fn fetch(client: &Client) -> anyhow::Result<Self> {
        let projects: Vec<ProjectInfo> = client.call("GET", "/projects", NO_BODY).await?;
        let processes: Vec<ProcessInfo> = client.call("GET", "/processes", NO_BODY).await?;
        Ok(Self { projects, processes })
    }

    /// What `name` stands for; see the module docs. An error names `name` and, when it is
    /// ambiguous, everything it matched. A NAME that matches nothing is left to the daemon
    /// (`info` none), which tells a dropped record from one that never was.
    pub(crate) fn resolve(&self, name: &str) -> anyhow::Result<Target> {
        let (tier, matches) = self.candidates(name);
        let services = matches.iter().filter(|c| matches!(c, Candidate::Service { .. })).count();
        match matches.as_slice() {
            [] => Ok(Target::Process { key: name.to_owned(), info: None }),
            [only] => Ok(only.clone().into_target()),
            // Ad-hoc processes only: the library's own words.
            several if services == 0 => Err(match tier {
                Tier::Prefix => tend::Error::Ambiguous(name.to_owned()),
                _ => tend::Error::AmbiguousName {
                    name: name.to_owned(),
                    ids: several
                        .iter()
                        .filter_map(|c| match c {
                            Candidate::Process(info) => Some(info.id),
                            Candidate::Service { .. } => None,
                        })
                        .collect(),
                },
            }
            .into()),
            several => {
                let listed: Vec<String> = several.iter().map(Candidate::describe).collect();
                anyhow::bail!(
                    "name `{name}` matches {} processes and services: {}; use PROJECT/NAME or an id",
                    several.len(),
                    listed.join(", ")
                )
            }
        }
    }

    /// What `name` matches, in the first of the daemon's tiers that matches anything.
    fn candidates(&self, name: &str) -> (Tier, Vec<Candidate<'_>>) {
        if let Some((project, service)) = name.split_once('/') {
            let found: Vec<Candidate<'_>> =
                self.services().filter(|c| is_service(c, project, service)).collect();
            if !found.is_empty() {
                return (Tier::ProjectName, found);
            }
        }
        let by_id = |exact: bool| -> Vec<Candidate<'_>> {
            self.processes
                .iter()
                .filter(|info| {
                    let id = info.id.to_string();
                    if exact { id == name } else { id.starts_with(name) }
                })
                .map(|info| self.owner(info))
                .collect()
        };
        let exact = by_id(true);
        if !exact.is_empty() {
            return (Tier::Id, exact);
        }
        if name.len() >= MIN_PREFIX {
            let prefixed = by_id(false);
            if !prefixed.is_empty() {
                return (Tier::Prefix, prefixed);
            }
        }
        let services = self.services().filter(|c| is_named(c, name));
        let processes = self
            .processes
            .iter()
            .filter(|info| info.name.as_deref() == Some(name) && !is_project_process(info))
            .map(Candidate::Process);
        (Tier::Name, services.chain(processes).collect())
    }

    /// Every service of every project.
    fn services(&self) -> impl Iterator<Item = Candidate<'_>> {
        self.projects.iter().flat_map(|project| {
            project.services.iter().map(move |service| Candidate::Service {
                project: &project.name,
                service: &service.name,
                process: service.process.as_ref(),
            })
        })
    }

    /// The service whose current process `info` is, else the process itself.
    fn owner<'a>(&'a self, info: &'a ProcessInfo) -> Candidate<'a> {
        self.services()
            .find(|c| matches!(c, Candidate::Service { process: Some(p), .. } if p.id == info.id))
            .unwrap_or(Candidate::Process(info))
    }
}

/// Whether `info` was started for a project (now or earlier): its name is a service's, which
/// the project's entry stands for.
fn is_project_process(info: &ProcessInfo) -> bool {
    info.labels.contains_key(PROJECT_LABEL)
}

fn is_service(candidate: &Candidate<'_>, project_name: &str, service_name: &str) -> bool {
    matches!(candidate, Candidate::Service { project, service, .. }
        if *project == project_name && *service == service_name)
}

fn is_named(candidate: &Candidate<'_>, name: &str) -> bool {
    matches!(candidate, Candidate::Service { service, .. } if *service == name)
}
