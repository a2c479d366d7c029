//! Max and average pooling, 1-D and 2-D (TFLite MAX_POOL_2D, AVERAGE_POOL_2D; 1-D as height 1).
//!
//! Shapes: `x: [N, H, W, C]` (1-D `[N, W, C]`) → `y: [N, oh, ow, C]`, windows and padding as
//! TFLite (`geometry.rs`). Padding is never a value: a window's max and mean are over its
//! in-bounds positions only, as TensorFlow computes them with `padding="same"`.
//!
//! ```text
//! max   forward   y[n, o, c] = max_{k in window(o)} x[n, k, c]     (the winner k* is cached)
//!       backward  dx[n, k*, c] += dy[n, o, c]
//! avg   forward   y[n, o, c] = (1/|window(o)|) Σ_{k in window(o)} x[n, k, c]
//!       backward  dx[n, k, c] += dy[n, o, c] / |window(o)|   for every k in window(o)
//! ```

use super::conv::batch_output_shape;
use super::{Cache, Layer, Mode, tensor, values};
use crate::nn::{NnError, Tensor};

/// Max pooling forward; caches the winning input index of every output when training.
pub(crate) fn max_forward(
    layer: &Layer,
    x: Tensor,
    mode: &Mode<'_>,
) -> Result<(Tensor, Cache), NnError> {
    let shape = x.shape().to_vec();
    let windows = layer.batch_windows(&shape)?;
    // Winners are stored as u32, the width of the values, so the loop below vectorises.
    if u32::try_from(windows.input_len()).is_err() {
        return Err(layer.shape_error("fewer than 2³² values in a batch", &shape));
    }
    let c = windows.c;
    let x = values(&x);
    let mut y = vec![f32::NEG_INFINITY; windows.pixels() * c];
    let mut indices = if mode.is_train() {
        vec![0; y.len()]
    } else {
        Vec::new()
    };
    windows.for_each_window(|pixel, spans| {
        let range = pixel * c..(pixel + 1) * c;
        let Some(out) = y.get_mut(range.clone()) else {
            return;
        };
        let mut winners = indices.get_mut(range);
        for span in spans {
            let Some(xs) = x.get(span.input..span.input + span.len) else {
                continue;
            };
            match winners.as_deref_mut() {
                Some(winners) => max_with_winners(out, winners, xs, span.input as u32),
                None => {
                    for x_px in xs.chunks_exact(c) {
                        out.iter_mut().zip(x_px).for_each(|(o, &v)| *o = o.max(v));
                    }
                }
            }
        }
    });
    let y = tensor(layer, &batch_output_shape(&shape, &windows, c), y)?;
    let cache = mode.keep(|| Cache::Argmax { indices, shape });
    Ok((y, cache))
}

/// Folds the pixels of `xs` (a run starting at flat input index `first`) into the running
/// maxima `out` and their input indices `winners`, channel by channel. Selects, not branches:
/// which value wins is unpredictable.
fn max_with_winners(out: &mut [f32], winners: &mut [u32], xs: &[f32], first: u32) {
    let c = out.len().max(1);
    for (pixel, x_px) in xs.chunks_exact(c).enumerate() {
        let base = first + (pixel * c) as u32;
        for (lane, ((o, w), &v)) in out.iter_mut().zip(winners.iter_mut()).zip(x_px).enumerate() {
            let old = *o;
            *o = old.max(v);
            // All ones where `v` wins: a bit select that vectorises (an `if` does not).
            let wins = 0u32.wrapping_sub(u32::from(v > old));
            *w = (*w & !wins) | ((base + lane as u32) & wins);
        }
    }
}

/// Max pooling backward: each output's gradient goes to its winning input.
pub(crate) fn max_backward(
    layer: &Layer,
    indices: &[u32],
    x_shape: &[usize],
    dy: Tensor,
) -> Result<Tensor, NnError> {
    let mut dx = vec![0.0; x_shape.iter().product()];
    for (&index, g) in indices.iter().zip(values(&dy).iter()) {
        if let Some(d) = dx.get_mut(index as usize) {
            *d += g;
        }
    }
    tensor(layer, x_shape, dx)
}

/// Average pooling forward.
pub(crate) fn avg_forward(
    layer: &Layer,
    x: Tensor,
    mode: &Mode<'_>,
) -> Result<(Tensor, Cache), NnError> {
    let shape = x.shape().to_vec();
    let windows = layer.batch_windows(&shape)?;
    let c = windows.c;
    let x = values(&x);
    let mut y = vec![0.0; windows.pixels() * c];
    windows.for_each_window(|pixel, spans| {
        let Some(out) = y.get_mut(pixel * c..(pixel + 1) * c) else {
            return;
        };
        let mut count = 0;
        for span in spans {
            let Some(xs) = x.get(span.input..span.input + span.len) else {
                continue;
            };
            for x_px in xs.chunks_exact(c) {
                out.iter_mut().zip(x_px).for_each(|(o, v)| *o += v);
                count += 1;
            }
        }
        let scale = 1.0 / count.max(1) as f32;
        out.iter_mut().for_each(|o| *o *= scale);
    });
    let y = tensor(layer, &batch_output_shape(&shape, &windows, c), y)?;
    let cache = mode.keep(|| Cache::Shape(shape));
    Ok((y, cache))
}

/// Average pooling backward: each output's gradient shared evenly by its window.
pub(crate) fn avg_backward(
    layer: &Layer,
    x_shape: &[usize],
    dy: Tensor,
) -> Result<Tensor, NnError> {
    let windows = layer.batch_windows(x_shape)?;
    let c = windows.c;
    let dy = values(&dy);
    let mut dx = vec![0.0; windows.input_len()];
    windows.for_each_window(|pixel, spans| {
        let Some(g) = dy.get(pixel * c..(pixel + 1) * c) else {
            return;
        };
        let count: usize = spans.iter().map(|s| s.len / c).sum();
        let scale = 1.0 / count.max(1) as f32;
        for span in spans {
            let Some(dxs) = dx.get_mut(span.input..span.input + span.len) else {
                continue;
            };
            for dx_px in dxs.chunks_exact_mut(c) {
                dx_px.iter_mut().zip(g).for_each(|(d, g)| *d += g * scale);
            }
        }
    });
    tensor(layer, x_shape, dx)
}
