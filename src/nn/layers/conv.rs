//! Convolution, 1-D and 2-D, TensorFlow Lite CONV_2D (a 1-D convolution is a 2-D one of height
//! 1, which is how TFLite runs Keras's Conv1D).
//!
//! Shapes: `x: [N, H, W, C]` (1-D: `[N, W, C]`), OHWI weights `W: [F, kh, kw, C]` (1-D:
//! `[F, k, C]`), `b: [F]`, `y: [N, oh, ow, F]`; `oh, ow` and the padding follow TFLite's rules
//! (`geometry.rs`).
//!
//! The batch is lowered to its patch matrix `P = im2col(x): [N·oh·ow, kh·kw·C]`, whose rows are
//! in the same `[kh, kw, C]` order as a filter, so the convolution is one matrix product:
//!
//! ```text
//! forward    y = P · Wᵀ + b                         [N·oh·ow, F] = NHWC already
//! backward   dW = dyᵀ · P,   db = Σ_pixels dy,   dP = dy · W,   dx = col2im(dP)
//! ```
//! A 1×1 kernel with stride 1 needs no lowering: the input is its own patch matrix.

use super::linalg::{affine_backward, affine_forward};
use super::{Cache, Layer, Mode, ParamGrads, into_values, tensor};
use crate::nn::{NnError, Tensor};

/// Forward pass; caches the patch matrix when training.
pub(crate) fn forward(
    layer: &Layer,
    weights: &[f32],
    bias: &[f32],
    x: Tensor,
    mode: &Mode<'_>,
) -> Result<(Tensor, Cache), NnError> {
    let shape = x.shape().to_vec();
    let windows = layer.batch_windows(&shape)?;
    let patches = if windows.is_pointwise() {
        into_values(x)
    } else {
        windows.im2col(&super::values(&x))
    };
    let y = affine_forward(&patches, windows.pixels(), weights, bias)?;
    let y = tensor(layer, &batch_output_shape(&shape, &windows, bias.len()), y)?;
    let cache = mode.keep(|| Cache::Input {
        values: patches,
        shape,
    });
    Ok((y, cache))
}

/// Backward pass from the cached patch matrix: `(dx, [dW, db])`.
pub(crate) fn backward(
    layer: &Layer,
    weights: &[f32],
    patches: &[f32],
    x_shape: &[usize],
    dy: Tensor,
    need_dx: bool,
) -> Result<(Option<Tensor>, ParamGrads), NnError> {
    let windows = layer.batch_windows(x_shape)?;
    let (d_patches, d_weights, d_bias) = affine_backward(
        patches,
        windows.pixels(),
        weights,
        &super::values(&dy),
        need_dx,
    )?;
    let dx = match d_patches {
        Some(d_patches) if windows.is_pointwise() => Some(tensor(layer, x_shape, d_patches)?),
        Some(d_patches) => Some(tensor(layer, x_shape, windows.col2im(&d_patches))?),
        None => None,
    };
    Ok((dx, vec![d_weights, d_bias]))
}

/// The output shape for a batch input shape: `[N, ow, F]` for 1-D inputs (`[N, W, C]`),
/// `[N, oh, ow, F]` for 2-D.
pub(crate) fn batch_output_shape(
    input: &[usize],
    windows: &super::geometry::Windows,
    channels: usize,
) -> Vec<usize> {
    if input.len() == 3 {
        vec![windows.n, windows.ow, channels]
    } else {
        vec![windows.n, windows.oh, windows.ow, channels]
    }
}
