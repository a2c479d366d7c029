//! Dense (fully connected) layer, TensorFlow Lite FULLY_CONNECTED.
//!
//! Shapes: `x: [N, in]`, `W: [units, in]` (Keras's kernel `[in, units]` transposed, as TFLite
//! stores it), `b: [units]`, `y: [N, units]`.
//!
//! ```text
//! forward    y[n, u] = Σ_i x[n, i] · W[u, i] + b[u]            y = x · Wᵀ + b
//! backward   dx = dy · W,   dW = dyᵀ · x,   db[u] = Σ_n dy[n, u]
//! ```
//! Backward needs the input, which training mode caches.

use super::linalg::{affine_backward, affine_forward};
use super::{Cache, Layer, Mode, ParamGrads, into_values, tensor, values};
use crate::nn::{NnError, Tensor};

/// Forward pass; caches the input when training.
pub(crate) fn forward(
    layer: &Layer,
    weights: &[f32],
    bias: &[f32],
    x: Tensor,
    mode: &Mode<'_>,
) -> Result<(Tensor, Cache), NnError> {
    let &[n, _] = x.shape() else {
        return Err(layer.shape_error(
            "[N, features] (add a flatten layer before dense)",
            x.shape(),
        ));
    };
    let y = affine_forward(&values(&x), n, weights, bias)?;
    let y = tensor(layer, &[n, bias.len()], y)?;
    let cache = mode.keep(|| {
        let shape = x.shape().to_vec();
        Cache::Input {
            values: into_values(x),
            shape,
        }
    });
    Ok((y, cache))
}

/// Backward pass from the cached input: `(dx, [dW, db])`.
pub(crate) fn backward(
    layer: &Layer,
    weights: &[f32],
    x: &[f32],
    x_shape: &[usize],
    dy: Tensor,
    need_dx: bool,
) -> Result<(Option<Tensor>, ParamGrads), NnError> {
    let n = x_shape.first().copied().unwrap_or(0);
    let (dx, d_weights, d_bias) = affine_backward(x, n, weights, &values(&dy), need_dx)?;
    let dx = dx.map(|dx| tensor(layer, x_shape, dx)).transpose()?;
    Ok((dx, vec![d_weights, d_bias]))
}
