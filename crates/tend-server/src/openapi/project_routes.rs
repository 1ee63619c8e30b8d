//! The `/projects` routes as the OpenAPI document describes them (beside [`super::routes`]).

use serde_json::json;
use tend::wire::{ProjectApplied, ProjectInfo, ProjectRequest, ProjectServiceInfo};

use super::table::{Failure, Route};

const BAD: Failure = (400, "Malformed body or parameter (named in the message).");
const LARGE: Failure = (413, "Body over 1 MiB.");
const SLOW: Failure = (408, "The body did not arrive within 10 s.");
const NO_PROJECT: Failure = (404, "No such project.");
const NO_SERVICE: Failure = (404, "No such project, or no such service in it.");
const TOO_MANY: Failure = (429, "The most projects a server holds (256) are held.");

fn project(route: Route) -> Route {
    route.path_param("name", "The project's name.")
}

fn service(route: Route) -> Route {
    project(route).path_param("service", "The service's name in the project.")
}

/// The project routes, in the router table's order.
pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::get("/projects", "listProjects", "Projects held by the daemon")
            .answer::<Vec<ProjectInfo>>(200, "Every project by name, services with live status.")
            .fails(&[BAD]),
        Route::post("/projects", "applyProject", "Apply a project: a stack file's services and steps under a name")
            .describe("The file's schema as JSON (`services`, `steps`, `env`, `env_file` with the file's keys and errors) plus `name` and `dir`; or, with `Content-Type: application/toml`, the text of a `tend.toml` (read as `tend up -d` reads it; a bad one is a 400 naming the line) with `name` and `dir` in the query. Each service is one managed process (labels `project`, `service`) restarted by its policy; it starts once what it runs `after` is ready. A project of the same name is changed by difference: removed services stopped, changed ones restarted, unchanged ones untouched.")
            .body::<ProjectRequest>()
            .text_body("application/toml")
            .query_param("name", "With a TOML body: the project's name (required).", json!({ "type": "string", "minLength": 1 }))
            .query_param("dir", "With a TOML body: the absolute directory the file is taken to be in, where relative paths and the services run (default: the daemon's working directory).", json!({ "type": "string" }))
            .answer::<ProjectApplied>(201, "A new project; services may still be starting.")
            .answer::<ProjectApplied>(200, "An existing project changed (or not) by difference.")
            .fails(&[BAD, SLOW, LARGE, TOO_MANY]),
        project(Route::get("/projects/{name}", "getProject", "One project, its services with live status"))
            .answer::<ProjectInfo>(200, "The project.")
            .fails(&[BAD, NO_PROJECT]),
        project(Route::delete("/projects/{name}", "deleteProject", "Take a project down: services stopped in reverse dependency order, steps cancelled, the project forgotten"))
            .answer::<ProjectInfo>(200, "Its final state.")
            .fails(&[BAD, NO_PROJECT]),
        project(Route::post("/projects/{name}/reload", "reloadProject", "Apply a new definition by difference"))
            .describe("Added services are started, removed ones stopped (reverse dependency order), changed ones stopped and started anew (dependency order), unchanged ones untouched (same process, same PID). The body's `name`, if given, must be the path's.")
            .body::<ProjectRequest>()
            .answer::<ProjectApplied>(200, "What was done, one line per service.")
            .fails(&[BAD, SLOW, LARGE, NO_PROJECT]),
        service(Route::post("/projects/{name}/services/{service}/start", "startProjectService", "Start a service that is not running"))
            .answer::<ProjectServiceInfo>(200, "The service (starting).")
            .fails(&[BAD, NO_SERVICE]),
        service(Route::post("/projects/{name}/services/{service}/stop", "stopProjectService", "Stop a service: its stop signal, its grace, SIGKILL"))
            .answer::<ProjectServiceInfo>(200, "The service, stopped.")
            .fails(&[BAD, NO_SERVICE]),
        service(Route::post("/projects/{name}/services/{service}/restart", "restartProjectService", "Restart a service"))
            .answer::<ProjectServiceInfo>(200, "The service (starting again).")
            .fails(&[BAD, NO_SERVICE]),
    ]
}
