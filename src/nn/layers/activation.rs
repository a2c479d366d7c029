//! Activations: ReLU, ReLU6 (TFLite RELU, RELU6) and softmax over the last axis (SOFTMAX).
//!
//! ```text
//! relu    y = max(x, 0)               dx = dy · [y > 0]
//! relu6   y = min(max(x, 0), 6)       dx = dy · [0 < y < 6]
//! softmax y_i = e^(x_i − m) / Σ_j e^(x_j − m),  m = max_j x_j
//!         dx_i = y_i · (dy_i − Σ_j dy_j · y_j)
//! ```
//! All three backward passes are functions of the output, which training mode caches. At the
//! kinks (`x = 0`, `x = 6`) the derivative is taken as 0, as TensorFlow does.

use super::{Cache, Layer, Mode, into_values, tensor, values};
use crate::nn::{NnError, Tensor};

/// `max(x, 0)`, or `min(max(x, 0), cap)` when `cap > 0` (ReLU6 with `cap = 6`).
pub(crate) fn relu_forward(mut x: Tensor, cap: f32, mode: &Mode<'_>) -> (Tensor, Cache) {
    if cap > 0.0 {
        x.mapv_inplace(|v| v.clamp(0.0, cap));
    } else {
        x.mapv_inplace(|v| v.max(0.0));
    }
    let cache = mode.keep(|| Cache::Output(x.clone()));
    (x, cache)
}

/// Gradient of [`relu_forward`] from its output `y`.
pub(crate) fn relu_backward(
    layer: &Layer,
    y: &Tensor,
    cap: f32,
    dy: Tensor,
) -> Result<Tensor, NnError> {
    let shape = dy.shape().to_vec();
    let mut dx = into_values(dy);
    let y = values(y);
    if y.len() != dx.len() {
        return Err(layer.shape_error(&format!("a gradient of {} values", y.len()), &shape));
    }
    let upper = if cap > 0.0 { cap } else { f32::INFINITY };
    for (d, &out) in dx.iter_mut().zip(y.iter()) {
        *d = if out > 0.0 && out < upper { *d } else { 0.0 };
    }
    tensor(layer, &shape, dx)
}

/// Softmax over the last axis.
pub(crate) fn softmax_forward(
    layer: &Layer,
    x: Tensor,
    mode: &Mode<'_>,
) -> Result<(Tensor, Cache), NnError> {
    let shape = x.shape().to_vec();
    let classes = shape.last().copied().unwrap_or(0).max(1);
    let mut y = into_values(x);
    for row in y.chunks_exact_mut(classes) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0;
        for v in row.iter_mut() {
            *v = (*v - max).exp();
            sum += *v;
        }
        row.iter_mut().for_each(|v| *v /= sum);
    }
    let y = tensor(layer, &shape, y)?;
    let cache = mode.keep(|| Cache::Output(y.clone()));
    Ok((y, cache))
}

/// Gradient of [`softmax_forward`] from its output `y`.
pub(crate) fn softmax_backward(layer: &Layer, y: &Tensor, dy: Tensor) -> Result<Tensor, NnError> {
    let shape = dy.shape().to_vec();
    let classes = shape.last().copied().unwrap_or(0).max(1);
    let mut dx = into_values(dy);
    let y = values(y);
    if y.len() != dx.len() {
        return Err(layer.shape_error(&format!("a gradient of {} values", y.len()), &shape));
    }
    for (d_row, y_row) in dx.chunks_exact_mut(classes).zip(y.chunks_exact(classes)) {
        let dot: f32 = d_row.iter().zip(y_row).map(|(d, y)| d * y).sum();
        d_row
            .iter_mut()
            .zip(y_row)
            .for_each(|(d, y)| *d = y * (*d - dot));
    }
    tensor(layer, &shape, dx)
}
