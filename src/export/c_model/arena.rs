//! Where each activation tensor lives in the generated code's one static arena, planned at
//! export time.
//!
//! Lifetimes are `quant::stats::tensor_lifetimes` (the same liveness the arena figure of the
//! Optimize panel uses). A RESHAPE's output shares its input's buffer (no copy), so the two
//! tensors form one buffer alive over both lifetimes. Buffers are placed greedily, largest
//! first (TFLM's `GreedyMemoryPlanner`): each at the lowest 16-byte aligned offset where it
//! overlaps no already placed buffer alive at the same time. Inputs and outputs of one operator
//! are alive together, so no kernel ever reads and writes the same bytes.

use crate::quant::stats::tensor_lifetimes;
use crate::quant::{Graph, OpKind};

/// Offsets are multiples of this (TFLM's tensor alignment, so the figures compare).
pub(super) const ALIGNMENT: usize = 16;

/// The arena of one graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ArenaPlan {
    /// Bytes of the arena (the end of the highest buffer).
    pub bytes: usize,
    /// Byte offset of each activation tensor, by tensor index (`None` for constants and tensors
    /// no operator touches).
    pub offsets: Vec<Option<usize>>,
}

/// Plans the arena of `graph`, whose activations are all one byte per element (int8).
pub(super) fn plan_arena(graph: &Graph) -> ArenaPlan {
    let lifetimes = tensor_lifetimes(graph);
    let count = graph.tensors.len();
    // The buffer of each tensor: its own, or (for a RESHAPE output) its input's.
    let mut buffer_of: Vec<usize> = (0..count).collect();
    for op in &graph.operators {
        if let (OpKind::Reshape { .. }, Some(Some(input)), Some(&output)) =
            (&op.kind, op.inputs.first(), op.outputs.first())
        {
            let root = buffer_of.get(*input).copied().unwrap_or(*input);
            let input_is_activation = graph.tensors.get(root).is_some_and(|t| !t.is_constant());
            if input_is_activation && let Some(slot) = buffer_of.get_mut(output) {
                *slot = root;
            }
        }
    }
    // (size, first, last) per buffer, by root tensor index.
    let mut spans: Vec<Option<(usize, usize, usize)>> = vec![None; count];
    for (index, tensor) in graph.tensors.iter().enumerate() {
        let (Some(Some((first, last))), false) = (lifetimes.get(index), tensor.is_constant())
        else {
            continue;
        };
        let root = buffer_of.get(index).copied().unwrap_or(index);
        let size = tensor.element_count() * tensor.dtype.size_bytes();
        if let Some(slot) = spans.get_mut(root) {
            *slot = Some(match *slot {
                Some((s, f, l)) => (s.max(size), f.min(*first), l.max(*last)),
                None => (size, *first, *last),
            });
        }
    }
    let mut order: Vec<(usize, (usize, usize, usize))> = spans
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.map(|s| (i, s)))
        .collect();
    // Largest first; equal sizes by first use, then index, so the plan is deterministic.
    order.sort_by_key(|&(i, (size, first, _))| (std::cmp::Reverse(size), first, i));
    let mut placed: Vec<(usize, usize, usize, usize)> = Vec::new(); // (offset, size, first, last)
    let mut root_offsets: Vec<Option<usize>> = vec![None; count];
    let mut bytes = 0;
    for (root, (size, first, last)) in order {
        let mut busy: Vec<(usize, usize)> = placed
            .iter()
            .filter(|&&(_, _, f, l)| f <= last && first <= l)
            .map(|&(o, s, _, _)| (o, o + s))
            .collect();
        busy.sort_unstable();
        let mut offset = 0;
        for (start, end) in busy {
            if offset + size <= start {
                break;
            }
            offset = offset.max(end.div_ceil(ALIGNMENT) * ALIGNMENT);
        }
        placed.push((offset, size, first, last));
        if let Some(slot) = root_offsets.get_mut(root) {
            *slot = Some(offset);
        }
        bytes = bytes.max(offset + size);
    }
    let offsets = (0..count)
        .map(|i| {
            let tensor = graph.tensors.get(i)?;
            if tensor.is_constant() || lifetimes.get(i).copied().flatten().is_none() {
                return None;
            }
            root_offsets
                .get(buffer_of.get(i).copied().unwrap_or(i))
                .copied()
                .flatten()
        })
        .collect();
    ArenaPlan { bytes, offsets }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::{DType, Operator, TensorSpec};

    fn act(name: &str, len: usize) -> TensorSpec {
        TensorSpec::activation(name, vec![1, len], DType::I8)
    }

    #[test]
    fn a_chain_reuses_dead_buffers_and_reshape_aliases() {
        // x(100) -relu-> a(40) -reshape-> b(40) -relu-> c(100) -relu-> d(8)
        let mut g = Graph::default();
        for (name, len) in [("x", 100), ("a", 40), ("b", 40), ("c", 100), ("d", 8)] {
            g.push_tensor(act(name, len));
        }
        let op = |kind, i, o| Operator {
            kind,
            inputs: vec![Some(i)],
            outputs: vec![o],
        };
        g.operators = vec![
            op(OpKind::Relu, 0, 1),
            op(OpKind::Reshape { new_shape: None }, 1, 2),
            op(OpKind::Relu, 2, 3),
            op(OpKind::Relu, 3, 4),
        ];
        g.inputs = vec![0];
        g.outputs = vec![4];
        let plan = plan_arena(&g);
        assert_eq!(
            plan.offsets[1], plan.offsets[2],
            "reshape shares its buffer"
        );
        // x and c (100 each) never live together, so they share offset 0; a/b (40) sit beside
        // whichever is alive (at 112), d after c.
        assert_eq!(plan.offsets[0], Some(0));
        assert_eq!(plan.offsets[3], Some(0));
        assert_eq!(plan.offsets[1], Some(112));
        assert_eq!(plan.bytes, 152);
        // Tensors alive together never overlap.
        let span =
            |i: usize, len: usize| (plan.offsets[i].unwrap(), plan.offsets[i].unwrap() + len);
        let (c0, c1) = span(3, 100);
        let (d0, _) = span(4, 8);
        assert!(d0 >= c1 || d0 + 8 <= c0);
    }
}
