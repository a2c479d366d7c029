//! Neural networks (issue #3), pure computation on `ndarray`: no IO, no egui, no long-lived
//! threads. This provisional module lists only the training helpers (optimizers, loss, metrics,
//! augmentation, anomaly detection) until the model core is merged in.

pub mod anomaly;
pub mod augment;
pub mod loss;
pub mod metrics;
pub mod optim;

/// A batch-first n-dimensional array of `f32`.
pub type Tensor = ndarray::ArrayD<f32>;

/// What can go wrong in `nn`.
#[derive(thiserror::Error, Debug)]
pub enum NnError {
    /// An array had the wrong shape for the layer or function named.
    #[error("{layer}: expected shape {expected}, got {got:?}")]
    Shape {
        /// The layer or function that rejected the array.
        layer: String,
        /// The shape it wanted, in words.
        expected: String,
        /// The shape it got.
        got: Vec<usize>,
    },
    /// A model specification or preset is invalid.
    #[error("model specification: {0}")]
    Spec(String),
    /// Training or evaluation data (or a setting) is invalid in itself.
    #[error("{0}")]
    Data(String),
}
