//! Depthwise 2-D convolution with depth multiplier 1, TensorFlow Lite DEPTHWISE_CONV_2D: each
//! channel is convolved with its own `kh × kw` kernel.
//!
//! Shapes: `x: [N, H, W, C]`, weights `W: [1, kh, kw, C]`, `b: [C]`, `y: [N, oh, ow, C]`
//! (Keras's kernel `[kh, kw, C, 1]` holds the same values in the same order).
//!
//! ```text
//! forward    y[n, o, c] = b[c] + Σ_{k in window(o)} x[n, k, c] · W[k, c]
//! backward   dW[k, c] = Σ_{n, o} dy[n, o, c] · x[n, k(o), c]
//!            db[c]    = Σ_{n, o} dy[n, o, c]
//!            dx[n, k(o), c] += dy[n, o, c] · W[k, c]
//! ```
//! Each window is walked as contiguous runs of whole pixels (`geometry.rs`): a run of the input
//! lines up with the same run of the kernel, channel by channel.

use super::conv::batch_output_shape;
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
    let shape = x.shape().to_vec();
    let windows = layer.batch_windows(&shape)?;
    let c = windows.c;
    let x = into_values(x);
    let mut y: Vec<f32> = Vec::with_capacity(windows.pixels() * c);
    for _ in 0..windows.pixels() {
        y.extend_from_slice(bias);
    }
    windows.for_each_window(|pixel, spans| {
        let Some(out) = y.get_mut(pixel * c..(pixel + 1) * c) else {
            return;
        };
        for span in spans {
            let (Some(xs), Some(ws)) = (
                x.get(span.input..span.input + span.len),
                weights.get(span.patch..span.patch + span.len),
            ) else {
                continue;
            };
            for (x_px, w_px) in xs.chunks_exact(c).zip(ws.chunks_exact(c)) {
                for ((o, xv), wv) in out.iter_mut().zip(x_px).zip(w_px) {
                    *o += xv * wv;
                }
            }
        }
    });
    let y = tensor(layer, &batch_output_shape(&shape, &windows, c), y)?;
    let cache = mode.keep(|| Cache::Input { values: x, shape });
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
    let windows = layer.batch_windows(x_shape)?;
    let c = windows.c;
    let dy = values(&dy);
    let mut d_weights = vec![0.0; weights.len()];
    let mut d_bias = vec![0.0; c];
    let mut dx = if need_dx {
        vec![0.0; x.len()]
    } else {
        Vec::new()
    };
    windows.for_each_window(|pixel, spans| {
        let Some(g) = dy.get(pixel * c..(pixel + 1) * c) else {
            return;
        };
        d_bias.iter_mut().zip(g).for_each(|(d, g)| *d += g);
        for span in spans {
            let (Some(xs), Some(dws)) = (
                x.get(span.input..span.input + span.len),
                d_weights.get_mut(span.patch..span.patch + span.len),
            ) else {
                continue;
            };
            for (x_px, dw_px) in xs.chunks_exact(c).zip(dws.chunks_exact_mut(c)) {
                for ((dw, xv), gv) in dw_px.iter_mut().zip(x_px).zip(g) {
                    *dw += xv * gv;
                }
            }
            let (Some(dxs), Some(ws)) = (
                dx.get_mut(span.input..span.input + span.len),
                weights.get(span.patch..span.patch + span.len),
            ) else {
                continue;
            };
            for (dx_px, w_px) in dxs.chunks_exact_mut(c).zip(ws.chunks_exact(c)) {
                for ((d, wv), gv) in dx_px.iter_mut().zip(w_px).zip(g) {
                    *d += wv * gv;
                }
            }
        }
    });
    let dx = if need_dx {
        Some(tensor(layer, x_shape, dx)?)
    } else {
        None
    };
    Ok((dx, vec![d_weights, d_bias]))
}
