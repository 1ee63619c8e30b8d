//! `project.apply`, `project.list`, `project.get`, `project.reload`, `project.delete`,
//! `project.service_start`, `project.service_stop`, `project.service_restart`: the server's
//! projects as typed named actions, so that the `/projects` routes and any other caller
//! share one code path.

use tend::wire::{Empty, ProjectRef, ProjectRequest, ProjectServiceRef};

use super::Projects;
use crate::actions::{ActionError, Actions};

/// Registers the eight actions.
pub(crate) fn register(actions: &Actions, projects: Projects) {
    let on = projects.clone();
    actions.register_typed("project.apply", move |request: ProjectRequest| {
        let projects = on.clone();
        async move { projects.apply(request, false).await }
    });
    let on = projects.clone();
    actions.register_typed("project.reload", move |request: ProjectRequest| {
        let projects = on.clone();
        async move { projects.apply(request, true).await }
    });
    let on = projects.clone();
    actions.register_typed("project.list", move |_: Empty| {
        let list = on.list();
        async move { Ok(list) }
    });
    let on = projects.clone();
    actions.register_typed("project.get", move |ProjectRef { name }| {
        let found = on.get(&name).ok_or(ActionError::Unknown { what: "project".into(), id: name });
        async move { found }
    });
    let on = projects.clone();
    actions.register_typed("project.delete", move |ProjectRef { name }| {
        let projects = on.clone();
        async move { projects.delete(&name).await }
    });
    let on = projects.clone();
    actions.register_typed("project.service_start", move |r: ProjectServiceRef| {
        let projects = on.clone();
        async move { projects.start_service(&r.project, &r.service).await }
    });
    let on = projects.clone();
    actions.register_typed("project.service_stop", move |r: ProjectServiceRef| {
        let projects = on.clone();
        async move { projects.stop_service(&r.project, &r.service).await }
    });
    actions.register_typed("project.service_restart", move |r: ProjectServiceRef| {
        let projects = projects.clone();
        async move { projects.restart_service(&r.project, &r.service).await }
    });
}
