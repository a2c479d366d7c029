//! Global average pooling (TFLite MEAN over the spatial axes): `[N, .., C] → [N, C]`, for 1-D
//! (`[W, C]`) and 2-D (`[H, W, C]`) samples.
//!
//! ```text
//! forward    y[n, c] = (1/S) Σ_s x[n, s, c]          S = number of positions (W or H·W)
//! backward   dx[n, s, c] = dy[n, c] / S
//! ```

use super::{Cache, Layer, Mode, per_sample, tensor, values};
use crate::nn::{NnError, Tensor};

/// Forward pass.
pub(crate) fn forward(
    layer: &Layer,
    x: Tensor,
    mode: &Mode<'_>,
) -> Result<(Tensor, Cache), NnError> {
    let shape = x.shape().to_vec();
    let (n, sample) = per_sample(&shape);
    let c = *layer.output_shape(sample)?.first().unwrap_or(&1);
    let positions = sample.iter().product::<usize>() / c.max(1);
    let scale = 1.0 / positions.max(1) as f32;
    let mut y = vec![0.0; n * c];
    let x_values = values(&x);
    for (out, sample_values) in y
        .chunks_exact_mut(c.max(1))
        .zip(x_values.chunks_exact((positions * c).max(1)))
    {
        for pixel in sample_values.chunks_exact(c.max(1)) {
            out.iter_mut().zip(pixel).for_each(|(o, v)| *o += v);
        }
        out.iter_mut().for_each(|o| *o *= scale);
    }
    let y = tensor(layer, &[n, c], y)?;
    let cache = mode.keep(|| Cache::Shape(shape));
    Ok((y, cache))
}

/// Backward pass: `dy` spread evenly over the positions.
pub(crate) fn backward(layer: &Layer, x_shape: &[usize], dy: Tensor) -> Result<Tensor, NnError> {
    let c = x_shape.last().copied().unwrap_or(1).max(1);
    let per_sample: usize = x_shape.get(1..).unwrap_or(&[]).iter().product();
    let positions = per_sample / c;
    let scale = 1.0 / positions.max(1) as f32;
    let dy = values(&dy);
    let mut dx = Vec::with_capacity(x_shape.iter().product());
    for g in dy.chunks_exact(c) {
        for _ in 0..positions {
            dx.extend(g.iter().map(|v| v * scale));
        }
    }
    tensor(layer, x_shape, dx)
}
