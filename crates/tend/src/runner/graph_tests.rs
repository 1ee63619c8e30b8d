//! Tests of the pipeline graph: validation of steps and services, and cycles.

use super::graph::find_cycle;
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
    assert_eq!(error(vec![step("a", &["zz"])]), "step `a` runs after `zz`, which is not a step");
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

fn service(name: &str, after: &[&str]) -> ServiceSpec {
    ServiceSpec::command(name, "sleep").arg("60").after(after.iter().copied())
}

fn stack_error(steps: Vec<Step>, services: Vec<ServiceSpec>) -> String {
    Pipeline::with_services(steps, services).unwrap_err().to_string()
}

#[test]
fn each_stack_validation_error_names_its_culprit_and_kind() {
    let e = stack_error;
    assert_eq!(
        e(vec![], vec![service("db", &[]), service("", &[])]),
        "service #2 has an empty name"
    );
    assert_eq!(
        e(vec![], vec![service("db", &[]), service("db", &[])]),
        "service `db` is defined twice"
    );
    assert_eq!(
        e(vec![step("db", &[])], vec![service("db", &[])]),
        "`db` is both a step and a service"
    );
    assert_eq!(
        e(vec![], vec![ServiceSpec::script("web", " \n")]),
        "service `web` has an empty run"
    );
    assert_eq!(
        e(vec![], vec![service("db", &[]), service("web", &["dbb"])]),
        "service `web` runs after `dbb`, which is not a step or service"
    );
    assert_eq!(
        e(vec![step("test", &["wbe"])], vec![service("web", &[])]),
        "step `test` runs after `wbe`, which is not a step or service"
    );
    assert_eq!(e(vec![], vec![service("db", &["db"])]), "service `db` runs after itself");
    assert_eq!(
        e(vec![step("migrate", &[])], vec![service("web", &["migrate", "migrate"])]),
        "service `web` lists `migrate` twice in `after`"
    );
}

#[test]
fn a_cycle_through_steps_and_services_is_refused_naming_the_services() {
    let steps = vec![step("setup", &[]), step("migrate", &["db"])];
    let services = vec![service("db", &["web"]), service("web", &["migrate"])];
    let error = Pipeline::with_services(steps, services).unwrap_err();
    assert_eq!(
        error.to_string(),
        "dependency cycle: migrate -> db -> web -> migrate (each runs after the next; `db` and \
         `web` are services)"
    );
    let PipelineError::StackCycle { cycle, services } = error else { panic!("{error:?}") };
    assert_eq!(cycle, ["migrate", "db", "web", "migrate"]);
    assert_eq!(services, ["db", "web"]);
}

#[test]
fn deps_number_the_steps_then_the_services() {
    let stack = Pipeline::with_services(
        vec![step("migrate", &["db"]), step("test", &["web", "migrate"])],
        vec![service("db", &[]), service("web", &["db", "migrate"])],
    )
    .unwrap();
    assert_eq!(stack.deps(), [vec![2], vec![3, 0], vec![], vec![2, 0]]);
    assert_eq!(stack.len(), 2);
    assert_eq!(stack.services().len(), 2);
}
