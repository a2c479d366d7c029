//! Quantization and the TensorFlow Lite view of a model: the [`graph::Graph`] that every
//! runtime artefact is made from (see `graph.rs`), the lowering of a trained [`crate::nn::Model`]
//! into it, post-training int8 quantization in TFLite's scheme, and an interpreter with TFLite's
//! reference kernels (float32 and int8), so the int8 accuracy TinyLab shows is the board's.
//!
//! Invariant: `quant` is pure computation: no IO, no egui, no threads, no global state.

pub mod estimate;
pub mod graph;
pub mod interpreter;
pub mod kernels;
pub mod lower;
pub mod npy;
pub mod ptq;
pub mod report;
pub mod stats;

pub use graph::{Activation, DType, Graph, Metadata, OpKind, Operator, Quantization, TensorSpec};

/// What can go wrong lowering, quantizing or running a graph. Messages name the operator or
/// tensor and the values involved.
#[derive(thiserror::Error, Debug, Clone, PartialEq)]
pub enum QuantError {
    /// An operator TinyLab's kernels do not implement (named as TFLite names it).
    #[error(
        "unsupported operator {0}: TinyLab runs RESHAPE, CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, MAX_POOL_2D, AVERAGE_POOL_2D, MEAN, ADD, PAD, SOFTMAX, RELU, RELU6, QUANTIZE and DEQUANTIZE"
    )]
    Unsupported(String),
    /// The graph is inconsistent (bad index, shape, type or quantization parameters).
    #[error("invalid model graph: {0}")]
    Invalid(String),
    /// The input given to the interpreter does not fit the graph's input tensor.
    #[error("input: {0}")]
    Input(String),
    /// A layer of the trained model cannot be lowered or quantized.
    #[error("cannot convert the model: {0}")]
    Model(String),
}
