//! What a graph costs to run, read off the graph itself: multiply-accumulates, operators, the
//! tensor arena a TFLM-style planner needs, and the bytes of constant data.
//!
//! The arena is the peak, over the operators in execution order, of the bytes of activation
//! tensors alive at that operator (a tensor lives from the operator that writes it, or the start
//! for a graph input, to the last operator that reads it, or the end for a graph output), each
//! rounded up to TFLM's 16-byte alignment. TFLM's greedy planner packs the same lifetimes into
//! one buffer and reaches this peak or a little more when the sizes do not tile.

use std::collections::BTreeSet;

use crate::quant::{Graph, OpKind, QuantError};

/// Figures of one graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphStats {
    /// Multiply-accumulates per inference (convolutions, depthwise convolutions, fully connected).
    pub macs: u64,
    /// Operators.
    pub operators: usize,
    /// Distinct operator kinds.
    pub operator_kinds: usize,
    /// Peak bytes of live activations (see the module doc).
    pub arena_bytes: u64,
    /// Bytes of constant tensors (weights, biases, shapes).
    pub weights_bytes: u64,
}

/// TFLM aligns every tensor in the arena to 16 bytes.
const ARENA_ALIGNMENT: u64 = 16;

/// The figures of `graph`.
pub fn graph_stats(graph: &Graph) -> Result<GraphStats, QuantError> {
    let mut macs = 0u64;
    let mut kinds = BTreeSet::new();
    for op in &graph.operators {
        kinds.insert(op.kind.name());
        macs += op_macs(graph, op)?;
    }
    let weights_bytes = graph
        .tensors
        .iter()
        .filter(|t| t.is_constant())
        .map(|t| t.data.len() as u64)
        .sum();
    Ok(GraphStats {
        macs,
        operators: graph.operators.len(),
        operator_kinds: kinds.len(),
        arena_bytes: arena_bytes(graph)?,
        weights_bytes,
    })
}

fn op_macs(graph: &Graph, op: &crate::quant::Operator) -> Result<u64, QuantError> {
    let weights = match op.inputs.get(1).copied().flatten() {
        Some(w) => graph.tensor(w)?,
        None => return Ok(0),
    };
    let output: u64 = match op.outputs.first() {
        Some(&o) => graph.tensor(o)?.element_count() as u64,
        None => return Ok(0),
    };
    Ok(match op.kind {
        // Each output value is a dot product over one filter's [kh, kw, c] (or one unit's row).
        OpKind::Conv2d { .. } | OpKind::FullyConnected { .. } => {
            let per_filter: usize = weights.shape.iter().skip(1).product();
            output * per_filter as u64
        }
        // Each output value sums kh × kw taps of its own channel.
        OpKind::DepthwiseConv2d { .. } => {
            let taps: usize = weights.shape.iter().skip(1).take(2).product();
            output * taps as u64
        }
        _ => 0,
    })
}

/// `(first, last)` operator index at which each tensor is alive, by tensor index (`None` for a
/// tensor no operator touches): from the operator that writes it (0 for a graph input) to the
/// last one that reads it (the last operator for a graph output). Constants get spans too; the
/// arena ignores them.
pub fn tensor_lifetimes(graph: &Graph) -> Vec<Option<(usize, usize)>> {
    let ops = graph.operators.len();
    let mut life: Vec<Option<(usize, usize)>> = vec![None; graph.tensors.len()];
    let mut touch = |index: usize, at: usize| {
        if let Some(slot) = life.get_mut(index) {
            *slot = Some(match *slot {
                Some((first, last)) => (first.min(at), last.max(at)),
                None => (at, at),
            });
        }
    };
    for &i in &graph.inputs {
        touch(i, 0);
    }
    for (at, op) in graph.operators.iter().enumerate() {
        for &i in op.inputs.iter().flatten().chain(&op.outputs) {
            touch(i, at);
        }
    }
    for &o in &graph.outputs {
        touch(o, ops.saturating_sub(1));
    }
    life
}

fn arena_bytes(graph: &Graph) -> Result<u64, QuantError> {
    let ops = graph.operators.len();
    let life = tensor_lifetimes(graph);
    let mut peak = 0u64;
    for at in 0..ops.max(1) {
        let mut live = 0u64;
        for (index, span) in life.iter().enumerate() {
            let tensor = graph.tensor(index)?;
            if tensor.is_constant() {
                continue;
            }
            if let Some((first, last)) = span
                && (*first..=*last).contains(&at)
            {
                let bytes = (tensor.element_count() * tensor.dtype.size_bytes()) as u64;
                live += bytes.div_ceil(ARENA_ALIGNMENT) * ARENA_ALIGNMENT;
            }
        }
        peak = peak.max(live);
    }
    Ok(peak)
}
