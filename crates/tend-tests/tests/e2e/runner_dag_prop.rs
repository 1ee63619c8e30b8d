//! The pipeline graph checked against petgraph on random graphs: cyclic graphs are rejected
//! with a real cycle, acyclic ones run every step after all of its dependencies.

use std::collections::HashMap;

use petgraph::algo::is_cyclic_directed;
use petgraph::graph::DiGraph;
use proptest::prelude::*;
use tend::runner::{Pipeline, PipelineError, Step, StepStatus};

use crate::runner_support::{lines_of, run};

/// A random graph: `n` steps and edges `(from, to)` meaning "`from` runs after `to`".
fn graph(max: usize) -> impl Strategy<Value = (usize, Vec<(usize, usize)>)> {
    (1..=max).prop_flat_map(|n| {
        let edges = proptest::collection::vec((0..n, 0..n), 0..=n * 2)
            // Self-loops are a validation error of their own, tested elsewhere.
            .prop_map(|edges| edges.into_iter().filter(|(a, b)| a != b).collect());
        (Just(n), edges)
    })
}

/// The edges without repeats, in first-seen order (repeats are a validation error of their own).
fn dedup(edges: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut unique = Vec::new();
    for edge in edges {
        if !unique.contains(edge) {
            unique.push(*edge);
        }
    }
    unique
}

fn steps(n: usize, edges: &[(usize, usize)], script: impl Fn(&str) -> String) -> Vec<Step> {
    (0..n)
        .map(|i| {
            let name = format!("s{i}");
            let after = edges.iter().filter(|(from, _)| *from == i).map(|(_, to)| format!("s{to}"));
            Step::script(&name, script(&name)).after(after)
        })
        .collect()
}

fn oracle(n: usize, edges: &[(usize, usize)]) -> DiGraph<(), ()> {
    let mut graph = DiGraph::new();
    let nodes: Vec<_> = (0..n).map(|_| graph.add_node(())).collect();
    for &(from, to) in edges {
        graph.add_edge(nodes[from], nodes[to], ());
    }
    graph
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Validation alone, on many graphs: a pipeline is rejected exactly when petgraph finds a
    /// cycle, and the cycle it names is made of real edges and closes on itself.
    #[test]
    fn cycles_are_rejected_exactly_when_petgraph_finds_one((n, edges) in graph(12)) {
        let edges = dedup(&edges);
        let cyclic = is_cyclic_directed(&oracle(n, &edges));
        match Pipeline::new(steps(n, &edges, |_| "true".into())) {
            Ok(_) => prop_assert!(!cyclic, "a cyclic graph was accepted: {edges:?}"),
            Err(PipelineError::Cycle { cycle }) => {
                prop_assert!(cyclic, "an acyclic graph was rejected: {edges:?}");
                prop_assert!(cycle.len() >= 3, "{cycle:?}");
                prop_assert_eq!(cycle.first(), cycle.last());
                let index = |name: &String| name[1..].parse::<usize>().unwrap();
                for pair in cycle.windows(2) {
                    let edge = (index(&pair[0]), index(&pair[1]));
                    prop_assert!(edges.contains(&edge), "{:?} is not an edge of {:?}", edge, edges);
                }
            }
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }
}

proptest! {
    // Each case runs real processes, so fewer cases.
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// On acyclic graphs every step runs, and starts only after each of its dependencies
    /// ended, as the steps themselves log it.
    #[test]
    fn acyclic_graphs_run_every_step_after_its_dependencies((n, edges) in graph(8)) {
        // Keep only edges to lower indices: always acyclic, still any DAG shape.
        let edges: Vec<_> = dedup(&edges).into_iter().filter(|(from, to)| from > to).collect();
        prop_assume!(!is_cyclic_directed(&oracle(n, &edges)));
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let script = |_: &str| {
            format!("echo \"start $0\" >> '{l}'; sleep 0.0$((RANDOM % 5)); echo \"end $0\" >> '{l}'", l = log.display())
        };
        let pipeline_steps = steps(n, &edges, script);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let report = runtime.block_on(run(pipeline_steps));
        prop_assert!(report.steps.iter().all(|s| s.status == StepStatus::Passed), "{report:#?}");

        let position: HashMap<String, usize> =
            lines_of(&log).into_iter().enumerate().map(|(i, line)| (line, i)).collect();
        prop_assert_eq!(position.len(), 2 * n, "every step logged its start and end once");
        for &(from, to) in &edges {
            let started = position[&format!("start s{from}")];
            let dependency_ended = position[&format!("end s{to}")];
            prop_assert!(dependency_ended < started, "s{} started before s{} ended", from, to);
        }
    }
}
