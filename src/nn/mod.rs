//! Neural networks for the labs: a small sequential graph of layers on `ndarray`, each with its
//! forward and backward pass, serialisable with its weights.
//!
//! Every layer maps 1:1 to a TensorFlow Lite builtin op and keeps TFLite's weight layouts (NHWC
//! activations, `[units, in]` fully connected, OHWI convolutions, `[1, kh, kw, c]` depthwise), so
//! quantization and `.tflite` export are copies, not conversions.
//!
//! Invariant: `nn` is pure computation: no IO, no egui, no long-lived threads, no global state.
//! Randomness (initialisation, dropout) comes only from the caller's seeded [`crate::rng::Rng`].

pub mod anomaly;
pub mod augment;
pub mod detection;
pub mod fold;
pub mod layers;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod optim;
pub mod spec;
pub mod train;

pub use layers::{Layer, Padding};
pub use model::{Gradients, LayerSummary, Model, Trace};
pub use spec::Preset;

/// A batch of activations, batch first. Per-sample shapes are `[features]`, `[W, C]` (1-D
/// signals) or `[H, W, C]` (images, NHWC).
pub type Tensor = ndarray::ArrayD<f32>;

/// What can go wrong building, running or training a model. Each variant names the layer (or the
/// file part) and the values involved, so the message says what to change.
#[derive(thiserror::Error, Debug, Clone, PartialEq)]
pub enum NnError {
    /// A tensor reaching a layer has a shape the layer cannot take.
    #[error("{layer}: expected input {expected}, got {got:?}")]
    Shape {
        /// The layer, as `Layer::name` prints it (e.g. "conv1d 8×3 same").
        layer: String,
        /// What the layer accepts, in words (e.g. "[N, W, C]").
        expected: String,
        /// The shape it was given (batch first).
        got: Vec<usize>,
    },
    /// A weight vector of a built model has the wrong length for its layer and input.
    #[error("{layer}: {what} has {got} values, expected {expected}")]
    Weights {
        /// The layer, as `Layer::name` prints it.
        layer: String,
        /// Which parameter ("weights", "bias", "gamma", ...).
        what: String,
        /// The length its hyper-parameters and input shape call for.
        expected: usize,
        /// The length it has.
        got: usize,
    },
    /// A preset or model description is invalid (bad hyper-parameter, unknown field, TOML error).
    #[error("model specification: {0}")]
    Spec(String),
    /// Training data do not fit the model or each other (for the trainer and the engine).
    #[error("training data: {0}")]
    Data(String),
}
