//! The edges the scheduler follows in each [`Mode`], over the nodes of a pipeline (its steps,
//! then its services).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::graph::Pipeline;
use super::spec::Mode;

/// `edges[node]`: the nodes `node` waits for in `mode`.
///
/// * Dag: its own `after`.
/// * Sequential: the node before it in [`sequential_order`] — one item at a time.
/// * Parallel: none.
pub(super) fn edges(pipeline: &Pipeline, mode: Mode) -> Vec<Vec<usize>> {
    let deps = pipeline.deps();
    match mode {
        Mode::Dag => deps.to_vec(),
        Mode::Sequential => {
            let order = sequential_order(deps, &pipeline.declaration_rank());
            let mut edges = vec![Vec::new(); deps.len()];
            for pair in order.windows(2) {
                edges[pair[1]].push(pair[0]);
            }
            edges
        }
        Mode::Parallel => vec![Vec::new(); deps.len()],
    }
}

/// A stable topological order of `deps` (which has no cycle): every node after the nodes it
/// runs after, and among the nodes free to go, the first declared first (`rank[node]`: its
/// place in declaration order). When declaration order already respects `after`, this is
/// declaration order.
pub(super) fn sequential_order(deps: &[Vec<usize>], rank: &[usize]) -> Vec<usize> {
    let mut dependents = vec![Vec::new(); deps.len()];
    for (node, mine) in deps.iter().enumerate() {
        for &dependency in mine {
            dependents[dependency].push(node);
        }
    }
    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut free: BinaryHeap<Reverse<(usize, usize)>> =
        (0..deps.len()).filter(|&i| waiting[i] == 0).map(|i| Reverse((rank[i], i))).collect();
    let mut order = Vec::with_capacity(deps.len());
    while let Some(Reverse((_, node))) = free.pop() {
        order.push(node);
        for &dependent in &dependents[node] {
            waiting[dependent] -= 1;
            if waiting[dependent] == 0 {
                free.push(Reverse((rank[dependent], dependent)));
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_order_is_declaration_order_where_after_allows() {
        // 0 after 2; 1 free; 2 free; 3 after 0.
        let deps = vec![vec![2], vec![], vec![], vec![0]];
        let declared = [0, 1, 2, 3];
        assert_eq!(sequential_order(&deps, &declared), [1, 2, 0, 3]);
        let in_order = vec![vec![], vec![0], vec![], vec![1, 2]];
        assert_eq!(sequential_order(&in_order, &declared), [0, 1, 2, 3]);
    }

    #[test]
    fn services_declared_first_go_first_where_after_allows() {
        // Steps 0 and 1 (1 after service 3), services 2 and 3, the services declared first.
        let deps = vec![vec![], vec![3], vec![], vec![]];
        assert_eq!(sequential_order(&deps, &[2, 3, 0, 1]), [2, 3, 0, 1]);
        assert_eq!(sequential_order(&deps, &[0, 1, 2, 3]), [0, 2, 3, 1]);
    }
}
