//! Flatten and reshape (TFLite RESHAPE): the values stay in row-major order, only the
//! per-sample shape changes.
//!
//! ```text
//! forward    y = x viewed as [N, ..shape]      (flatten: shape = [product of x's sample axes])
//! backward   dx = dy viewed as x's shape
//! ```

use super::{Cache, Layer, Mode, into_values, per_sample, tensor};
use crate::nn::{NnError, Tensor};

/// Forward pass: the same values under the layer's output shape.
pub(crate) fn forward(
    layer: &Layer,
    x: Tensor,
    mode: &Mode<'_>,
) -> Result<(Tensor, Cache), NnError> {
    let shape = x.shape().to_vec();
    let (n, sample) = per_sample(&shape);
    let mut out = vec![n];
    out.extend(layer.output_shape(sample)?);
    let y = tensor(layer, &out, into_values(x))?;
    let cache = mode.keep(|| Cache::Shape(shape));
    Ok((y, cache))
}

/// Gradient: `dy` under the input shape.
pub(crate) fn backward(layer: &Layer, x_shape: &[usize], dy: Tensor) -> Result<Tensor, NnError> {
    tensor(layer, x_shape, into_values(dy))
}
