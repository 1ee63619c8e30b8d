//! Pipelines that cannot run as written are refused before anything runs, with an error
//! naming the culprit.

use tend::runner::{Pipeline, PipelineError, Step};

fn touch(name: &str, after: &[&str]) -> Step {
    // Would leave a trace if it ever ran; the CLI tests check that nothing does.
    Step::script(name, "touch ran").after(after.iter().copied())
}

fn refused(steps: Vec<Step>) -> (PipelineError, String) {
    let error = Pipeline::new(steps).expect_err("the pipeline is refused");
    let message = error.to_string();
    (error, message)
}

#[test]
fn an_empty_step_name_is_refused_with_its_position() {
    let (error, message) = refused(vec![touch("ok", &[]), touch("", &[])]);
    assert_eq!(error, PipelineError::EmptyName { index: 2 });
    assert_eq!(message, "step #2 has an empty name");
}

#[test]
fn a_duplicate_step_name_is_refused() {
    let (error, message) =
        refused(vec![touch("build", &[]), touch("test", &[]), touch("build", &[])]);
    assert_eq!(error, PipelineError::DuplicateName { name: "build".into() });
    assert_eq!(message, "step `build` is defined twice");
}

#[test]
fn an_unknown_dependency_is_refused_naming_both() {
    let (error, message) = refused(vec![touch("build", &[]), touch("test", &["biuld"])]);
    assert_eq!(
        error,
        PipelineError::UnknownDependency { step: "test".into(), dependency: "biuld".into() }
    );
    assert_eq!(message, "step `test` runs after `biuld`, which is not a step");
}

#[test]
fn a_self_dependency_is_refused() {
    let (error, message) = refused(vec![touch("build", &["build"])]);
    assert_eq!(error, PipelineError::SelfDependency { step: "build".into() });
    assert_eq!(message, "step `build` runs after itself");
}

#[test]
fn a_duplicate_dependency_is_refused() {
    let (error, message) = refused(vec![touch("a", &[]), touch("b", &["a", "a"])]);
    assert_eq!(
        error,
        PipelineError::DuplicateDependency { step: "b".into(), dependency: "a".into() }
    );
    assert_eq!(message, "step `b` lists `a` twice in `after`");
}

#[test]
fn a_cycle_is_refused_and_shown() {
    let (error, message) = refused(vec![
        touch("setup", &[]),
        touch("a", &["setup", "b"]),
        touch("b", &["c"]),
        touch("c", &["a"]),
        touch("d", &["a"]),
    ]);
    assert_eq!(
        error,
        PipelineError::Cycle { cycle: vec!["a".into(), "b".into(), "c".into(), "a".into()] }
    );
    assert_eq!(message, "dependency cycle: a -> b -> c -> a (each step runs after the next)");
}

#[test]
fn an_empty_program_or_script_is_refused() {
    let (_, message) = refused(vec![Step::command("build", "")]);
    assert_eq!(message, "step `build` has an empty command");
    let (_, message) = refused(vec![Step::script("test", " \n")]);
    assert_eq!(message, "step `test` has an empty run");
}
